"""The fault-injection runner: discovers every scenario module, runs each scenario, records broken ones as
failed, prints one table and writes JSON; one real scenario runs end to end (it measures; it asserts no time)."""

from __future__ import annotations

import json

import pipelines.faults.__main__ as runner
import pytest
from pipelines.faults import collect, discover, run_one, table


def steady() -> dict:
    return {"name": "steady", "passed": True, "requests": 3, "time_to_503_s": 0.4}


def broken() -> dict:
    raise ConnectionError("the fault could not be injected")


def sloppy() -> dict:
    return {"passed": "yes"}  # neither a name nor a bool


@pytest.mark.req("DC-16")
def test_dc_16_every_scenario_module_is_found_and_helpers_are_not():
    modules = discover()
    assert "services" in modules and "_inject" not in modules and "__main__" not in modules
    names = {scenario.__name__ for module, scenario in collect(["services"])}
    assert {"db_locked", "db_stopped", "oversize_bodies"} <= names


@pytest.mark.req("DC-16")
def test_dc_16_a_broken_scenario_counts_as_failed_with_its_reason_and_the_table_shows_the_figures():
    results = [run_one("demo", steady), run_one("demo", broken), run_one("demo", sloppy)]
    assert [r["passed"] for r in results] == [True, False, False]
    assert "ConnectionError: the fault could not be injected (test_faults.py:" in results[1]["error"]
    assert "broke the contract" in results[2]["error"]
    lines = table(results).splitlines()
    assert lines[0].split() == ["module", "scenario", "result", "figures"]
    assert "PASS" in lines[1] and "requests=3" in lines[1] and "time_to_503_s=0.4" in lines[1]
    assert "FAIL" in lines[2] and "FAIL" in lines[3]


@pytest.mark.req("DC-16")
def test_dc_16_the_runner_exits_2_when_nothing_matches_and_lists_without_running(capsys):
    assert runner.main(["--only", "no-such-scenario"]) == 2
    assert runner.main(["--list", "--only", "services"]) == 0
    assert "services.db_locked" in capsys.readouterr().out


@pytest.mark.req("DC-16")
def test_dc_16_the_frozen_database_scenario_runs_end_to_end_and_reports_time_to_503(tmp_path, capsys):
    out = tmp_path / "faults.json"
    code = runner.main(["--only", "services.db_stopped", "--out", str(out)])
    [result] = json.loads(out.read_text())
    assert code == 0, result
    assert result["name"] == "db_stopped" and result["passed"] and result["readyz_answer"] == 503
    assert result["requests"] == 5 and result["hung"] == 0 and result["time_to_503_s"] > 0
    assert "db_stopped" in capsys.readouterr().out


@pytest.mark.req("DC-36")
def test_dc_36_make_faults_has_the_database_outage_under_traffic_on_postgres_and_sqlite():
    names = {scenario.__name__ for module, scenario in collect(["outage"])}
    assert names == {"db_outage_postgres", "db_outage_sqlite"}
