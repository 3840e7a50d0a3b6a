"""Tokens: a verified token is reused only until it expires, and only under its own key."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from aggregates.values import Role
from api.auth import InvalidToken, issue_token, read_token

SECRET = "s" * 40


def test_a_token_seen_before_is_refused_once_it_expires() -> None:
    with freeze_time("2026-11-25T08:00:00Z") as clock:
        token, lifetime = issue_token(SECRET, "finance", Role.FINANCE, None, minutes=60)
        assert read_token(SECRET, token).role is Role.FINANCE  # verified, then remembered
        clock.tick(lifetime - 1)
        assert read_token(SECRET, token).actor_id == "finance"
        clock.tick(2)
        with pytest.raises(InvalidToken):
            read_token(SECRET, token)


def test_a_remembered_token_does_not_pass_under_another_key_nor_altered() -> None:
    with freeze_time("2026-11-25T08:00:00Z"):
        token, _ = issue_token(SECRET, "bureau", Role.BUREAU, None, minutes=60)
        assert read_token(SECRET, token).role is Role.BUREAU
        with pytest.raises(InvalidToken):
            read_token("t" * 40, token)  # the key was rotated
        head, payload, signature = token.split(".")
        with pytest.raises(InvalidToken):
            read_token(SECRET, f"{head}.{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}")
