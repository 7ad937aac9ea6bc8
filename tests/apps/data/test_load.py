"""Loading and validating market data: real samples, files, and every kind of bad input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import rewrite
from tradeops.data import load_bars
from tradeops.data.samples import synthetic
from tradeops.errors import DataError

pytestmark = pytest.mark.req("DC-7")


def test_dc_7_real_samples_load_with_their_known_shape(goog, eurusd):
    assert (goog.n_bars, goog.symbols) == (2148, ("GOOG",))
    assert goog.index[0] == pd.Timestamp("2004-08-19")
    assert (eurusd.n_bars, eurusd.symbols) == (5000, ("EURUSD",))
    assert 250 < goog.bars_per_year() < 254
    assert goog.fingerprint() == load_bars("sample:GOOG").fingerprint()
    assert goog.fingerprint() != eurusd.fingerprint()


def test_dc_7_csv_and_parquet_give_identical_bars(goog_csv, tmp_path):
    from_csv = load_bars(str(goog_csv))
    parquet = tmp_path / "goog.parquet"
    pd.read_csv(goog_csv).to_parquet(parquet)
    from_parquet = load_bars(str(parquet))
    assert from_csv.n_bars == 300
    assert from_csv.fingerprint() == from_parquet.fingerprint()


def test_dc_7_long_format_loads_many_symbols(tmp_path):
    frame = synthetic(symbols=3, bars=50, seed=1)
    path = tmp_path / "basket.csv"
    frame.to_csv(path, index=False)
    bars = load_bars(str(path))
    assert bars.symbols == ("SYN000", "SYN001", "SYN002")
    assert bars.close.shape == (50, 3)
    np.testing.assert_array_equal(bars.close[:, 1], frame[frame.symbol == "SYN001"]["close"].to_numpy())


def test_dc_7_synthetic_sample_is_deterministic_and_valid():
    first = load_bars("sample:synthetic?symbols=4&bars=300&seed=7")
    again = load_bars("sample:synthetic?symbols=4&bars=300&seed=7")
    other = load_bars("sample:synthetic?symbols=4&bars=300&seed=8")
    assert first.fingerprint() == again.fingerprint() != other.fingerprint()
    assert first.close.shape == (300, 4)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda f: f.__setitem__("close", f["close"].where(f.index != 17)),
            r"row 18 \(2004-09-14.*column 'close': missing value",
        ),
        (lambda f: f.loc.__setitem__((5, "date"), f.loc[4, "date"]), r"row 6 .*duplicate timestamp"),
        (lambda f: f.loc.__setitem__((5, "date"), "2004-01-01"), r"row 6 .*not sorted"),
        (lambda f: f.loc.__setitem__((9, "high"), f.loc[9, "low"] - 1), r"row 10 .*'high': high is below"),
        (lambda f: f.loc.__setitem__((9, "low"), f.loc[9, "high"] + 1), r"row 10 .*'low': low is above"),
        (lambda f: f.loc.__setitem__((3, "open"), -1.0), r"row 4 .*'open': price must be > 0"),
        (lambda f: f.loc.__setitem__((3, "volume"), -5), r"row 4 .*'volume': volume must be >= 0"),
        (
            lambda f: f.__setitem__("open", f["open"].astype(object).where(f.index != 2, "abc")),
            r"row 3 .*'open': 'abc' is not a number",
        ),
        (lambda f: f.__setitem__("date", f["date"].where(f.index != 4, "yesterday")), r"row 5, column 'timestamp'"),
    ],
    ids=["nan", "duplicate", "unsorted", "high", "low", "price", "volume", "text", "date"],
)
def test_dc_7_bad_rows_are_named_with_file_row_and_column(goog_csv, change, expected):
    rewrite(goog_csv, change)
    with pytest.raises(DataError, match=expected) as raised:
        load_bars(str(goog_csv))
    assert str(goog_csv) in str(raised.value)


def test_dc_7_many_problems_are_counted_not_hidden(goog_csv):
    rewrite(goog_csv, lambda f: f.__setitem__("close", np.nan))
    with pytest.raises(DataError, match=r"(?s)300 invalid value\(s\).*and 295 more"):
        load_bars(str(goog_csv))


def test_dc_7_loading_never_changes_the_source_file(goog_csv):
    rewrite(goog_csv, lambda f: f.__setitem__("close", f["close"].where(f.index != 3)))
    before = goog_csv.read_bytes()
    with pytest.raises(DataError):
        load_bars(str(goog_csv))
    assert goog_csv.read_bytes() == before


def test_dc_7_gaps_are_rejected_only_when_asked(goog_csv):
    rewrite(goog_csv, lambda f: f.drop(index=range(100, 120)))
    assert load_bars(str(goog_csv)).n_bars == 280
    with pytest.raises(DataError, match=r"row 101 .*gap from the row before exceeds 7 days"):
        load_bars(str(goog_csv), max_gap="7D")
    with pytest.raises(DataError, match="not a duration"):
        load_bars(str(goog_csv), max_gap="soon")


def test_dc_7_symbols_on_different_timelines_are_refused(tmp_path):
    frame = synthetic(symbols=2, bars=30, seed=1)
    frame = frame.drop(index=frame[(frame.symbol == "SYN001")].index[5])
    path = tmp_path / "ragged.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match="SYN000 and SYN001 have different timelines"):
        load_bars(str(path))


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("sample:NOPE", "unknown sample 'NOPE'"),
        ("sample:synthetic?color=red", "unknown option"),
        ("sample:synthetic?bars=ten", "must be a whole number"),
        ("sample:synthetic?bars=0", "out of range"),
        ("sample:GOOG?bars=5", "takes no options"),
        ("missing.csv", "no such file"),
    ],
)
def test_dc_7_bad_references_say_what_is_wrong(reference, expected):
    with pytest.raises(DataError, match=expected):
        load_bars(reference)


def test_dc_7_wrong_columns_and_formats_are_explained(tmp_path: Path):
    no_volume = tmp_path / "a.csv"
    pd.DataFrame({"date": ["2020-01-01"], "open": [1], "high": [1], "low": [1], "close": [1]}).to_csv(
        no_volume, index=False
    )
    with pytest.raises(DataError, match=r"missing column.*volume"):
        load_bars(str(no_volume))
    no_time = tmp_path / "b.csv"
    pd.DataFrame({"open": [1], "high": [1], "low": [1], "close": [1], "volume": [1]}).to_csv(no_time, index=False)
    with pytest.raises(DataError, match="no timestamp column"):
        load_bars(str(no_time))
    text = tmp_path / "c.txt"
    text.write_text("hello")
    with pytest.raises(DataError, match="unsupported format"):
        load_bars(str(text))
    broken = tmp_path / "d.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot be read"):
        load_bars(str(broken))
    empty = tmp_path / "e.csv"
    empty.write_text("date,open,high,low,close,volume\n")
    with pytest.raises(DataError, match="no rows"):
        load_bars(str(empty))


def test_dc_7_bars_are_read_only(goog):
    with pytest.raises(ValueError, match="read-only"):
        goog.close[0, 0] = 1.0


def test_dc_7_times_with_offsets_become_one_utc_timeline(tmp_path):
    path = tmp_path / "tz.csv"
    path.write_text(
        "date,open,high,low,close,volume\n2024-01-02T10:00:00+01:00,1,2,0.5,1.5,1\n"
        "2024-01-02T10:00:00Z,1,2,0.5,1.5,1\n2024-07-02T10:00:00-04:00,1,2,0.5,1.5,1\n"
    )
    bars = load_bars(str(path))
    assert [str(t) for t in bars.index] == ["2024-01-02 09:00:00", "2024-01-02 10:00:00", "2024-07-02 14:00:00"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,open,high,low,close,volume\n1700000000,1,2,0.5,1.5,1\n", "holds epoch numbers.*tradeops data import"),
        ("date,open,high,low,close,volume\n2024-01-01,1,inf,0.5,1.5,1\n", "'high': price must be finite"),
        ("date,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,inf\n", "'volume': volume must be finite"),
        (
            "date,symbol,open,high,low,close,volume\n2024-01-01,A,1,2,0.5,1.5,1\n2024-01-01,,1,2,0.5,1.5,1\n",
            "row 2, column 'symbol': empty",
        ),
    ],
    ids=["epoch", "inf-price", "inf-volume", "blank-symbol"],
)
def test_dc_7_ambiguous_infinite_or_unnamed_rows_are_refused(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        load_bars(str(path))


def test_dc_7_synthetic_options_are_bounded_and_dates_checked():
    with pytest.raises(DataError, match="is not a date"):
        load_bars("sample:synthetic?start=yesterdayish")
    with pytest.raises(DataError, match="at most 20,000,000"):
        load_bars("sample:synthetic?symbols=2000&bars=1000000")


@pytest.mark.req("DC-18")
@pytest.mark.parametrize("unit", ["s", "us", "ns"])
@pytest.mark.parametrize("tz", [None, "UTC", "America/New_York"])
def test_dc_7_dc_18_a_bars_time_is_the_index_entry_as_a_datetime(goog, unit, tz):
    index = goog.index.as_unit(unit) + pd.Timedelta(hours=13, minutes=30, seconds=7)
    index = index if tz is None else index.tz_localize("UTC").tz_convert(tz)
    bars = dataclasses.replace(goog, index=index)
    for t in (0, 1, bars.n_bars // 2, bars.n_bars - 1):
        expected = index[t].to_pydatetime()
        assert bars.time(t) == expected and bars.time(t).tzinfo == expected.tzinfo
