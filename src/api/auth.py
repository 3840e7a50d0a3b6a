"""Tokens (OAuth2 password flow): signed HS256 JWTs with an expiry.

A token names the user (``sub``), the role and, for applicants and experts, the credit code
(host unit or affiliation). Events record ``sub`` as the actor: the identity comes from the
signature, never from a request body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from aggregates.values import Role

ALGORITHM = "HS256"
ISSUER = "platform-registry"


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``actor_id`` (the username), ``role``, ``credit_code`` (or None)."""

    actor_id: str
    role: Role
    credit_code: str | None = None


PUBLIC = Principal(actor_id="public", role=Role.PUBLIC)


class InvalidToken(Exception):
    """A token that is malformed, badly signed, expired or names an unknown role."""


def issue_token(secret: str, actor_id: str, role: Role, credit_code: str | None, minutes: int) -> tuple[str, int]:
    """A signed token and its lifetime in seconds."""
    now = datetime.now(timezone.utc)
    claims = {"sub": actor_id, "role": role.value, "credit_code": credit_code, "iss": ISSUER,
              "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), minutes * 60


def read_token(secret: str, token: str) -> Principal:
    """The principal a token names; raises :class:`InvalidToken`."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub"]})
        return Principal(actor_id=str(claims["sub"]), role=Role(claims["role"]),
                         credit_code=claims.get("credit_code") or None)
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise InvalidToken(str(exc)) from None
