"""Data quality: each check finds its seeded defect (count and place) and nothing on clean data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apps.cli.test_cli import cli
from tests.fakes.exchange import MINUTE_MS, FakeBinance, walk
from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore
from tradeops.data.fetch import FetchPolicy, fetch_dataset, open_exchange
from tradeops.data.fields import FIELDS
from tradeops.data.quality import QualityReport, check_bars, check_frames
from tradeops.data.quality_thresholds import CHECK_NAMES, DataQuality
from tradeops.data.samples import synthetic
from tradeops.store.objects import FolderObjectStore

pytestmark = pytest.mark.req("DC-30")
NOW = datetime(2024, 6, 1, tzinfo=UTC)
EPOCH = pd.Timestamp("1970-01-01")


def hourly(bars: int = 1500, seed: int = 3) -> pd.DataFrame:
    """Clean 24/7 hourly bars (a crypto market): the synthetic walk re-stamped every hour from 2024-01-01."""
    frame = synthetic(bars=bars, seed=seed).drop(columns="symbol")
    frame["timestamp"] = pd.date_range("2024-01-01", periods=bars, freq="1h")
    return frame


def counts(report: QualityReport) -> dict[str, int]:
    return {check.name: check.count for check in report.checks}


def check(report: QualityReport, name: str):
    return next(c for c in report.checks if c.name == name)


def at(frame: pd.DataFrame, row: int) -> str:
    return pd.Timestamp(frame["timestamp"].iloc[row]).isoformat()


def _missing(frame):
    return frame.drop(index=range(400, 412)).reset_index(drop=True), 12, 399


def _duplicate(frame):
    return pd.concat([frame.iloc[:501], frame.iloc[500:]], ignore_index=True), 1, 501  # bar 500 twice


def _backward(frame):
    frame.loc[[600, 601], "timestamp"] = frame.loc[[601, 600], "timestamp"].to_numpy()
    return frame, 1, 601


def _ohlc(frame):
    frame.loc[700, "high"] = frame.loc[700, "close"] * 0.9
    frame.loc[900, "close"] = 1e300
    frame.loc[900, "high"] = 1e300
    return frame, 2, 700


def _future(frame):
    frame["timestamp"] = frame["timestamp"] + (pd.Timestamp(NOW).tz_localize(None) - frame["timestamp"].iloc[-3])
    return frame, 2, len(frame) - 2


def _spike(frame):
    frame.loc[800, ["close", "high"]] = frame.loc[800, "close"] * 1.6
    frame.loc[801, "open"] = frame.loc[800, "close"]
    frame.loc[801, "high"] = frame.loc[801, ["open", "close"]].max()
    return frame, 1, 800


def _stale(frame):
    frame.loc[1000:1006, ["open", "high", "low", "close"]] = frame.loc[999, "close"]
    return frame, 1, 1000


def _zero_volume(frame):
    frame.loc[1100:1111, "volume"] = 0.0
    return frame, 1, 1100


SEEDED = {
    "missing_bars": _missing,
    "duplicate_bars": _duplicate,
    "backward_bars": _backward,
    "ohlc_errors": _ohlc,
    "future_bars": _future,
    "spikes": _spike,
    "stale_runs": _stale,
    "zero_volume_runs": _zero_volume,
}


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_dc_30_each_check_finds_its_seeded_defect_with_its_count_and_place(name):
    frame, expected, row = SEEDED[name](hourly())
    report = check_frames({"BTC/USDT": frame}, timeframe="1h", now=NOW)
    found = check(report, name)
    assert found.count == expected and not found.passed and found.limit == 0
    assert found.where[0]["symbol"] == "BTC/USDT" and found.where[0]["at"] == at(frame, row)
    others = {other: count for other, count in counts(report).items() if other != name}
    assert set(others.values()) == {0}, others
    assert not report.passed and report.failed == [found] and report.summary().startswith(f"{name} {expected} > 0")


@pytest.mark.parametrize("reference", ["sample:GOOG", "sample:EURUSD", "sample:synthetic?symbols=3"])
def test_dc_30_real_and_synthetic_samples_are_clean(reference):
    report = check_bars(load_bars(reference))
    assert report.passed and set(counts(report).values()) == {0}, report.summary()
    assert report.timeframe in {"1d", "1h"} and report.calendar.startswith("closes")


def test_dc_30_a_clean_around_the_clock_market_is_clean_and_must_have_every_bar():
    clean = hourly(61 * 24)  # Monday 2024-01-01 to Friday 2024-03-01 23:00
    report = check_frames({"BTC/USDT": clean}, now=NOW)  # the timeframe is inferred: 1h
    assert report.passed and report.timeframe == "1h" and report.calendar.startswith("trades every day")
    weekend = clean[pd.DatetimeIndex(clean["timestamp"]).day_of_week < 5].reset_index(drop=True)
    dropped = len(clean) - len(weekend)
    assert counts(check_frames({"BTC/USDT": weekend}, timeframe="1h", now=NOW))["missing_bars"] == 0
    # the weekday-only market closes (no Saturday bars); the same bars with one Saturday bar left in do not
    weekend_hole = pd.concat([weekend, clean[clean["timestamp"] == pd.Timestamp("2024-01-06 12:00")]])
    weekend_hole = weekend_hole.sort_values("timestamp").reset_index(drop=True)
    assert counts(check_frames({"BTC/USDT": weekend_hole}, timeframe="1h", now=NOW))["missing_bars"] == dropped - 1


def frame_of(bars) -> pd.DataFrame:
    return pd.DataFrame({"timestamp": bars.index} | {f: getattr(bars, f)[:, 0] for f in FIELDS})


def test_dc_30_weekday_markets_count_holes_inside_trading_days_but_not_weekends_or_holidays(goog, eurusd):
    fx = frame_of(eurusd)
    tuesday = fx.index[pd.DatetimeIndex(fx["timestamp"]).day_of_week == 1][30]
    holed = fx.drop(index=range(tuesday, tuesday + 4)).reset_index(drop=True)
    found = check(check_frames({"EURUSD": holed}, timeframe="1h", now=NOW), "missing_bars")
    assert found.count == 4 and found.where[0]["at"] == at(fx, tuesday - 1)
    daily = frame_of(goog)
    one_day = daily.drop(index=[200]).reset_index(drop=True)  # cannot be told from a holiday without a calendar
    assert check(check_frames({"GOOG": one_day}, timeframe="1d", now=NOW), "missing_bars").count == 0
    week = daily.drop(index=range(200, 205)).reset_index(drop=True)  # five trading days: not a closure
    found = check(check_frames({"GOOG": week}, timeframe="1d", now=NOW), "missing_bars")
    assert found.count == 5 and found.where[0]["at"] == at(daily, 199)
    strict = DataQuality(closure_max_weekdays=0)  # every holiday counts then: one more with the seeded one
    holidays = check(check_frames({"GOOG": daily}, strict, timeframe="1d", now=NOW), "missing_bars").count
    assert holidays > 50
    assert check(check_frames({"GOOG": one_day}, strict, timeframe="1d", now=NOW), "missing_bars").count == holidays + 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(min_value=5, max_value=1490), kind=st.sampled_from(["spikes", "stale_runs", "missing_bars"]))
def test_dc_30_a_defect_seeded_at_a_random_bar_is_found_at_that_bar(row, kind):
    frame = hourly()
    if kind == "spikes":
        frame.loc[row, ["close", "high"]] = frame.loc[row, "close"] * 1.8
        frame.loc[row + 1, "open"] = frame.loc[row, "close"]
        frame.loc[row + 1, "high"] = frame.loc[row + 1, ["open", "close"]].max()
        expected_at = at(frame, row)
    elif kind == "stale_runs":
        frame.loc[row : row + 5, ["open", "high", "low", "close"]] = frame.loc[row - 1, "close"]
        expected_at = at(frame, row)
    else:
        expected_at = at(frame, row - 1)
        frame = frame.drop(index=[row, row + 1]).reset_index(drop=True)
    found = check(check_frames({"X": frame}, timeframe="1h", now=NOW), kind)
    assert found.count == (2 if kind == "missing_bars" else 1) and found.where[0]["at"] == expected_at


def test_dc_30_thresholds_come_from_one_model_and_switch_checks_off():
    frame, _, _ = _missing(hourly())
    relaxed = DataQuality(max_missing_bars=12)
    assert check_frames({"X": frame}, relaxed, timeframe="1h", now=NOW).passed
    off = check(check_frames({"X": frame}, DataQuality(max_missing_bars=None), timeframe="1h", now=NOW), "missing_bars")
    assert off.count == 12 and off.passed and off.limit is None


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def test_dc_30_data_check_exits_0_clean_1_defective_2_bad_input(data_dir, monkeypatch, capsys):
    clean, seeded = data_dir / "clean.csv", data_dir / "seeded.csv"
    hourly().to_csv(clean, index=False)
    frame, _, _ = _stale(_spike(_missing(hourly())[0])[0])
    frame.to_csv(seeded, index=False)
    for path, name in ((clean, "clean-1h"), (seeded, "seeded-1h")):
        code, _, err = cli(monkeypatch, capsys, "data", "import", str(path), "--dataset", name, "--symbol", "BTC/USDT")
        assert code == 0, err
    code, out, _ = cli(monkeypatch, capsys, "data", "check", "clean-1h")
    assert code == 0 and "passed (exit 0)" in out
    code, out, _ = cli(monkeypatch, capsys, "data", "check", "dataset:seeded-1h", "--json")
    payload = json.loads(out)
    assert code == 1 and not payload["passed"] and payload["timeframe"] == "1h"
    found = {c["name"]: c for c in payload["checks"] if c["count"]}
    assert {name: c["count"] for name, c in found.items()} == {"missing_bars": 12, "spikes": 1, "stale_runs": 1}
    assert found["missing_bars"]["where"][0]["at"] == "2024-01-17T15:00:00"
    relaxed = ("-t", "max_missing_bars=12", "-t", "max_spikes=1")
    code, out, _ = cli(monkeypatch, capsys, "data", "check", "seeded-1h", *relaxed)
    assert code == 1 and "FAILED: stale_runs 1 > 0" in out and "spikes" in out
    code, _, err = cli(monkeypatch, capsys, "data", "check", "nothing-here")
    assert code == 2 and "no such dataset" in err
    code, _, err = cli(monkeypatch, capsys, "data", "check", "seeded-1h", "-t", "max_spike=1")
    assert code == 2 and "max_spike" in err and "Traceback" not in err
    code, out, _ = cli(monkeypatch, capsys, "data", "show", "seeded-1h")
    assert code == 0 and "quality at" in out and "FAILED" in out and "stale_runs: 1 (limit 0)" in out


def test_dc_30_the_gate_on_defective_data_could_not_decide_and_names_the_check(data_dir, monkeypatch, capsys):
    frame, _, _ = _spike(hourly())
    path = data_dir / "spiky.csv"
    frame.to_csv(path, index=False)
    assert cli(monkeypatch, capsys, "data", "import", str(path), "--dataset", "spiky-1h", "--symbol", "X")[0] == 0
    args = ("gate", "--strategy", "sma_cross", "--data", "dataset:spiky-1h")
    code, out, _ = cli(monkeypatch, capsys, *args, "--json")
    verdict = json.loads(out)
    assert code == 2 and verdict["exit_code"] == 2 and not verdict["passed"] and verdict["result"] is None
    assert verdict["error"].startswith("data quality: spikes 1 > 0")
    failing = [c for c in verdict["checks"] if not c["passed"]]
    assert [(c["name"], c["group"], c["value"]) for c in failing] == [("spikes", "data_quality", 1.0)]
    code, out, _ = cli(monkeypatch, capsys, *args)
    assert code == 2 and "UNDECIDED (exit 2): data quality: spikes" in out
    code, out, _ = cli(monkeypatch, capsys, *args, "--threshold", "max_spikes=1", "--json")
    assert code in (0, 1) and json.loads(out)["error"] is None  # judged once the spike is allowed


def test_dc_30_fetch_records_each_check_in_the_manifest(tmp_path):
    fake = FakeBinance()
    try:
        start = 1_700_000_040_000
        candles = walk(start, 600)
        del candles[100:130]  # the venue lost half an hour
        fake.add_market("BTC", "USDT", candles)
        fake.now_ms = start + 600 * MINUTE_MS
        store = DatasetStore(FolderObjectStore(tmp_path / "objects"))
        report = fetch_dataset(
            store,
            open_exchange("binance", base_url=fake.url),
            dataset="btc-1m",
            symbols=["BTC/USDT"],
            timeframe="1m",
            since=pd.Timestamp(start, unit="ms").to_pydatetime(),
            policy=FetchPolicy(attempts=2, backoff_seconds=0.01),
        )
    finally:
        fake.stop()
    quality = report.manifest.quality
    recorded = {c["name"]: (c["count"], c["passed"]) for c in quality["checks"]}
    assert set(recorded) == set(CHECK_NAMES) and quality["timeframe"] == "1m" and not quality["passed"]
    assert recorded["missing_bars"] == (30, False) and all(recorded[n] == (0, True) for n in CHECK_NAMES[1:])
    assert DatasetStore(store.objects).versions("btc-1m")[-1].quality == quality


def test_dc_30_an_import_with_an_implausible_time_unit_or_price_is_refused_with_the_reason(
    data_dir, monkeypatch, capsys
):
    seconds = data_dir / "seconds.csv"
    frame = hourly(200)
    frame["timestamp"] = (frame["timestamp"] - EPOCH) // pd.Timedelta("1s")  # epoch seconds
    frame.to_csv(seconds, index=False)
    code, _, err = cli(monkeypatch, capsys, "data", "import", str(seconds), "--dataset", "s", "--time-unit", "ms")
    assert code == 2 and "first bar at 1970-01-20" in err and "before 1990" in err and "--time-unit" in err
    assert cli(monkeypatch, capsys, "data", "import", str(seconds), "--dataset", "s")[0] == 0  # detected: seconds
    absurd = data_dir / "absurd.csv"
    frame = hourly(200)
    frame.loc[50, ["close", "high"]] = 1e300
    frame.to_csv(absurd, index=False)
    code, _, err = cli(monkeypatch, capsys, "data", "import", str(absurd), "--dataset", "a")
    assert code == 2 and "row 51" in err and "price above 1e+12 is implausible" in err
    odd = data_dir / "odd.csv"
    frame = hourly(200)
    frame["timestamp"] = pd.date_range("2024-01-01", periods=200, freq="86s")
    frame.to_csv(odd, index=False)
    code, _, err = cli(monkeypatch, capsys, "data", "import", str(odd), "--dataset", "o")
    assert code == 2 and "median 86s apart, not a bar length venues offer" in err
    future = data_dir / "future.csv"
    frame = hourly(200)
    frame["timestamp"] = pd.date_range(pd.Timestamp.now() + pd.Timedelta(days=3), periods=200, freq="1h")
    frame.to_csv(future, index=False)
    code, _, err = cli(monkeypatch, capsys, "data", "import", str(future), "--dataset", "f")
    assert code == 2 and "after tomorrow" in err
    assert not (data_dir / "data" / "objects" / "datasets" / "a").exists()


def test_dc_30_backtest_on_an_epoch_file_points_at_data_import(data_dir, monkeypatch, capsys):
    path = data_dir / "binance.csv"
    frame = hourly(300)
    frame["timestamp"] = (frame["timestamp"] - EPOCH) // pd.Timedelta("1ms")  # an exchange's epoch milliseconds
    frame.to_csv(path, index=False)
    code, _, err = cli(monkeypatch, capsys, "backtest", "run", "--strategy", "sma_cross", "--data", str(path))
    assert code == 2 and "holds epoch numbers" in err and "tradeops data import" in err and "dataset:NAME" in err
