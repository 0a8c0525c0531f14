"""Who may change the corpus (the holder of the server's bearer token), and who may use /v1 when a token is set."""

from __future__ import annotations

import hmac

from qa.errors import ApiError
from qa.settings import Settings


def _given(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None for another scheme or no header."""
    scheme, _, given = (authorization or "").strip().partition(" ")
    return given.strip() if scheme.lower() == "bearer" else None


def _matches(settings: Settings, given: str | None) -> bool:
    """The comparison takes the same time wherever the tokens differ."""
    if settings.api_token is None or given is None:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "replace"), settings.api_token.get_secret_value().encode("utf-8")
    )


def require_token(settings: Settings, authorization: str | None) -> None:
    """403 when the server has no token (writes are off), 401 for a missing or wrong one."""
    if settings.api_token is None:
        raise ApiError(
            403,
            "writes_disabled",
            "document writes are off on this server: start it with WENYUAN_API_TOKEN set",
        )
    if not _matches(settings, _given(authorization)):
        raise ApiError(
            401,
            "unauthorized",
            "send the server's token as the header Authorization: Bearer <token>",
            {"WWW-Authenticate": "Bearer"},
        )


def check_bearer(settings: Settings, authorization: str | None) -> None:
    """The OpenAI-compatible API: open when the server has no token, else 401 ``invalid_api_key`` without it.

    Clients of that API always send some key, so with no token configured any key, or none, is accepted.
    """
    if settings.api_token is None:
        return
    given = _given(authorization)
    if not _matches(settings, given):
        what = "no API key was sent" if not given else "the API key is not this server's"
        raise ApiError(
            401,
            "invalid_api_key",
            f"{what}: set the client's API key to the server's WENYUAN_API_TOKEN",
            {"WWW-Authenticate": "Bearer"},
        )
