"""Version control: a local git clone, the stack config files in it, and GitHub (comments, pull requests)."""

from tradeops.vcs.github import GitHubClient, GitHubError, PullRequest, PullRequests, RepositoryPulls

__all__ = ["GitHubClient", "GitHubError", "PullRequest", "PullRequests", "RepositoryPulls"]
