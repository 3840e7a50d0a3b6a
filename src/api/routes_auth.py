"""``POST /auth/token``: the OAuth2 password flow (API.md, "Authentication")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from .auth import issue_token
from .bootstrap import Container
from .deps import get_container
from .errors import ProblemException, problem_responses
from .schemas import Token

router = APIRouter(tags=["authentication"])


@router.post("/auth/token", response_model=Token, responses=problem_responses(401, 422),
             summary="Sign in (OAuth2 password flow)")
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()],
          c: Annotated[Container, Depends(get_container)]) -> Token:
    """Exchange a username and password for a signed bearer token that expires."""
    if len(form.username) > 64 or len(form.password) > 1024:
        raise ProblemException(401, "invalid_credentials", "wrong username or password",
                               headers={"WWW-Authenticate": "Bearer"})
    user = c.users.authenticate(form.username, form.password)
    if user is None:
        raise ProblemException(401, "invalid_credentials", "wrong username or password",
                               headers={"WWW-Authenticate": "Bearer"})
    access, lifetime = issue_token(c.settings.secret_key, user.username, user.role, user.credit_code,
                                   c.settings.token_minutes, version=user.token_version)
    return Token(access_token=access, expires_in=lifetime, role=user.role.value)
