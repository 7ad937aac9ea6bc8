"""A local fake of GitHub's REST API for pull requests (`POST /repos/{owner}/{repo}/pulls`), over real HTTP.

It answers as GitHub does: 201 with the pull request's JSON; 401 "Bad credentials" for a wrong
token; 404 "Not Found" for another repository; 422 "Validation Failed" with `errors` when a field
is missing or the head branch does not exist in the (real, bare) git repository behind it.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PULLS = re.compile(r"^/repos/([^/]+)/([^/]+)/pulls$")


class FakeGitHub:
    """Start on a free loopback port; `url` goes into the client as its base URL."""

    def __init__(self, repo: str, token: str, git_dir: Path) -> None:
        self.repo, self.token, self.git_dir = repo, token, git_dir
        self.pulls: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
                code, answer = fake.answer(self.path, self.headers.get("Authorization"), body)
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str, auth: str | None, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        docs = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
        if auth != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
        match = PULLS.match(path)
        if not match or f"{match[1]}/{match[2]}" != self.repo:
            return 404, {"message": "Not Found", "documentation_url": docs}
        errors = [
            {"resource": "PullRequest", "field": name, "code": "missing_field"}
            for name in ("title", "head", "base")
            if not body.get(name)
        ]
        for name in ("head", "base"):
            if body.get(name) and not self._branch(body[name]):
                errors.append({"resource": "PullRequest", "field": name, "code": "invalid"})
        if errors:
            return 422, {"message": "Validation Failed", "errors": errors, "documentation_url": docs}
        number = len(self.pulls) + 1
        pull = {
            "id": 1000 + number,
            "number": number,
            "state": "open",
            "title": body["title"],
            "body": body.get("body"),
            "url": f"{self.url}/repos/{self.repo}/pulls/{number}",
            "html_url": f"https://github.com/{self.repo}/pull/{number}",
            "head": {"ref": body["head"], "sha": self._branch(body["head"])},
            "base": {"ref": body["base"], "sha": self._branch(body["base"])},
            "maintainer_can_modify": bool(body.get("maintainer_can_modify")),
        }
        self.pulls.append(pull)
        return 201, pull

    def _branch(self, name: str) -> str | None:
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{name}"],
            cwd=self.git_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() or None

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
