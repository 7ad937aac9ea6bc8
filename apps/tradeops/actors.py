"""Who may be named as the actor of an audited action: the names a person may give themselves on the CLI.

Names under a reserved prefix come only from authentication (see `tradeops.service.auth`): `token:` (an API
or CLI bearer token), `mcp:` (an MCP principal), `ui:` (a dashboard login), `slack:` (a signed Slack request),
`github:` (a pull-request review read back from GitHub), `local:` (local mode). `risk-engine` and `system`
are the system's own. Every CLI option that names an actor goes through `claimable` (`tradeops.cli.options`).
"""

from __future__ import annotations

from tradeops.errors import ConfigError

RISK_ENGINE = "risk-engine"  # the actor of automatic state changes
RESERVED_ACTORS = frozenset({RISK_ENGINE, "system"})
RESERVED_PREFIXES = ("token:", "mcp:", "ui:", "slack:", "github:", "local:")


def claimable(actor: str) -> str:
    """`actor` when a person may name themselves so (the CLI's --actor); a ConfigError for a reserved name."""
    name = actor.strip()
    if not name or name.lower() in RESERVED_ACTORS or name.lower().startswith(RESERVED_PREFIXES):
        raise ConfigError(
            f"--actor {actor!r} is reserved or empty; the audit log gives it only to the system "
            f"or to an authenticated caller ({', '.join(RESERVED_PREFIXES)})"
        )
    return name
