"""Tokens (OAuth2 password flow): signed HS256 JWTs with an expiry.

A token names the user (``sub``), the role, for applicants and experts the credit code (host
unit or affiliation), and the account's token version (``ver``). Events record ``sub`` as the
actor: the identity comes from the signature, never from a request body. A good signature is not
enough: every request also asks the account (:meth:`api.users.UserRepository.accepts`) whether
it still exists, is enabled and still has that version, so disabling it or changing its password
revokes its tokens at once.

Rotating ``PLATFORMS_SECRET_KEY``: tokens are signed with the current key only; while
``PLATFORMS_PREVIOUS_SECRET_KEY`` names the key before it, a token that key signed is still
accepted until it expires (:func:`read_token` is given both), so nobody is signed out by a
rotation. Without it, every token of the old key answers 401 and its holder signs in again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
    token_version: int = 0


PUBLIC = Principal(actor_id="public", role=Role.PUBLIC)


class InvalidToken(Exception):
    """A token that is malformed, badly signed, expired or names an unknown role."""


class _WrongKey(InvalidToken):
    """A token whose signature is not this key's: another key (the previous one) may have made it."""


def issue_token(secret: str, actor_id: str, role: Role, credit_code: str | None, minutes: int,
                version: int = 0) -> tuple[str, int]:
    """A signed token under the account's token ``version``, and its lifetime in seconds."""
    now = datetime.now(UTC)
    claims = {"sub": actor_id, "role": role.value, "credit_code": credit_code, "ver": version, "iss": ISSUER,
              "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), minutes * 60


def read_token(secret: str, token: str, previous: str = "") -> Principal:
    """The principal a token names, signed by ``secret`` or, during a rotation, by the
    ``previous`` key; raises :class:`InvalidToken`."""
    try:
        return _verified_tokens.read(secret, token)
    except _WrongKey:
        if not previous:
            raise
    return _verified_tokens.read(previous, token)


def _decode(secret: str, token: str) -> tuple[Principal, int]:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub"]})
        if type(claims["ver"]) is not int:
            raise ValueError("the token version is not a whole number")
        principal = Principal(actor_id=str(claims["sub"]), role=Role(claims["role"]),
                              credit_code=claims.get("credit_code") or None, token_version=claims["ver"])
        return principal, int(claims["exp"])
    except jwt.InvalidSignatureError as exc:
        raise _WrongKey(str(exc)) from None
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from None


class VerifiedTokens:
    """Tokens whose signature and claims were checked, until they expire.

    A client sends the same token with every request until it expires; checking its HMAC and
    claims each time is most of an authenticated cached read. A token is immutable and only its
    expiry can change what its signature proves, so a verified one is kept (bounded LRU, keyed by
    secret and token) with its ``exp``, and re-checked against the clock on every use. Failures
    are never kept: a bad token is decoded (and refused) every time. Whether its account still
    accepts it is not kept here: that is asked on every request (:mod:`api.deps`)."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._known: OrderedDict[tuple[str, str], tuple[Principal, int]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, secret: str, token: str) -> Principal:
        key = (secret, token)
        with self._lock:
            known = self._known.get(key)
            if known is not None:
                if time.time() < known[1]:
                    self._known.move_to_end(key)
                    return known[0]
                del self._known[key]
        principal, exp = _decode(secret, token)  # raises InvalidToken, expired ones included
        with self._lock:
            self._known[key] = (principal, exp)
            while len(self._known) > self.maxsize:
                self._known.popitem(last=False)
        return principal


_verified_tokens = VerifiedTokens()
