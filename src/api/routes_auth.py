"""``POST /auth/token``: the OAuth2 password flow (docs/API.md, "Authentication")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from .auth import issue_token
from .bootstrap import Container
from .deps import get_container
from .errors import ProblemException, problem_responses
from .schemas import Token
from .sign_in import sign_in

router = APIRouter()


def _locked(seconds: int) -> ProblemException:
    return ProblemException(429, "too_many_login_attempts",
                            f"too many wrong passwords for this account or from this address; try again in "
                            f"{seconds} seconds", headers={"Retry-After": str(seconds)}, params={"seconds": seconds})


@router.post("/auth/token", response_model=Token, responses=problem_responses(401, 422, 429),
             summary="Sign in (OAuth2 password flow)")
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request,
          c: Annotated[Container, Depends(get_container)]) -> Token:
    """Exchange a username and password for a signed bearer token that expires. Too many wrong
    passwords for one account or from one client address lock further attempts for a while
    (429 with ``Retry-After``), the right password included."""
    address = request.client.host if request.client else "unknown"
    result = sign_in(c.users, c.throttle, form.username, form.password, address)
    if result.locked_for:
        raise _locked(result.locked_for)
    user = result.user
    if user is None:
        raise ProblemException(401, "invalid_credentials", "wrong username or password",
                               headers={"WWW-Authenticate": "Bearer"})
    access, lifetime = issue_token(c.settings.secret_key, user.username, user.role, user.credit_code,
                                   c.settings.token_minutes, version=user.token_version)
    return Token(access_token=access, expires_in=lifetime, role=user.role.value)
