"""Pull requests through GitHub's REST API (`POST /repos/{owner}/{repo}/pulls`), behind a small interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from tradeops.errors import TradeopsError

API_VERSION = "2022-11-28"


class GitHubError(TradeopsError):
    """GitHub refused or could not be reached; the message says why."""


@dataclass(frozen=True)
class PullRequest:
    """An opened pull request."""

    number: int
    url: str
    head: str
    base: str


class PullRequests(Protocol):
    """Whatever opens pull requests (GitHub; a fake in tests)."""

    def open_pull_request(self, *, title: str, head: str, base: str, body: str) -> PullRequest: ...


class GitHubClient:
    """The GitHub REST API on httpx; `base_url` points at GitHub Enterprise or a local fake."""

    def __init__(
        self, repo: str, token: str | None, *, base_url: str = "https://api.github.com", timeout: float = 15.0
    ) -> None:
        self.repo = repo
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def open_pull_request(self, *, title: str, head: str, base: str, body: str) -> PullRequest:
        payload = {"title": title, "head": head, "base": base, "body": body, "maintainer_can_modify": True}
        try:
            response = self._http.post(f"/repos/{self.repo}/pulls", json=payload)
        except httpx.HTTPError as error:
            raise GitHubError(f"GitHub unreachable: {type(error).__name__}: {error}") from None
        if response.status_code != 201:
            raise GitHubError(f"GitHub refused the pull request ({response.status_code}): {_reason(response)}")
        data = response.json()
        return PullRequest(number=int(data["number"]), url=str(data["html_url"]), head=head, base=base)

    def close(self) -> None:
        self._http.close()


def _reason(response: httpx.Response) -> str:
    """GitHub's `message` and each `errors[].message` (or code), as one line."""
    try:
        data: dict[str, Any] = response.json()
    except ValueError:
        return response.text[:200]
    details = [str(e.get("message") or e.get("code")) for e in data.get("errors", []) if isinstance(e, dict)]
    return "; ".join([str(data.get("message", "")), *details]).strip("; ")
