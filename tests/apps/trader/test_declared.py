"""RiskLimits is the one declaration of a session's limits: settings, variables and replay options come from it."""

from __future__ import annotations

import json

import pytest
import typer
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.apps.cli.test_cli import cli
from tradeops.cli import app, command_tree
from tradeops.cli.options import NO_RISK_GIVEN, RiskOptions, risk_options
from tradeops.errors import ConfigError
from tradeops.settings import AppSettings, load_settings, variables
from tradeops.store.database import open_engine
from tradeops.store.models import TraderSessionRow
from tradeops.trader.risk import RiskLimits
from tradeops.trader.service import session_config


class WiderLimits(RiskLimits):
    """RiskLimits with one field more, as a change adding a limit would write it (and nothing else)."""

    max_leverage: float | None = Field(None, gt=0, le=10, description="largest gross notional / equity")


class WiderSettings(AppSettings):
    trader_risk: WiderLimits = Field(default_factory=WiderLimits, description="the trader's risk limits")


def _risk_variables(settings: type[AppSettings] = AppSettings) -> dict[str, str]:
    return {v.path[1]: v.name for v in variables(settings) if v.path[0] == "trader_risk"}


def _option_names(command: typer.main.TyperCommand) -> set[str]:
    return {p.name for p in command.params if p.name}


@pytest.mark.req("DC-29")
def test_dc_29_every_risk_limit_is_one_variable_and_one_replay_option_generated_from_its_field():
    limits = RiskLimits.model_fields
    assert _risk_variables() == {name: f"TRADEOPS_TRADER_{name.upper()}" for name in limits}
    assert not {f"trader_{name}" for name in limits} & set(AppSettings.model_fields)  # no hand-written copies
    replay = command_tree().commands["trader"].commands["replay"]
    options = {p.name: p for p in replay.params if p.name in limits}
    assert set(options) == set(limits)
    for name, option in options.items():
        assert option.help.startswith(limits[name].description), name
        assert option.opts[0] == "--" + name.replace("_", "-") and option.default is None  # None: not given


@pytest.mark.req("DC-29")
def test_dc_29_a_field_added_to_risk_limits_is_a_variable_and_an_option_with_no_other_code(monkeypatch):
    assert _risk_variables(WiderSettings)["max_leverage"] == "TRADEOPS_TRADER_MAX_LEVERAGE"
    monkeypatch.setenv("TRADEOPS_TRADER_MAX_LEVERAGE", "3")
    monkeypatch.setenv("TRADEOPS_TRADER_MAX_DRAWDOWN_PCT", "9")
    assert WiderSettings().trader_risk.max_leverage == 3.0

    cli = typer.Typer()

    @cli.command()
    @risk_options(WiderLimits)
    def show(risk: RiskOptions = NO_RISK_GIVEN) -> None:
        typer.echo(risk.limits(WiderSettings().trader_risk).model_dump_json())

    assert "max_leverage" in _option_names(typer.main.get_command(cli))  # type: ignore[arg-type]
    done = CliRunner().invoke(cli, ["--max-leverage", "4"])
    assert done.exit_code == 0, done.output
    given = json.loads(done.stdout)
    assert (given["max_leverage"], given["max_drawdown_pct"]) == (4.0, 9.0)  # the option over the environment
    refused = CliRunner().invoke(cli, ["--max-leverage", "40"])
    assert isinstance(refused.exception, ConfigError) and "max_leverage" in str(refused.exception)


@pytest.mark.req("DC-29")
def test_dc_29_the_stacks_risk_rendered_into_the_environment_is_the_trader_services_limits(monkeypatch, tmp_path):
    from infra.config import parse_stack_config
    from infra.stack import trader_env
    from pipelines.infra.evaluate import stack_config

    config = parse_stack_config(stack_config("prod")["tradeops:settings"], "v1")
    assert config.risk != RiskLimits()  # prod sets limits: the round trip below carries them
    for name, value in trader_env(config, "0" * 64):
        monkeypatch.setenv(name, value)
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text("strategy: sma_cross\ndata: sample:synthetic?bars=80\n")
    session, _ = session_config(load_settings(trader_candidate=candidate))
    assert session.limits == config.risk
    monkeypatch.setenv("TRADEOPS_TRADER_MAX_DRAWDOWN_PCT", "700")
    with pytest.raises(ConfigError, match="trader_max_drawdown_pct: Input should be less than or equal to 100"):
        load_settings()


@pytest.mark.req("DC-29")
def test_dc_29_limits_from_the_environment_and_the_command_line_reach_the_replay_session(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRADEOPS_TRADER_MAX_ORDER_NOTIONAL", "5000")
    monkeypatch.setenv("TRADEOPS_TRADER_MAX_DRAWDOWN_PCT", "50")  # the option below wins
    given = ["--max-drawdown-pct", "7", "--no-require-balance", "--rejection-window-bars", "20"]
    done = CliRunner().invoke(
        app, ["trader", "replay", "-s", "sma_cross", "-d", "sample:synthetic?bars=200", "--json", *given]
    )
    assert done.exit_code == 0, done.output
    session = json.loads(done.stdout)["session"]["id"]
    engine = open_engine(load_settings().resolved_database_url)
    with Session(engine) as db:
        stored = db.scalars(select(TraderSessionRow.risk).where(TraderSessionRow.id == session)).one()
    engine.dispose()
    assert RiskLimits.model_validate(stored) == RiskLimits(
        max_order_notional=5000, max_drawdown_pct=7, require_balance=False, rejection_window_bars=20
    )
    code, _, err = cli(monkeypatch, capsys, "trader", "replay", "-s", "sma_cross", "-d", "sample:GOOG", "--json",
                       "--max-drawdown-pct", "0")  # fmt: skip
    assert code == 2 and "invalid risk limits: max_drawdown_pct: Input should be greater than 0" in err
