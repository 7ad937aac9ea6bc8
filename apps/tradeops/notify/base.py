"""What a notification is, and what every notifier does with one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Message:
    """One notification: a headline, labelled fields, and the run it belongs to (for threading)."""

    kind: str  # backtest_finished | gate_verdict | regression | ...
    title: str
    fields: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    thread_key: str | None = None
    ok: bool = True

    def text(self) -> str:
        """Plain-text fallback: the title, the fields, then the lines."""
        parts = [self.title, *(f"{k}: {v}" for k, v in self.fields.items()), *self.lines]
        return "\n".join(parts)


class Notifier(Protocol):
    """Delivers messages; must never raise into the caller's work."""

    def send(self, message: Message) -> None: ...
    def close(self) -> None: ...
