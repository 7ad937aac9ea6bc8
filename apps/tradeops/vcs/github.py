"""A thin GitHub REST client on httpx: one comment per pull request edited in place, and new pull requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tradeops.errors import TradeopsError

MAX_COMMENT = 65_536  # GitHub rejects longer issue-comment bodies
TRUNCATED = "\n\n... (truncated to fit GitHub's 65,536-character comment limit; the full reports are linked above)\n"


class GitHubError(TradeopsError):
    """GitHub refused or could not be reached; the message says which call and why."""


@dataclass(frozen=True)
class Posted:
    """A comment or pull request as GitHub answered."""

    id: int
    url: str
    created: bool


def fit(body: str, limit: int = MAX_COMMENT) -> str:
    """Cut `body` so it stays under GitHub's limit, saying that it was cut."""
    return body if len(body) < limit else body[: limit - len(TRUNCATED) - 1] + TRUNCATED


class GitHubClient:
    """`repo` is "owner/name"; `base_url` points at GitHub Enterprise or a local fake."""

    def __init__(self, token: str, *, base_url: str = "https://api.github.com", timeout: float = 30) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "tradeops-pipelines",
            },
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise GitHubError(f"GitHub {method} {path}: unreachable ({type(error).__name__})") from None
        if response.status_code >= 400:
            message = response.json().get("message", "") if response.content else ""
            raise GitHubError(f"GitHub {method} {path}: {response.status_code} {message}".rstrip())
        return response

    def comments(self, repo: str, pr_number: int) -> list[dict[str, Any]]:
        """Every comment of the pull request, following GitHub's pagination."""
        found: list[dict[str, Any]] = []
        url: str | None = f"/repos/{repo}/issues/{pr_number}/comments?per_page=100"
        while url:
            response = self._call("GET", url)
            found += response.json()
            url = response.links.get("next", {}).get("url")
        return found

    def upsert_comment(self, repo: str, pr_number: int, marker: str, body: str) -> Posted:
        """Edit the comment holding `marker` in place, or create it; the body keeps the marker and the limit."""
        text = fit(f"{marker}\n{body}")
        mine = next((c for c in self.comments(repo, pr_number) if marker in (c.get("body") or "")), None)
        if mine is None:
            answer = self._call("POST", f"/repos/{repo}/issues/{pr_number}/comments", json={"body": text}).json()
            return Posted(answer["id"], answer["html_url"], created=True)
        answer = self._call("PATCH", f"/repos/{repo}/issues/comments/{mine['id']}", json={"body": text}).json()
        return Posted(answer["id"], answer["html_url"], created=False)

    def create_pull_request(self, repo: str, head: str, base: str, title: str, body: str) -> Posted:
        """Open a pull request from branch `head` into `base`."""
        payload = {"title": title, "head": head, "base": base, "body": fit(body)}
        answer = self._call("POST", f"/repos/{repo}/pulls", json=payload).json()
        return Posted(answer["number"], answer["html_url"], created=True)

    def close(self) -> None:
        self.http.close()
