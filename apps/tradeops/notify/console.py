"""The local default: notifications as JSON lines on stderr or appended to a file."""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from tradeops.notify.base import Message


class ConsoleNotifier:
    """Write each message as one JSON line (to `path` when given, else stderr)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        line = json.dumps({"at": datetime.now(UTC).isoformat(), **asdict(message)})
        with self._lock:
            if self.path is None:
                print(line, file=sys.stderr, flush=True)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as stream:
                stream.write(line + "\n")

    def close(self) -> None:
        return None
