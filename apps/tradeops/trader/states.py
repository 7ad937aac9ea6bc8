"""The trader's states and the kill-switch verbs that set them.

Apart from `control` (which stores them) so that the risk limits, and the settings that declare them,
import no database code: `tradeops config check` stays light (tests/apps/cli/test_lazy_imports.py).
"""

from __future__ import annotations

RUNNING, HALTED, REDUCING = "running", "halted", "reducing"
STATES = (RUNNING, HALTED, REDUCING)
COMMANDS = {"halt": HALTED, "reduce-only": REDUCING, "resume": RUNNING}  # kill-switch verb -> state
