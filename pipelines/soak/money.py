"""Run the money path's state machine (tests/apps/trader/money_machine.py) longer than the suite does: `make soak`.

Each round is a fresh hypothesis run (new random examples, no example database) of `--steps` steps per
example, until `--count` examples ran or `--seconds` passed. Prints the steps, bars, examples and venue
orders run, and the invariant violations found: 0, or the first one (hypothesis's shrunk example) and exit 1.

    python -m pipelines.soak.money --count 200 --seconds 900
"""

from __future__ import annotations

import argparse
import sys
import time

ROUND = 5  # examples per hypothesis run: a violation is reported (and shrunk) within one round


def soak(count: int, seconds: float, steps: int) -> int:
    """Run the machine until `count` examples or `seconds`; print the tally; return the violations found (0 or 1)."""
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test
    from tests.apps.trader.money_machine import TALLY, MoneyMachine  # the suite's machine, run longer

    chosen = settings(
        max_examples=ROUND,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    stop, runs, violations = time.monotonic() + seconds, 0, 0
    while runs < count and time.monotonic() < stop:
        try:
            run_state_machine_as_test(MoneyMachine, settings=chosen)
        except Exception as error:  # noqa: BLE001 - any failure is a violation: hypothesis printed its shrunk steps
            violations = 1
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            print(f"violation: {type(error).__name__}: {first}", file=sys.stderr)
            break
        runs += ROUND
    print(
        f"money soak: {TALLY.examples} examples (hypothesis runs {runs // ROUND}), {TALLY.steps} steps, "
        f"{TALLY.bars} bars, {TALLY.venue_orders} venue orders ({TALLY.venue_fills} filled), "
        f"{violations} invariant violation(s)"
    )
    print("rules: " + ", ".join(f"{name} {n}" for name, n in sorted((TALLY.rules or {}).items())))
    return violations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.soak.money", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="examples to run at most (default 200)")
    parser.add_argument("--seconds", type=float, default=900.0, help="stop starting rounds after this (default 900)")
    parser.add_argument("--steps", type=int, default=40, help="steps per example (default 40; the suite runs 20)")
    args = parser.parse_args(argv)
    return 1 if soak(args.count, args.seconds, args.steps) else 0


if __name__ == "__main__":
    sys.exit(main())
