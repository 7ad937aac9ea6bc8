"""`tradeops backtest optimize`: Optuna TPE over the parameter model, the study in our database (DC-21)."""

from __future__ import annotations

import json

import optuna
import pytest
from sqlalchemy import create_engine, text

from tests.apps.cli.test_cli import cli
from tradeops.store import RunStore
from tradeops.sweeps.optimize import storage_for

DATA = "sample:synthetic?bars=400&seed=9"
SEARCH = ["backtest", "optimize", "-s", "sma_cross", "-d", DATA, "--space", "fast=2:30", "--space", "slow=5:40"]


def trials_of(storage: str, study: str) -> list[optuna.trial.FrozenTrial]:
    url, options = storage_for(storage)
    return optuna.load_study(study_name=study, storage=optuna.storages.RDBStorage(url, engine_kwargs=options)).trials


def shared_study(monkeypatch, capsys, storage: str) -> list[optuna.trial.FrozenTrial]:
    args = [*SEARCH, "--trials", "16", "--workers", "2", "--storage", storage, "--study", "shared", "--no-gate"]
    code, out, err = cli(monkeypatch, capsys, *args, "--json")
    assert code == 0, err
    outcome = json.loads(out)
    trials = trials_of(storage, "shared")
    assert outcome["trials"] == len(trials) and 16 <= len(trials) <= 17  # the last two may race past the count
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both workers ran trials of the one study
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    assert all(t.params["fast"] >= t.params["slow"] for t in pruned)  # what the model's cross-field rule refuses
    assert all(t.params["fast"] < t.params["slow"] for t in done)
    assert outcome["best"]["value"] == max(t.value for t in done)
    assert outcome["states"]["complete"] == len(done) and outcome["states"]["pruned"] == len(pruned)
    return trials


@pytest.mark.req("DC-21")
def test_dc_21_two_workers_share_one_study_in_sqlite(monkeypatch, capsys, tmp_path):
    storage = f"sqlite:///{tmp_path / 'tradeops.db'}"
    shared_study(monkeypatch, capsys, storage)
    assert (tmp_path / "tradeops.optuna.db").is_file()  # beside ours: Optuna's migrations never meet ours
    code, out, _ = cli(monkeypatch, capsys, *SEARCH, "--trials", "20", "--storage", storage, "--study", "shared",
                       "--no-gate", "--json")  # fmt: skip
    assert code == 0 and 20 <= json.loads(out)["trials"] <= 21  # the same name resumes the study


@pytest.mark.req("DC-21")
def test_dc_21_two_workers_share_one_study_in_postgresql_beside_our_tables(monkeypatch, capsys, postgres_url):
    RunStore(postgres_url).close()  # our schema first, as in the cluster
    shared_study(monkeypatch, capsys, postgres_url)
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        ours = connection.execute(text("SELECT version_num FROM public.alembic_version")).scalars().all()
        studies = connection.execute(text("SELECT study_name FROM optuna.studies")).scalars().all()
    engine.dispose()
    assert studies == ["shared"] and len(ours) == 1 and not ours[0].startswith("v")
    RunStore(postgres_url).close()  # our migrations still find our own version table


@pytest.mark.req("DC-21")
def test_dc_21_the_best_trial_goes_through_the_gate(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    code, out, _ = cli(
        monkeypatch, capsys, *SEARCH, "--trials", "8", "--seed", "3", "--threshold", "min_sharpe=50", "--json"
    )
    outcome = json.loads(out)
    assert code == 1 and outcome["verdict"]["passed"] is False and outcome["verdict"]["exit_code"] == 1
    assert any(c["name"] == "min_sharpe" and not c["passed"] for c in outcome["verdict"]["checks"])
    assert (tmp_path / "tradeops.optuna.db").is_file()
    code, out, _ = cli(monkeypatch, capsys, *SEARCH, "--trials", "8", "--seed", "3", "--threshold", "min_sharpe=none",
                       "--threshold", "min_profit_factor=none", "--threshold", "min_total_return_pct=none",
                       "--threshold", "max_drawdown_pct=none")  # fmt: skip
    assert "study sma_cross-sharpe-" in out and "trials" in out and "gate:" in out


@pytest.mark.req("DC-21")
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--space", "speed=1:3"], "--space speed: sma_cross has no such parameter"),
        (["--space", "fast=2.5:9"], "fast is an integer parameter"),  # replaces SEARCH's fast (a repeat is refused)
        (["--space", "fast=9:2"], "LOW < HIGH"),
        (["--objective", "luck"], "--objective 'luck' is not a metric"),
        (["--storage", "mysql://x/y"], "mysql is not supported"),
        (["--storage", "sqlite://"], "not an in-memory SQLite"),
    ],
)
def test_dc_21_optimize_explains_bad_input_in_one_line(monkeypatch, capsys, tmp_path, extra, message):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    search = SEARCH if extra[-1].split("=")[0] not in {"fast", "slow"} else [*SEARCH[:6], "--space", "slow=5:40"]
    code, _, err = cli(monkeypatch, capsys, *search, "--trials", "2", *extra)
    assert code == 2 and message in err and "Traceback" not in err
