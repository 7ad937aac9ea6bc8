"""The headings `tradeops --help` lists commands under, in the order a new user meets them: research a strategy,
trade it, operate the stack, deploy it, develop tradeops. Plugins file their commands under the same headings."""

from __future__ import annotations

RESEARCH = "Research"
TRADE = "Trade"
OPERATE = "Operate"
DEPLOY = "Deploy"
DEVELOP = "Develop"

ORDER = (RESEARCH, TRADE, OPERATE, DEPLOY, DEVELOP)


def rank(panel: str | None) -> int:
    """Where a heading comes in `--help` (a heading of no one's, or none, after these)."""
    return ORDER.index(panel) if panel in ORDER else len(ORDER)
