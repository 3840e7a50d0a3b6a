"""Signing in with a username and password, throttled (登录): the one procedure behind the API's
``POST /auth/token`` and the staff workbench's sign-in form, so both count the same failures
and lock the same accounts and addresses (:mod:`api.login_throttle`)."""

from __future__ import annotations

from dataclasses import dataclass

from .login_throttle import LoginThrottle
from .users import USERNAME, User, UserRepository


@dataclass(frozen=True)
class SignIn:
    """The outcome: the ``user`` signed in, or None; ``locked_for`` seconds to wait (0: not
    locked, the password was simply wrong)."""

    user: User | None
    locked_for: int = 0


def sign_in(users: UserRepository, throttle: LoginThrottle, username: str, password: str, address: str) -> SignIn:
    """Check ``username`` and ``password`` from client ``address``. Too many wrong passwords for
    the account or from the address lock further attempts for a while, the right password
    included; a right one clears the account's count."""
    wait = throttle.retry_after(username, address)
    if wait:
        return SignIn(None, wait)
    user = None
    if USERNAME.match(username) and len(password) <= 1024:  # no account has another name
        user = users.authenticate(username, password)
    if user is None:
        return SignIn(None, throttle.failed(username, address))
    throttle.succeeded(user.username)
    return SignIn(user)


__all__ = ["SignIn", "sign_in"]
