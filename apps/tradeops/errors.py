"""Errors the front door turns into clear messages and exit codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import ValidationError


class TradeopsError(Exception):
    """Base class of every error tradeops reports to a user."""


class DataError(TradeopsError):
    """Market data that cannot be used: missing, malformed or failing validation."""


class ConfigError(TradeopsError):
    """A strategy, candidate, threshold or settings value that is invalid."""


def format_validation(error: ValidationError, name: Callable[[tuple[int | str, ...]], str] | None = None) -> str:
    """Render pydantic errors as `field: reason` pairs, one per problem; `name` spells a location its own way."""
    parts = []
    for item in error.errors():
        where = name(item["loc"]) if name else ".".join(str(p) for p in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def without_paths(message: str, roots: dict[str, str]) -> str:
    """`message` as a client may see it: each root folder (absolute path -> public name, e.g. the market folder
    -> "") cut to its public name, any other absolute path to its last component."""
    import re

    for root, public in sorted(roots.items(), key=lambda item: -len(item[0])):
        message = message.replace(root.rstrip("/") + "/", public)
    return re.sub(r"(?<![\w.:/])/(?:[^\s/'\"]+/)+([^\s/'\"]+)", r"\1", message)


class VenueError(TradeopsError):
    """A trading venue that cannot be reached in time, refuses our credentials, or disagrees with the ledger."""


def database_failure(error: BaseException) -> str:
    """One line for a database error (drivers add hint lines): what failed and the setting to check."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"database: {lines[0] if lines else type(error).__name__} (check TRADEOPS_DATABASE_URL)"
