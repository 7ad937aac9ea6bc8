"""The fault-injection suite, apart from the test suite: `make faults` (`python -m pipelines.faults`).

Every module in this package except `__main__` is a group of scenarios. A module exposes

    def scenarios() -> list[Callable[[], dict]]

and each scenario, called with no arguments, injects one fault into real running services (a locked or
stopped PostgreSQL, an oversize request body, an unreachable S3 endpoint, ...), watches what they do, cleans
up after itself and returns one dict: at least `name` (str) and `passed` (bool), plus the figures it measured
(requests tried, errors, memory peak, time to 503, ...) under names that say their unit (`..._ms`, `..._mb`).
A scenario that raises, or returns something else, counts as failed with the reason recorded. Modules whose
name starts with `_` are helpers shared by the scenarios (and the tests that prove the same faults), not groups.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

Scenario = Callable[[], dict[str, Any]]
SKIPPED_MODULES = {"__main__"}


def discover() -> list[str]:
    """The scenario modules of this package, by name, in name order."""
    return sorted(
        m.name for m in pkgutil.iter_modules(__path__) if m.name not in SKIPPED_MODULES and not m.name.startswith("_")
    )


def collect(modules: Iterable[str]) -> list[tuple[str, Scenario]]:
    """Every (module, scenario) pair the named modules declare."""
    pairs: list[tuple[str, Scenario]] = []
    for name in modules:
        module = importlib.import_module(f"{__name__}.{name}")
        pairs.extend((name, scenario) for scenario in module.scenarios())
    return pairs


def run_one(module: str, scenario: Scenario) -> dict[str, Any]:
    """Run one scenario; its result with `module` and `seconds` added, or a failure saying why it broke."""
    started = time.perf_counter()
    try:
        result = scenario()
    except Exception as error:  # noqa: BLE001 - a broken scenario is a failed one, and the suite goes on
        last = traceback.extract_tb(error.__traceback__)[-1]
        result = {
            "name": getattr(scenario, "__name__", repr(scenario)),
            "passed": False,
            "error": f"{type(error).__name__}: {error} ({last.filename.rsplit('/', 1)[-1]}:{last.lineno})"[:500],
        }
    if (
        not isinstance(result, dict)
        or not isinstance(result.get("name"), str)
        or type(result.get("passed")) is not bool
    ):
        result = {
            "name": getattr(scenario, "__name__", repr(scenario)),
            "passed": False,
            "error": f"the scenario broke the contract (a dict with name and passed): {result!r}"[:500],
        }
    return {"module": module, **result, "seconds": round(time.perf_counter() - started, 2)}


def table(results: list[dict[str, Any]]) -> str:
    """One line per scenario: module, name, PASS/FAIL, then its figures as key=value."""
    rows = [
        (
            r["module"],
            r["name"],
            "PASS" if r["passed"] else "FAIL",
            "  ".join(f"{k}={v}" for k, v in r.items() if k not in ("module", "name", "passed")),
        )
        for r in results
    ]
    header = ("module", "scenario", "result", "figures")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(3)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)
