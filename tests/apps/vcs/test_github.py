"""The GitHub client against a local fake speaking GitHub's JSON: comments edited in place, pull requests."""

from __future__ import annotations

import pytest

from tests.fakes.github_api import FakeGitHub
from tradeops.vcs import GitHubClient, GitHubError

REPO = "acme/tradeops"


@pytest.fixture
def github():
    fake = FakeGitHub("t0ken", {REPO})
    yield fake
    fake.stop()


def test_upsert_finds_its_comment_on_a_later_page_and_edits_it_in_place(github):
    client = GitHubClient("t0ken", base_url=github.base_url)
    for i in range(150):
        github.add_comment(REPO, 3, f"review {i}")
    first = client.upsert_comment(REPO, 3, "<!-- m -->", "one")
    github.add_comment(REPO, 4, "<!-- m --> another pull request")
    again = client.upsert_comment(REPO, 3, "<!-- m -->", "two")
    assert first.created and not again.created and again.id == first.id
    assert github.comments[first.id]["body"] == "<!-- m -->\ntwo"
    assert {"method": "GET", "path": f"/repos/{REPO}/issues/3/comments"}.items() <= github.requests[0].items()
    assert sum(1 for r in github.requests if r["method"] == "GET") >= 4  # two pages per upsert
    client.close()


def test_a_long_body_is_cut_under_the_limit_github_enforces(github):
    client = GitHubClient("t0ken", base_url=github.base_url)
    posted = client.upsert_comment(REPO, 5, "<!-- m -->", "y" * 70_000)
    body = github.comments[posted.id]["body"]
    assert len(body) < 65_536 and body.startswith("<!-- m -->") and "truncated" in body


def test_create_pull_request(github):
    client = GitHubClient("t0ken", base_url=github.base_url)
    pull = client.create_pull_request(REPO, "propose/prod-fast-12", "main", "prod: fast=12", "verdict: passed")
    assert pull.id == 1 and pull.url.endswith("/pull/1")
    assert github.pulls[0]["head"]["ref"] == "propose/prod-fast-12" and github.pulls[0]["body"] == "verdict: passed"


def test_github_errors_say_which_call_and_why(github):
    with pytest.raises(GitHubError, match=r"GitHub refused the comments of acme/tradeops#1 \(401\): Bad credentials"):
        GitHubClient("wrong", base_url=github.base_url).upsert_comment(REPO, 1, "m", "b")
    with pytest.raises(GitHubError, match=r"\(422\): Validation Failed; missing_field"):
        GitHubClient("t0ken", base_url=github.base_url).create_pull_request(REPO, "", "main", "t", "b")
    with pytest.raises(GitHubError, match=r"\(404\): Not Found"):
        GitHubClient("t0ken", base_url=github.base_url).comments("acme/other", 1)
    with pytest.raises(GitHubError, match="unreachable"):
        GitHubClient("t0ken", base_url="http://127.0.0.1:1").comments(REPO, 1)
