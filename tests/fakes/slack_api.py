"""A local fake of Slack's Web API (`chat.postMessage`), speaking Slack's JSON over real HTTP.

Answers are scripted per call: "ok", "ratelimited" (429 + Retry-After), "server_error" (500),
or any other Slack error code (200 with `ok: false`). Unscripted calls succeed.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeSlack:
    """Start on a free loopback port; `base_url` goes into the client."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.script: deque[str] = deque()
        self.release = threading.Event()
        self.release.set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_POST(self) -> None:
                fake.release.wait(10)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                payload = json.loads(body or b"{}")
                fake.calls.append({"path": self.path, "auth": self.headers.get("Authorization"), "json": payload})
                answer = fake.script.popleft() if fake.script else "ok"
                if answer == "ratelimited":
                    self._reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
                elif answer == "server_error":
                    self._reply(500, {"ok": False, "error": "internal_error"})
                elif answer == "ok":
                    ts = f"1700000000.{len(fake.calls):06d}"
                    self._reply(
                        200,
                        {
                            "ok": True,
                            "channel": payload.get("channel"),
                            "ts": ts,
                            "message": {"text": payload.get("text"), "ts": ts},
                        },
                    )
                else:
                    self._reply(200, {"ok": False, "error": answer})

            def _reply(self, code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posted(self) -> list[dict[str, Any]]:
        """Bodies of the successful chat.postMessage calls."""
        return [c["json"] for c in self.calls if c["path"].endswith("chat.postMessage")]

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
