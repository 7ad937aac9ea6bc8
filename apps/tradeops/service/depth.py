"""How deep a JSON text nests, found without parsing it (a parser recurses and can be driven to RecursionError)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import numpy as np

FORM = "application/x-www-form-urlencoded"
STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')  # linear: no nested quantifier can backtrack
NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
STEP = np.zeros(256, dtype=np.int32)
STEP[list(b"[{")], STEP[list(b"]}")] = 1, -1


def json_depth(text: bytes) -> int:
    """The deepest nesting of `[` and `{` outside strings (an unterminated string ends the count)."""
    brackets = STRINGS.sub(b"", text).partition(b'"')[0].translate(None, NOT_BRACKETS)
    if not brackets:
        return 0
    return int(np.cumsum(STEP[np.frombuffer(brackets, dtype=np.uint8)]).max())


def _kind(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def may_nest(content_type: str) -> bool:
    """Whether a body of this type can carry JSON: JSON itself, or a URL-encoded form."""
    kind = _kind(content_type)
    return kind == "application/json" or kind.endswith("+json") or kind == FORM


def body_depth(content_type: str, body: bytes) -> int:
    """The depth of a JSON body, or of the deepest JSON value of a form (Slack's `payload=`); else 0."""
    if not may_nest(content_type):
        return 0
    if _kind(content_type) != FORM:
        return json_depth(body)
    values = (value.lstrip() for _, value in parse_qsl(body, keep_blank_values=True))
    return max((json_depth(value) for value in values if value[:1] in (b"{", b"[")), default=0)
