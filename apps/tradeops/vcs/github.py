"""A thin GitHub REST client on httpx: one comment per pull request edited in place, and new pull requests.

The pipelines post their PR comment with it; the Slack bot opens proposal pull requests through the
`PullRequests` interface (`RepositoryPulls` binds a client to one repository).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from tradeops.errors import TradeopsError

API_VERSION = "2022-11-28"
MAX_COMMENT = 65_536  # GitHub rejects longer issue-comment bodies
TRUNCATED = "\n\n... (truncated to fit GitHub's 65,536-character comment limit; the full reports are linked above)\n"


class GitHubError(TradeopsError):
    """GitHub refused or could not be reached; the message says what was asked and why it failed."""


@dataclass(frozen=True)
class Posted:
    """A comment or pull request as GitHub answered (`id` is the pull request's number)."""

    id: int
    url: str
    created: bool


@dataclass(frozen=True)
class PullRequest:
    """An opened pull request."""

    number: int
    url: str
    head: str
    base: str


@dataclass(frozen=True)
class Review:
    """An approving review as GitHub returned it: who, and its address."""

    login: str
    url: str


class PullRequests(Protocol):
    """Whatever opens pull requests in one repository (GitHub; a fake in tests)."""

    def open_pull_request(self, *, title: str, head: str, base: str, body: str) -> PullRequest: ...


def fit(body: str, limit: int = MAX_COMMENT) -> str:
    """Cut `body` so it stays under GitHub's limit, saying that it was cut."""
    return body if len(body) < limit else body[: limit - len(TRUNCATED) - 1] + TRUNCATED


def _reason(response: httpx.Response) -> str:
    """GitHub's `message` and each `errors[].message` (or code), as one line."""
    try:
        data: dict[str, Any] = response.json()
    except ValueError:
        return response.text[:200]
    details = [str(e.get("message") or e.get("code")) for e in data.get("errors", []) if isinstance(e, dict)]
    return "; ".join([str(data.get("message", "")), *details]).strip("; ")


class GitHubClient:
    """`repo` arguments are "owner/name"; `base_url` points at GitHub Enterprise or a local fake."""

    def __init__(self, token: str | None, *, base_url: str = "https://api.github.com", timeout: float = 30) -> None:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "tradeops",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, headers=headers)

    def _call(self, what: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise GitHubError(f"GitHub unreachable ({what}): {type(error).__name__}") from None
        if response.status_code >= 400:
            raise GitHubError(f"GitHub refused {what} ({response.status_code}): {_reason(response)}")
        return response

    def comments(self, repo: str, pr_number: int) -> list[dict[str, Any]]:
        """Every comment of the pull request, following GitHub's pagination."""
        found: list[dict[str, Any]] = []
        url: str | None = f"/repos/{repo}/issues/{pr_number}/comments?per_page=100"
        while url:
            response = self._call(f"the comments of {repo}#{pr_number}", "GET", url)
            found += response.json()
            url = response.links.get("next", {}).get("url")
        return found

    def approving_reviews(self, repo: str, pr_number: int) -> list[Review]:
        """Reviews that approve the pull request as their author's newest (a later "changes requested" withdraws)."""
        newest: dict[str, tuple[str, str]] = {}
        url: str | None = f"/repos/{repo}/pulls/{pr_number}/reviews?per_page=100"
        while url:
            response = self._call(f"the reviews of {repo}#{pr_number}", "GET", url)
            for review in response.json():  # oldest first, as GitHub lists them
                if review.get("state") in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                    newest[str(review["user"]["login"])] = (str(review["state"]), str(review.get("html_url", "")))
            url = response.links.get("next", {}).get("url")
        return [Review(login, link) for login, (state, link) in newest.items() if state == "APPROVED"]

    def pull_commits(self, repo: str, pr_number: int) -> set[str]:
        """The commits the pull request brought: its head and, once merged, the commit its merge made."""
        answer = self._call(f"pull request {repo}#{pr_number}", "GET", f"/repos/{repo}/pulls/{pr_number}").json()
        merged = answer.get("merge_commit_sha") if answer.get("merged") else None
        return {str(answer["head"]["sha"])} | ({str(merged)} if merged else set())

    def upsert_comment(self, repo: str, pr_number: int, marker: str, body: str) -> Posted:
        """Edit the comment holding `marker` in place, or create it; the body keeps the marker and the limit."""
        text = fit(f"{marker}\n{body}")
        mine = next((c for c in self.comments(repo, pr_number) if marker in (c.get("body") or "")), None)
        what = f"the comment on {repo}#{pr_number}"
        if mine is None:
            answer = self._call(what, "POST", f"/repos/{repo}/issues/{pr_number}/comments", json={"body": text})
            return Posted(answer.json()["id"], answer.json()["html_url"], created=True)
        answer = self._call(what, "PATCH", f"/repos/{repo}/issues/comments/{mine['id']}", json={"body": text})
        return Posted(answer.json()["id"], answer.json()["html_url"], created=False)

    def create_pull_request(self, repo: str, head: str, base: str, title: str, body: str) -> Posted:
        """Open a pull request from branch `head` into `base`."""
        payload = {"title": title, "head": head, "base": base, "body": fit(body), "maintainer_can_modify": True}
        answer = self._call("the pull request", "POST", f"/repos/{repo}/pulls", json=payload).json()
        return Posted(answer["number"], answer["html_url"], created=True)

    def close(self) -> None:
        self.http.close()


class RepositoryPulls:
    """`PullRequests` for one repository through a `GitHubClient`."""

    def __init__(self, client: GitHubClient, repo: str) -> None:
        self.client, self.repo = client, repo

    def open_pull_request(self, *, title: str, head: str, base: str, body: str) -> PullRequest:
        posted = self.client.create_pull_request(self.repo, head, base, title, body)
        return PullRequest(number=posted.id, url=posted.url, head=head, base=base)

    def close(self) -> None:
        self.client.close()
