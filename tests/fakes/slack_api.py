"""A local fake of Slack's Web API (`chat.postMessage`, `usergroups.users.list`) and of the
`response_url` endpoints slash commands reply to, speaking Slack's JSON over real HTTP.

Answers are scripted per call: "ok", "ratelimited" (429 + Retry-After), "server_error" (500),
or any other Slack error code (200 with `ok: false`). Unscripted calls succeed.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

RESPONSE_PATH = "/commands/"  # response_url paths, as Slack's https://hooks.slack.com/commands/T../../..


class FakeSlack:
    """Start on a free loopback port; `base_url` goes into the client."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.script: deque[str] = deque()
        self.usergroups: dict[str, list[str]] = {}  # user group id -> member user ids
        self.arrived = threading.Condition()
        self.release = threading.Event()
        self.release.set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_POST(self) -> None:
                fake.release.wait(10)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                url = urlparse(self.path)
                call: dict[str, Any] = {"path": url.path, "auth": self.headers.get("Authorization")}
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    call["query"] = {k: v[0] for k, v in parse_qs(url.query or body.decode()).items()}
                else:
                    call["json"] = json.loads(body or b"{}")
                fake.record(call)
                if url.path.startswith(RESPONSE_PATH):  # a response_url answers plain "ok"
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                    return
                self._reply(*fake.answer(url.path, call.get("query") or call.get("json") or {}))

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
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.base_url = f"{self.root}/api/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Status, JSON body and headers of a Web API method's answer."""
        if path.endswith("usergroups.users.list"):
            if payload.get("usergroup") in self.usergroups:
                return 200, {"ok": True, "users": self.usergroups[payload["usergroup"]]}, {}
            return 200, {"ok": False, "error": "no_such_subteam"}, {}
        answer = self.script.popleft() if self.script else "ok"
        if answer == "ratelimited":
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
        if answer == "server_error":
            return 500, {"ok": False, "error": "internal_error"}, {}
        if answer != "ok":
            return 200, {"ok": False, "error": answer}, {}
        ts = f"1700000000.{len(self.calls):06d}"
        message = {"text": payload.get("text"), "ts": ts}
        return 200, {"ok": True, "channel": payload.get("channel"), "ts": ts, "message": message}, {}

    def record(self, call: dict[str, Any]) -> None:
        with self.arrived:
            self.calls.append(call)
            self.arrived.notify_all()

    def response_url(self) -> str:
        """A fresh response_url, like the one Slack sends with each command or click."""
        return f"{self.root}{RESPONSE_PATH}T0TEAM/{uuid.uuid4().hex[:10]}/{uuid.uuid4().hex}"

    def replies(self, response_url: str, count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
        """Wait until `count` messages were posted to `response_url`; return them."""
        path = urlparse(response_url).path
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                found = [c["json"] for c in self.calls if c["path"] == path]
                if len(found) >= count or time.monotonic() > deadline:
                    assert len(found) >= count, f"{len(found)} of {count} replies arrived at {path}"
                    return found
                self.arrived.wait(deadline - time.monotonic())

    def posted(self) -> list[dict[str, Any]]:
        """Bodies of the successful chat.postMessage calls."""
        return [c["json"] for c in self.calls if c["path"].endswith("chat.postMessage")]

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
