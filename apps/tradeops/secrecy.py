"""What a secret must look like outside dev: long, varied, not a placeholder; and the URLs that must be set."""

from __future__ import annotations

from urllib.parse import urlsplit

PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "token", "xxx", "test"}
PLACEHOLDER_PARTS = ("changeme", "change-me", "change_me", "redacted", "placeholder", "example", "xxxx", "dummy")
MIN_SECRET_LENGTH = 16
MIN_DISTINCT_CHARACTERS = 8  # "aaaaaaaaaaaaaaaa" and "abababababababab" are long but guessable
MIN_PASSWORD_LENGTH = 12


def weak_secret(value: str, *, min_length: int = MIN_SECRET_LENGTH) -> str | None:
    """Why a secret is too weak to use (None when it is fine); never quotes the value."""
    lowered = value.lower()
    if not value.strip():
        return "it is empty or only spaces"
    if any(c.isspace() for c in value) or "<" in value or ">" in value:
        return "it contains spaces or angle brackets (a template placeholder, not a secret)"
    if lowered in PLACEHOLDERS or any(part in lowered for part in PLACEHOLDER_PARTS):
        return "it is a known placeholder"
    if len(value) < min_length:
        return f"it is shorter than {min_length} characters"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return f"it has fewer than {MIN_DISTINCT_CHARACTERS} distinct characters"
    return None


def weak_database_url(url: str) -> str | None:
    """Why a database URL must not be used outside dev (None when it is fine)."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        return "it is SQLite: staging and prod need PostgreSQL"
    if parts.password is not None:
        reason = weak_secret(parts.password, min_length=MIN_PASSWORD_LENGTH)
        if reason:
            return f"its password is too weak: {reason}"
    return None
