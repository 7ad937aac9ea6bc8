"""Who approves a bundle, verified: a pull request's reviews read back from GitHub, or a token naming its principal.

A name typed on the command line never approves (Slack approvals come from signed requests: `Approver.slack`).
"""

from __future__ import annotations

from tradeops.bundles import Approver, BundleState
from tradeops.errors import ConfigError
from tradeops.settings import AppSettings

APPROVER_TOKEN = "TRADEOPS_APPROVER_TOKEN"  # noqa: S105 - the variable's name, not a token


def token_approver(settings: AppSettings, token: str | None) -> Approver:
    """The principal a bearer token names among TRADEOPS_MCP_TOKENS (the desk's PRINCIPAL=TOKEN pairs)."""
    from tradeops.assistant.access import Principals, parse_tokens

    configured = parse_tokens(settings.mcp_tokens.get_secret_value() if settings.mcp_tokens else "")
    if not token or not configured:
        raise ConfigError(
            f"a CLI approval needs your token in {APPROVER_TOKEN}, one of TRADEOPS_MCP_TOKENS' PRINCIPAL=TOKEN pairs "
            "(or approve from Slack, or record a pull request's reviews with --pr N)"
        )
    principal = Principals(configured, None).principal(f"Bearer {token}")
    if principal is None:
        raise ConfigError(f"{APPROVER_TOKEN} names no principal (it is not one of TRADEOPS_MCP_TOKENS)")
    return Approver(f"token:{principal}", "cli", f"a bearer token of principal {principal} (TRADEOPS_MCP_TOKENS)")


def pull_request_approvers(settings: AppSettings, repo: str, pr: int, bundle: BundleState) -> list[Approver]:
    """Every approving review of the pull request that brought the bundle's commit, as GitHub returns it."""
    from tradeops.vcs import GitHubClient

    if not repo or settings.github_token is None:
        raise ConfigError("approve --pr needs --repo OWNER/NAME (or $GITHUB_REPOSITORY) and TRADEOPS_GITHUB_TOKEN")
    client = GitHubClient(settings.github_token.get_secret_value(), base_url=settings.github_api_url, timeout=30)
    try:
        sha = bundle.content.git_sha
        if sha not in client.pull_commits(repo, pr):
            raise ConfigError(
                f"{repo}#{pr} did not bring commit {sha[:12]} of bundle {bundle.id}: its reviews do not approve it"
            )
        reviews = client.approving_reviews(repo, pr)
    finally:
        client.close()
    if not reviews:
        raise ConfigError(f"{repo}#{pr} has no approving review")
    return [Approver(f"github:{review.login}", "pull-request", review.url) for review in reviews]
