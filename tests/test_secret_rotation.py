"""Rotating ``PLATFORMS_SECRET_KEY`` (docs/运维手册.md, 密钥轮换): with the old key in
``PLATFORMS_PREVIOUS_SECRET_KEY`` nobody is signed out and a public retry still replays; without
it, what the old key signed is refused and a public retry is a new request.

Each app below is the service restarted on the same store with other keys, as the operator does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from api.settings import Settings, SettingsError
from api.staff_forms import Signer
from api_client import SECRET_KEY, Api, make_api, to_in_publicity
from staff_client import Staff

NEW_KEY = "the-new-secret-key-after-the-rotation-0123456789"
OBJECTION = {"objector_name": "市民", "contact": "13800000000", "content": "对申报数据有疑问，请予核查"}


@contextmanager
def restarted(store_url: str, tmp_path: Path, **keys: Any) -> Iterator[Api]:
    api, container = make_api(store_url, tmp_path, **keys)
    try:
        with api.client:
            yield api
    finally:
        container.close()


def _bearer(api: Api, user: str) -> dict[str, str]:
    return api.headers(user)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_tokens_of_the_old_key_pass_until_they_expire_during_a_secret_rotation(api: Api, store_url: str,
                                                                               tmp_path: Path) -> None:
    old_token = _bearer(api, "bureau")
    assert api.client.get("/api/v1/deadlines", headers=old_token).status_code == 200
    with restarted(store_url, tmp_path, secret_key=NEW_KEY, previous_secret_key=SECRET_KEY) as rotated:
        assert rotated.client.get("/api/v1/deadlines", headers=old_token).status_code == 200
        new_token = _bearer(rotated, "bureau")
        assert rotated.client.get("/api/v1/deadlines", headers=new_token).status_code == 200
    assert api.client.get("/api/v1/deadlines", headers=new_token).status_code == 401  # signed by the new key
    with restarted(store_url, tmp_path, secret_key=NEW_KEY) as after:  # the previous key removed
        refused = after.client.get("/api/v1/deadlines", headers=old_token)
        assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
        assert after.client.get("/api/v1/deadlines", headers=new_token).status_code == 200


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_workbench_session_survives_a_secret_rotation_with_the_previous_key(api: Api, store_url: str,
                                                                              tmp_path: Path) -> None:
    assert Staff(api).login("bureau").status_code == 303
    cookie = api.client.cookies.get("staff_session")
    assert cookie
    with restarted(store_url, tmp_path, secret_key=NEW_KEY, previous_secret_key=SECRET_KEY) as rotated:
        rotated.client.cookies.set("staff_session", cookie, path="/staff")
        page = rotated.client.get("/staff/", follow_redirects=False)
        assert page.status_code == 200 and 'class="who-name">bureau<' in page.text
    with restarted(store_url, tmp_path, secret_key=NEW_KEY) as after:
        after.client.cookies.set("staff_session", cookie, path="/staff")
        again = after.client.get("/staff/", follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"].startswith("/staff/login")  # sign in again


def test_a_confirmation_page_signed_before_a_secret_rotation_is_still_confirmed_with_the_previous_key() -> None:
    values = {"decision_ref": "长科发〔2022〕9号"}
    before = Signer(SECRET_KEY).dump("approval", values)
    assert Signer(NEW_KEY, SECRET_KEY).load("approval", before) == values
    assert Signer(NEW_KEY).load("approval", before) is None  # without it: the form is shown again
    after = Signer(NEW_KEY, SECRET_KEY).dump("approval", values)
    assert Signer(NEW_KEY).load("approval", after) == values  # new ones under the new key alone


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_public_retry_replays_across_a_secret_rotation_only_with_the_previous_key(api: Api, store_url: str,
                                                                                    tmp_path: Path) -> None:
    pid, _ = to_in_publicity(api)
    path = f"/platforms/{pid}/objections"
    first = api.post(path, None, OBJECTION, **{"Idempotency-Key": "form-7"})
    assert first.status_code == 200, first.text
    with restarted(store_url, tmp_path, secret_key=NEW_KEY, previous_secret_key=SECRET_KEY) as rotated:
        retry = rotated.post(path, None, OBJECTION, **{"Idempotency-Key": "form-7"})
        assert retry.status_code == 200
        assert retry.json() == first.json()  # the same receipt, objection and position: recorded once
    with restarted(store_url, tmp_path, secret_key=NEW_KEY) as after:
        late = after.post(path, None, OBJECTION, **{"Idempotency-Key": "form-7"})
        # The key's stored hash was made with the old key: without it the retry is a new objection.
        assert late.status_code == 200
        assert late.json()["objection_id"] != first.json()["objection_id"]
        # A retry under the new key alone replays as before.
        assert after.post(path, None, OBJECTION, **{"Idempotency-Key": "form-7"}).json() == late.json()


@pytest.mark.parametrize("previous, why", [("short", "at least 32"), (SECRET_KEY, "the same as")])
def test_a_previous_secret_key_that_cannot_serve_a_secret_rotation_is_refused(previous: str, why: str) -> None:
    with pytest.raises(SettingsError, match="PLATFORMS_PREVIOUS_SECRET_KEY") as refused:
        Settings.from_env(env={"PLATFORMS_SECRET_KEY": SECRET_KEY, "PLATFORMS_PREVIOUS_SECRET_KEY": previous})
    assert why in str(refused.value)
