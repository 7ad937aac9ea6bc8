"""A local fake of GitHub's REST API (issue comments, pull requests), speaking GitHub's JSON over real HTTP.

It answers as GitHub does: 401 "Bad credentials" for a wrong token; 404 "Not Found" for unknown
repositories and comments; comments paginated with `Link` headers (per_page, page) and refused with
422 at 65,536 characters or more; pull requests created with 201, or refused with 422 "Validation
Failed" and `errors` when a field is missing or (with `git_dir`, a real bare repository behind the
fake) the head or base branch does not exist.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

COMMENTS = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)/comments$")
COMMENT = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<id>\d+)$")
PULLS = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/pulls$")
PULL = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/pulls/(?P<number>\d+)$")
REVIEWS = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/pulls/(?P<number>\d+)/reviews$")
LIMIT = 65_536
DOCS = "https://docs.github.com/rest"


class FakeGitHub:
    """Repositories named in `repos` exist; `comments`, `pulls` and `requests` hold what arrived."""

    def __init__(self, token: str, repos: set[str], git_dir: Path | None = None) -> None:
        self.token, self.repos, self.git_dir = token, repos, git_dir
        self.comments: dict[int, dict[str, Any]] = {}
        self.pulls: list[dict[str, Any]] = []
        self.reviews: dict[tuple[str, int], list[dict[str, Any]]] = {}  # (repo, number) -> reviews, oldest first
        self.requests: list[dict[str, Any]] = []  # method, path, headers, json
        self._next_id = 1000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def do_PATCH(self) -> None:
                fake._serve(self, "PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_comment(self, repo: str, number: int, body: str, user: str = "someone") -> dict[str, Any]:
        self._next_id += 1
        comment = {
            "id": self._next_id,
            "body": body,
            "user": {"login": user},
            "html_url": f"https://github.com/{repo}/pull/{number}#issuecomment-{self._next_id}",
            "issue_url": f"{self.base_url}/repos/{repo}/issues/{number}",
            "repo": repo,
            "number": number,
        }
        self.comments[comment["id"]] = comment
        return comment

    def add_pull(self, repo: str, number: int, *, head_sha: str, merge_commit_sha: str | None = None) -> None:
        """A pull request as GitHub returns it: merged (with its merge commit) when `merge_commit_sha` is given."""
        self.pulls.append(
            {
                "id": 1000 + number,
                "number": number,
                "state": "closed" if merge_commit_sha else "open",
                "merged": merge_commit_sha is not None,
                "merge_commit_sha": merge_commit_sha,
                "html_url": f"https://github.com/{repo}/pull/{number}",
                "head": {"ref": f"change-{number}", "sha": head_sha},
                "base": {"ref": "main", "sha": None},
                "repo": repo,
            }
        )

    def add_review(self, repo: str, number: int, user: str, state: str) -> None:
        """A review as GitHub lists it: APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED."""
        reviews = self.reviews.setdefault((repo, number), [])
        reviews.append(
            {
                "id": 80 + len(reviews),
                "user": {"login": user, "type": "User"},
                "state": state,
                "submitted_at": "2026-03-01T12:00:00Z",
                "html_url": f"https://github.com/{repo}/pull/{number}#pullrequestreview-{80 + len(reviews)}",
            }
        )

    def thread(self, repo: str, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["repo"] == repo and c["number"] == number]

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length", 0))
        body = json.loads(handler.rfile.read(length) or b"{}") if length else {}
        self.requests.append({"method": method, "path": split.path, "headers": dict(handler.headers), "json": body})
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return _reply(handler, 401, {"message": "Bad credentials", "documentation_url": DOCS})
        routes = (
            (COMMENTS, self._comments),
            (COMMENT, self._comment),
            (PULLS, self._pulls),
            (PULL, self._pull),
            (REVIEWS, self._reviews),
        )
        for pattern, route in routes:
            match = pattern.match(split.path)
            if match and match["repo"] in self.repos:
                code, answer, headers = route(method, match, body, dict(parse_qsl(split.query)))
                return _reply(handler, code, answer, headers)
        _reply(handler, 404, {"message": "Not Found", "documentation_url": DOCS})

    def _comments(self, method: str, match: re.Match[str], body: dict[str, Any], query: dict[str, str]) -> Any:
        repo, number = match["repo"], int(match["number"])
        if method == "POST":
            if len(body.get("body", "")) >= LIMIT:
                return 422, {"message": "Validation Failed", "errors": [{"field": "body", "code": "too_long"}]}, {}
            return 201, _public(self.add_comment(repo, number, body["body"], "github-actions[bot]")), {}
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        items = self.thread(repo, number)
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            link = f"{self.base_url}/repos/{repo}/issues/{number}/comments?per_page={per_page}&page={page + 1}"
            headers["Link"] = f'<{link}>; rel="next"'
        return 200, [_public(c) for c in chunk], headers

    def _reviews(self, method: str, match: re.Match[str], _body: dict[str, Any], query: dict[str, str]) -> Any:
        if method != "GET":
            return 404, {"message": "Not Found"}, {}
        repo, number = match["repo"], int(match["number"])
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        items = self.reviews.get((repo, number), [])
        headers = {}
        if page * per_page < len(items):
            link = f"{self.base_url}/repos/{repo}/pulls/{number}/reviews?per_page={per_page}&page={page + 1}"
            headers["Link"] = f'<{link}>; rel="next"'
        return 200, items[(page - 1) * per_page : page * per_page], headers

    def _pull(self, method: str, match: re.Match[str], _body: dict[str, Any], _query: dict[str, str]) -> Any:
        number = int(match["number"])
        found = next(
            (p for p in self.pulls if p["number"] == number and p.get("repo", match["repo"]) == match["repo"]), None
        )
        if method != "GET" or found is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        return 200, {k: v for k, v in found.items() if k != "repo"} | {"merged": bool(found.get("merged"))}, {}

    def _comment(self, method: str, match: re.Match[str], body: dict[str, Any], _query: dict[str, str]) -> Any:
        comment = self.comments.get(int(match["id"]))
        if method != "PATCH" or comment is None or comment["repo"] != match["repo"]:
            return 404, {"message": "Not Found"}, {}
        if len(body.get("body", "")) >= LIMIT:
            return 422, {"message": "Validation Failed", "errors": [{"field": "body", "code": "too_long"}]}, {}
        comment["body"] = body["body"]
        return 200, _public(comment), {}

    def _pulls(self, method: str, match: re.Match[str], body: dict[str, Any], _query: dict[str, str]) -> Any:
        if method != "POST":
            return 404, {"message": "Not Found"}, {}
        errors = [
            {"resource": "PullRequest", "field": name, "code": "missing_field"}
            for name in ("title", "head", "base")
            if not body.get(name)
        ]
        for name in ("head", "base"):
            if body.get(name) and self.git_dir is not None and not self._branch(body[name]):
                errors.append({"resource": "PullRequest", "field": name, "code": "invalid"})
        if errors:
            return 422, {"message": "Validation Failed", "errors": errors, "documentation_url": DOCS}, {}
        repo, number = match["repo"], len(self.pulls) + 1
        pull = {
            "id": 1000 + number,
            "number": number,
            "state": "open",
            "title": body["title"],
            "body": body.get("body"),
            "url": f"{self.base_url}/repos/{repo}/pulls/{number}",
            "html_url": f"https://github.com/{repo}/pull/{number}",
            "head": {"ref": body["head"], "sha": self._branch(body["head"])},
            "base": {"ref": body["base"], "sha": self._branch(body["base"])},
            "maintainer_can_modify": bool(body.get("maintainer_can_modify")),
        }
        self.pulls.append(pull)
        return 201, pull, {}

    def _branch(self, name: str) -> str | None:
        if self.git_dir is None:
            return None
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


def _public(comment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in comment.items() if k not in ("repo", "number")}


def _reply(handler: BaseHTTPRequestHandler, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
