"""The gate's verdict: every check with value, limit and outcome, and the exit code."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

EXIT_PASS, EXIT_FAIL, EXIT_UNDECIDED = 0, 1, 2


@dataclass(frozen=True)
class Check:
    """One threshold compared with one measured value."""

    name: str
    group: str
    value: float | None
    limit: float | None
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class Verdict:
    """Passed only if every enabled check passed; undecided (exit 2) when it could not be judged."""

    checks: list[Check] = field(default_factory=list)
    error: str | None = None
    candidate: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    data: dict[str, Any] | None = None  # the provenance of the bars judged (ref, dataset, version, sha256, span)

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks)

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return EXIT_UNDECIDED
        return EXIT_PASS if self.passed else EXIT_FAIL

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of `tradeops gate --json`."""
        return {
            "passed": self.passed,
            "exit_code": self.exit_code,
            "error": self.error,
            "checks": [{k: _finite(v) for k, v in asdict(c).items()} for c in self.checks],
            "candidate": self.candidate,
            "data": self.data,
            "result": self.result,
        }


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
