"""Version control hosting: the GitHub REST API (pull-request comments, pull requests)."""

from tradeops.vcs.github import GitHubClient, GitHubError

__all__ = ["GitHubClient", "GitHubError"]
