"""Who may change the corpus: the holder of the server's bearer token (reads stay open)."""

from __future__ import annotations

import hmac

from qa.errors import ApiError
from qa.settings import Settings


def require_token(settings: Settings, authorization: str | None) -> None:
    """403 when the server has no token (writes are off), 401 for a missing or wrong one.

    The comparison takes the same time wherever the tokens differ.
    """
    if settings.api_token is None:
        raise ApiError(
            403, "writes_disabled", "document writes are off on this server: start it with WENYUAN_API_TOKEN set"
        )
    scheme, _, given = (authorization or "").strip().partition(" ")
    expected = settings.api_token.get_secret_value().encode("utf-8")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("utf-8", "replace"), expected):
        raise ApiError(
            401,
            "unauthorized",
            "send the server's token as the header Authorization: Bearer <token>",
            {"WWW-Authenticate": "Bearer"},
        )
