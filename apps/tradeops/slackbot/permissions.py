"""Who may run write commands: Slack user ids, or members of Slack user groups, named in the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk import WebClient

log = logging.getLogger(__name__)

GroupMembers = Callable[[str], Iterable[str]]  # user group id -> its user ids


class Permissions:
    """Read commands are open to the channel; write commands need a listed user or user group."""

    def __init__(self, writers: str, group_members: GroupMembers) -> None:
        ids = [w for w in writers.split(",") if w]
        self.users = {w for w in ids if not w.startswith("S")}
        self.groups = [w for w in ids if w.startswith("S")]
        self.group_members = group_members

    def may_write(self, user_id: str) -> bool:
        """True for a listed user or a member of a listed group; an unanswerable group lookup denies."""
        if user_id in self.users:
            return True
        for group in self.groups:
            try:
                if user_id in set(self.group_members(group)):
                    return True
            except Exception as error:  # noqa: BLE001 - Slack unreachable: fail closed, say so in the log
                log.warning("cannot list the members of user group %s: %s", group, error)
        return False


def slack_group_members(client: WebClient) -> GroupMembers:
    """Look members up with `usergroups.users.list` (scope `usergroups:read`)."""

    def members(group: str) -> list[str]:
        users: list[Any] = client.usergroups_users_list(usergroup=group).get("users", [])
        return [str(u) for u in users]

    return members
