"""Bearer-token guard for mutating calls, shared by every tradeops API (constant-time comparison)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tradeops.settings import AppSettings

bearer = HTTPBearer(auto_error=False)


def token_guard(settings: AppSettings) -> Callable[..., None]:
    """A dependency that answers 401 unless the request carries the configured token."""

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        expected = settings.api_token.get_secret_value() if settings.api_token else None
        if expected is None:
            return  # local mode without a token: documented as open
        given = credentials.credentials if credentials else ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    return authorised
