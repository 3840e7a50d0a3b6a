"""The API tests' client: a wired app on a store, users of every role, and a client that signs in
as any of them, with the bodies and steps the API tests share. No tests here; the ``api`` fixture
that builds one per test is in ``conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from unittest.mock import patch

from fastapi.testclient import TestClient

from aggregates.clock import today_in_shanghai
from aggregates.credit_code import with_check_character
from support import Served

HOST = with_check_character("91430100MA4L16JQ9")
OTHER_HOST = with_check_character("91430104MA4PB2K3X")
EXPERT_AFFILIATIONS = [with_check_character(f"1243000044487600{i}") for i in range(6)]
PASSWORD = "correct-horse-battery"
ROLES_USERS = {
    "applicant": ("applicant", HOST), "other_applicant": ("applicant", OTHER_HOST),
    "service_agency": ("service_agency", None), "bureau": ("bureau", None), "finance": ("finance", None),
    "auditor": ("auditor", None),
    **{f"expert{i}": ("expert", code) for i, code in enumerate(EXPERT_AFFILIATIONS[:5], start=1)},
    "expert_conflicted": ("expert", HOST),
}


SECRET_KEY = "test-secret-key-of-at-least-32-characters!!"  # the tests' PLATFORMS_SECRET_KEY


class Api:
    """A TestClient that knows how to sign in as each test user."""

    def __init__(self, client: TestClient, container: Any) -> None:
        self.client = client
        self.container = container
        self._tokens: dict[str, str] = {}
        # The read models follow the log in the background (eventually consistent, docs/API.md).
        # Like a careful client, reads wait for the last position a write returned, so a test
        # reads its own writes instead of racing the runner.
        self.last_position = 0

    def headers(self, user: str | None, **extra: str) -> dict[str, str]:
        if user is None:
            return dict(extra)
        if user not in self._tokens:
            # Minted like POST /auth/token does, without paying argon2 per user (tested in test_api_auth).
            from api.auth import issue_token

            u = self.container.users.get(user)
            assert u is not None, user
            self._tokens[user] = issue_token(self.container.settings.secret_key, u.username, u.role,
                                             u.credit_code, 5, version=u.token_version)[0]
        return {"Authorization": f"Bearer {self._tokens[user]}", **extra}

    def post(self, path: str, user: str | None, body: Any = None, **headers: str):
        """POST as ``user``. An applicant's or expert's past ``business_date`` is sent *on* that day
        (the API's "today" is set to it), since they may only act on the day they act."""
        day = body.get("business_date") if isinstance(body, dict) else None
        if user is not None and ROLES_USERS[user][0] in ("applicant", "expert") and isinstance(day, str):
            try:
                on = date.fromisoformat(day)
            except ValueError:
                on = None
            if on is not None and on <= today_in_shanghai():
                with patch("api.commands_support.today_in_shanghai", lambda: on):
                    return self._remember(self.client.post(f"/api/v1{path}", json=body,
                                                           headers=self.headers(user, **headers)))
        return self._remember(self.client.post(f"/api/v1{path}", json=body, headers=self.headers(user, **headers)))

    def _remember(self, response):
        if response.is_success and "json" in response.headers.get("content-type", ""):
            position = response.json().get("position") if isinstance(response.json(), dict) else None
            if isinstance(position, int):
                self.last_position = max(self.last_position, position)
        return response

    def get(self, path: str, user: str | None, **params: Any):
        """GET as ``user``; waits for the last write's position unless the test passes its own."""
        if self.last_position and "min_position" not in params:
            params["min_position"] = self.last_position
        return self.client.get(f"/api/v1{path}", params=params, headers=self.headers(user))


def make_api(store_url: str, tmp_path: Path, **overrides: Any) -> tuple[Api, Any]:
    from api.app import create_app
    from api.bootstrap import build_container
    from api.settings import Settings

    # The integrity watch checks the log but does not sign: tests sign when they mean to
    # (tests/test_audit_watch.py drives the signing watch through the serving app). Nor does the
    # deadline watch run: the tests drive past programmes day by day, as an archive is imported
    # (tests/test_art9_deadline_watch.py runs it through the serving app).
    # The test's environment (its checkpoint keys and witnesses, tests/conftest.py) and its own store.
    settings = Settings.from_env(database_url=store_url, var_dir=tmp_path / "var", checkpoint_signer=False,
                                 **{"deadline_watch": False, "secret_key": SECRET_KEY, **overrides})
    container = build_container(settings)
    for name, (role, code) in ROLES_USERS.items():
        if container.users.get(name) is None:
            container.users.add(name, role, PASSWORD, code)
    client = TestClient(create_app(container), raise_server_exceptions=False)
    return Api(client, container), container


@contextmanager
def served_api(root: Path) -> Iterator[tuple[Served, Api]]:
    """The API on an empty SQLite store under ``root``, with a user of every role, served over
    real HTTP by uvicorn in a thread (for a browser or a generated client)."""
    api, container = make_api(f"sqlite:///{root / 'events.sqlite3'}", root)
    try:
        with Served(container) as served:
            yield served, api
    finally:
        container.close()


def application(**over: Any) -> dict[str, Any]:
    body = {
        "name": "星河智能算力开放创新平台", "subfield": "智能算力",
        "host_unit": {"name": "湖南星河智算科技有限公司", "credit_code": HOST,
                      "high_tech_certificate": {"number": "GR202143000123", "valid_until": "2024-12-31"}},
        "co_builders": [], "commitments": "每年投入不少于1000万元",
        "achievements": [{"title": "智算调度系统", "stage": "industrial"}],
        "basic_conditions": {"technical_strength": "a", "open_sharing": "b", "service_mechanism": "c"},
        "business_date": "2022-03-01",
    }
    body.update(over)
    return body


def download_export(api: Api, user: str | None = "auditor") -> Any:
    """``GET /audit/export`` as ``user``: the whole log, one JSON line each."""
    return api.client.get("/api/v1/audit/export", headers=api.headers(user))


def scores(api: Api) -> dict[str, int]:
    policy = api.container.app.policies.get("长科发〔2021〕36号")
    return {c.criterion: c.max_points - 3 for c in policy.rubric}


def to_in_publicity(api: Api, batch_ref: str | None = None, **apply_over: Any) -> tuple[str, int]:
    """A platform applied 2022-03-01 and publicized from 2022-09-29 (window → 2022-10-10)."""
    r = api.post("/platforms", "applicant", application(**apply_over))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert api.post(f"/platforms/{pid}/intake", "service_agency",
                    {"decision": "accepted", "reasons": "ok", "business_date": "2022-03-05"}).status_code == 200
    for i in range(1, 6):
        r = api.post(f"/platforms/{pid}/scores", f"expert{i}", {"scores": scores(api), "business_date": "2022-03-10"})
        assert r.status_code == 200, r.text
    assert api.post(f"/platforms/{pid}/inspection", "bureau",
                    {"passed": True, "findings": "fine", "business_date": "2022-04-01"}).status_code == 200
    r = api.post(f"/platforms/{pid}/approval", "bureau", {
        "party_group_meeting_ref": "PG-1", "vice_mayor_approval_ref": "VM-1", "funding_plan_ref": "FP-1",
        "business_date": "2022-09-01"})
    assert r.status_code == 200, r.text
    r = api.post("/publicity-batches", "bureau", {"batch_ref": batch_ref or f"公示-{pid[:8]}", "media": "长沙晚报",
                                                  "start_date": "2022-09-29", "platform_ids": [pid],
                                                  "business_date": "2022-09-28"})
    assert r.status_code == 201, r.text
    return pid, r.json()["position"]
