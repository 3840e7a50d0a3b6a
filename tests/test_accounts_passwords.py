"""The password policy: short, blank, common and trivial passwords are refused wherever a
password is set, and the command line reads passwords from a hidden prompt or stdin, never argv."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from aggregates.errors import InvalidInput
from api.cli import app
from api.password_policy import check_password

runner = CliRunner()


@pytest.mark.parametrize("password, code", [
    ("12345678", "password_too_short"),
    (" " * 8, "password_too_short"),
    (" " * 12, "password_blank"),
    ("password2024!", "password_common"),
    ("Qwertyuiop123", "password_common"),
    ("woaini1314!!", "password_common"),
    ("aaaaaaaaaaaa", "password_trivial"),
    ("abcabcabcabc", "password_trivial"),
    ("123456789012", "password_trivial"),
    ("asdfghjkl;'a", "password_trivial"), ("cvbnm,./zxcv", "password_trivial"),
    ("zyxwvutsrqpo", "password_trivial"),
])
def test_weak_passwords_are_refused_with_the_reason(password: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_password(password)
    assert refused.value.code == code and refused.value.field == "password"


@pytest.mark.parametrize("password", ["correct-horse-battery", "湘江北去橘子洲头看万山红遍", "Tz7#qv9!Lm2@"])
def test_long_uncommon_passwords_are_accepted(password: str) -> None:
    assert check_password(password) == password


def test_users_add_refuses_a_weak_password_and_keeps_no_account(cli_env: Path) -> None:
    r = runner.invoke(app, ["users", "add", "alice", "--role", "bureau", "--password-stdin"], input="12345678\n")
    assert r.exit_code == 2 and "password" in r.output
    listed = runner.invoke(app, ["users", "list"])
    assert "alice" not in listed.output


def test_users_add_asks_for_the_password_twice_without_echoing_it(cli_env: Path) -> None:
    secret = "correct-horse-battery"
    r = runner.invoke(app, ["users", "add", "alice", "--role", "bureau"], input=f"{secret}\n{secret}\n")
    assert r.exit_code == 0, r.output
    assert secret not in r.output and "created alice" in r.output


def test_users_add_takes_no_password_argument(cli_env: Path) -> None:
    r = runner.invoke(app, ["users", "add", "alice", "--role", "bureau", "--password", "correct-horse-battery"])
    assert r.exit_code == 2 and "No such option" in r.output
