"""The GitHub client against the fake speaking GitHub's JSON, the private clone, and stack file edits."""

from __future__ import annotations

import base64

import pytest

from tests.apps.vcs.conftest import GITHUB_REPO, GITHUB_TOKEN, git
from tests.fakes.servers import free_port
from tradeops.errors import ConfigError
from tradeops.vcs.git import Clone, GitError
from tradeops.vcs.github import GitHubClient, GitHubError, RepositoryPulls
from tradeops.vcs.stackfile import read_settings, stack_file, with_params


@pytest.mark.req("OE-3")
def test_oe_3_github_refusals_carry_githubs_reasons(fake_github):
    client = RepositoryPulls(GitHubClient(GITHUB_TOKEN, base_url=fake_github.url), GITHUB_REPO)
    pull = client.open_pull_request(title="t", head="main", base="main", body="b")
    assert (pull.number, pull.url) == (1, "https://github.com/acme/tradeops/pull/1")
    with pytest.raises(GitHubError, match=r"\(422\): Validation Failed; invalid"):
        client.open_pull_request(title="t", head="no-such-branch", base="main", body="b")
    with pytest.raises(GitHubError, match=r"\(401\): Bad credentials"):
        RepositoryPulls(GitHubClient("wrong", base_url=fake_github.url), GITHUB_REPO).open_pull_request(
            title="t", head="main", base="main", body=""
        )
    with pytest.raises(GitHubError, match=r"\(404\): Not Found"):
        RepositoryPulls(GitHubClient(GITHUB_TOKEN, base_url=fake_github.url), "acme/other").open_pull_request(
            title="t", head="main", base="main", body=""
        )
    with pytest.raises(GitHubError, match=r"GitHub unreachable \(the pull request\): ConnectError"):
        RepositoryPulls(
            GitHubClient(GITHUB_TOKEN, base_url=f"http://127.0.0.1:{free_port()}"), GITHUB_REPO
        ).open_pull_request(title="t", head="main", base="main", body="")
    client.close()


@pytest.mark.req("OE-3")
def test_oe_3_the_clone_fails_clearly_and_keeps_tokens_out_of_arguments(tmp_path, origin):
    with pytest.raises(GitError, match="git clone failed"):
        Clone(tmp_path / "c1", str(tmp_path / "missing.git")).sync()
    clone = Clone(tmp_path / "c2", "https://github.com/acme/tradeops.git", token="ghp_secret")
    header = clone._env["GIT_CONFIG_VALUE_0"]
    assert header == "Authorization: Basic " + base64.b64encode(b"x-access-token:ghp_secret").decode()
    local = Clone(tmp_path / "c3", str(origin), token="ghp_secret")
    assert "GIT_CONFIG_COUNT" not in local._env  # a token only ever goes to an HTTPS remote
    local.sync()
    assert "tradeops:settings" in local.read("main", "infra/stacks/Pulumi.prod.yaml")
    assert local.read(local.head("main"), "infra/stacks/Pulumi.prod.yaml") == local.read(
        "main", "infra/stacks/Pulumi.prod.yaml"
    )
    with pytest.raises(ConfigError, match="not found on main"):
        local.read("main", "infra/stacks/Pulumi.qa.yaml")
    assert git("rev-parse", "--is-bare-repository", cwd=origin).strip() == "true"


@pytest.mark.req("OE-3")
def test_oe_3_stack_files_are_checked_and_edited_in_place():
    assert stack_file("prod") == "infra/stacks/Pulumi.prod.yaml"
    for bad in ("Prod", "../x", "", "a" * 60):
        with pytest.raises(ConfigError, match="is not a stack name"):
            stack_file(bad)
    with pytest.raises(ConfigError, match="not valid YAML"):
        read_settings("config: [", "f.yaml")
    with pytest.raises(ConfigError, match=r"no `config\.tradeops:settings` mapping"):
        read_settings("config: {}", "f.yaml")
    with pytest.raises(ConfigError, match=r"no `config\.tradeops:settings\.candidate` to edit"):
        with_params("config:\n  tradeops:settings: {}\n", {"fast": 3}, "f.yaml")
    text = "# keep me\nconfig:\n  tradeops:settings:\n    candidate:\n      strategy: sma_cross  # note\n"
    assert with_params(text, {"fast": 3}, "f.yaml") == text + "      params:\n        fast: 3\n"
