"""Bearer-token authentication shared by every tradeops API (constant-time comparison).

The principal a request authenticated as is what the audit log records as the actor: `token:<name>`
(`api_token_name`), or `local:anonymous` in local mode without a token. A request body never names it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tradeops.settings import AppSettings

bearer = HTTPBearer(auto_error=False)
LOCAL_ANONYMOUS = "local:anonymous"


@dataclass(frozen=True)
class Principal:
    """Who a request authenticated as: the name the audit log records."""

    name: str


class BearerAuth:
    """Check an `Authorization` header against the configured token."""

    def __init__(self, settings: AppSettings) -> None:
        self._expected = settings.api_token.get_secret_value().encode() if settings.api_token else None
        self._principal = Principal(f"token:{settings.api_token_name}" if self._expected else LOCAL_ANONYMOUS)

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal of a correct `Bearer <token>` header (any, in local mode without a token), else None."""
        if self._expected is None:
            return self._principal  # local mode without a token: documented as open
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self._expected):
            return None
        return self._principal


def token_guard(settings: AppSettings) -> Callable[..., Principal]:
    """A dependency that answers 401 unless the request carries the configured token; returns the principal."""
    auth = BearerAuth(settings)

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
        principal = auth.authenticate(f"Bearer {credentials.credentials}" if credentials else None)
        if principal is None:
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
        return principal

    return authorised
