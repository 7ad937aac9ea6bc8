"""What a secret must look like outside dev: long, varied, not a placeholder, not guessable; and the URLs that must
be set.

Guessability is zxcvbn's estimate (dictionary words, common passwords, sequences, keyboard runs, repeats, dates):
`1234567890abcdef` and `Password1234567890` are 16+ characters with 8+ distinct ones, yet about 10^4 guesses away.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "token", "xxx", "test"}
PLACEHOLDER_PARTS = ("changeme", "change-me", "change_me", "redacted", "placeholder", "example", "xxxx", "dummy")
MIN_SECRET_LENGTH = 16
MIN_DISTINCT_CHARACTERS = 8  # "aaaaaaaaaaaaaaaa" and "abababababababab" are long but guessable
MIN_PASSWORD_LENGTH = 12
MIN_GUESSES_LOG10 = 12  # ~40 bits: out of reach of online guessing behind the auth-failure limits
ESTIMATED_PREFIX = 100  # zxcvbn is quadratic in the length; a strong first 100 characters is a strong secret
PATTERN_NAMES = {
    "dictionary": "a common word or password",
    "sequence": "a sequence",
    "spatial": "a keyboard run",
    "repeat": "a repeat",
    "date": "a date",
    "regex": "a year",
}


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
    return _guessable(value)


def _guessable(value: str) -> str | None:
    from zxcvbn import zxcvbn  # loaded only where secrets are checked (staging, prod): it reads word lists

    estimate = zxcvbn(value[:ESTIMATED_PREFIX])
    if estimate["guesses_log10"] >= MIN_GUESSES_LOG10:
        return None
    found = sorted({PATTERN_NAMES[m["pattern"]] for m in estimate["sequence"] if m["pattern"] in PATTERN_NAMES})
    made_of = f" (it holds {', '.join(found)})" if found else ""
    return (
        f"it is guessable in about 10^{int(estimate['guesses_log10'])} guesses, "
        f"10^{MIN_GUESSES_LOG10} needed{made_of}: use a random value, e.g. `openssl rand -hex 24`"
    )


def database_passwords(url: str) -> list[tuple[str, str]]:
    """Every password a database URL carries: (where, password) for the user part and each `password=` parameter."""
    parts = urlsplit(url)
    found = []
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        found.append(("its password", unquote(userinfo.split(":", 1)[1])))
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() == "password":
            found.append(("its password= parameter", value))
    return found


def weak_database_url(url: str) -> str | None:
    """Why a database URL must not be used outside dev (None when it is fine); never quotes the password."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        return "it is SQLite: staging and prod need PostgreSQL"
    for where, password in database_passwords(url):
        reason = weak_secret(password, min_length=MIN_PASSWORD_LENGTH)
        if reason:
            return f"{where} is too weak: {reason}"
    return None


def principal_tokens(text: str) -> list[tuple[str, str] | None]:
    """`alice=TOKEN,bob=TOKEN` -> [(principal, token)], None for a pair that is not PRINCIPAL=TOKEN."""
    pairs: list[tuple[str, str] | None] = []
    for pair in (p.strip() for p in text.split(",") if p.strip()):
        principal, sep, token = pair.partition("=")
        pairs.append((principal.strip(), token.strip()) if sep and principal.strip() and token.strip() else None)
    return pairs


def weak_principal_tokens(text: str) -> list[str]:
    """Why each PRINCIPAL=TOKEN pair is unusable outside dev, naming the pair and its principal, never the token."""
    problems = []
    for number, pair in enumerate(principal_tokens(text), start=1):
        if pair is None:
            problems.append(f"pair {number}: not PRINCIPAL=TOKEN")
        elif reason := weak_secret(pair[1]):
            problems.append(f"pair {number} ({pair[0]}): {reason}")
    return problems
