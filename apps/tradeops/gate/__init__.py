"""The backtest gate: a candidate, its thresholds, and a verdict with exit codes 0/1/2."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeops.data import load_bars
from tradeops.data.quality import check_bars
from tradeops.engine.backtest import BacktestResult
from tradeops.engine.result import result_to_dict
from tradeops.errors import TradeopsError
from tradeops.gate.candidate import Candidate, Provenance, load_candidate, validate_candidate
from tradeops.gate.champion import Champion, champion_check, running_champion
from tradeops.gate.checks import data_quality_checks, evaluate
from tradeops.gate.selection import selection_checks
from tradeops.gate.thresholds import Thresholds
from tradeops.gate.verdict import EXIT_FAIL, EXIT_PASS, EXIT_UNDECIDED, Check, Verdict
from tradeops.strategies import get_strategy

if TYPE_CHECKING:
    from tradeops.store.objects import ObjectStore


def run_gate(
    candidate: Candidate,
    *,
    max_gap: str | None = None,
    max_bars: int | None = None,
    objects: ObjectStore | None = None,
    champion: Champion | None = None,
) -> tuple[Verdict, BacktestResult | None]:
    """Judge a candidate; never raises for bad data or config, which yield an undecided verdict.

    `dataset:` references are read from `objects` (default: the object store the settings name);
    `dataset:NAME` is pinned to its latest version first, so the verdict's `data` names the exact
    version judged (`ref` NAME@VERSION, `sha256`). The bars pass the `data_quality` checks first: data
    that fails one is never judged (undecided, exit 2, the failing check named), since a verdict on
    broken data is no verdict. The `selection` checks judge how the candidate was found (its
    provenance) and compare it with `champion`, the bundle running in the stack (None: no champion).

    Returns the verdict and the candidate's BacktestResult (None when undecided).
    """
    from tradeops.data.pinning import pin

    summary = candidate.model_dump(mode="json")
    try:
        data = pin(candidate.data, objects).reference
        bars = load_bars(data, max_gap=max_gap, max_bars=max_bars, window=candidate.window, objects=objects)
        quality = check_bars(
            bars, candidate.thresholds.data_quality, timeframe=bars.origin.timeframe if bars.origin else None
        )
        quality_checks = data_quality_checks(quality)
        if not quality.passed:
            error = f"data quality: {quality.summary()}; see `tradeops data check`"
            return Verdict(checks=quality_checks, error=error, candidate=summary, data=bars.provenance()), None
        strategy = get_strategy(candidate.strategy)
        result, checks = evaluate(
            strategy, candidate.strategy_params(), bars, candidate.execution, candidate.thresholds
        )
        checks += selection_checks(strategy, candidate, result)
        against = champion_check(result, champion, candidate.thresholds)
        checks += [against] if against is not None else []
    except TradeopsError as error:
        return Verdict(error=str(error), candidate=summary), None
    verdict = Verdict(
        checks=quality_checks + checks, candidate=summary, result=result_to_dict(result), data=bars.provenance()
    )
    return verdict, result


__all__ = [
    "EXIT_FAIL",
    "EXIT_PASS",
    "EXIT_UNDECIDED",
    "Candidate",
    "Champion",
    "Check",
    "Provenance",
    "Thresholds",
    "Verdict",
    "load_candidate",
    "run_gate",
    "running_champion",
    "validate_candidate",
]
