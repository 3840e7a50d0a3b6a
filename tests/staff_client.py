"""The workbench tests' browser: a TestClient that signs in through the form, as a person would
(no tests here). Built on the ``api`` fixture's app and users (:mod:`api_client`)."""

from __future__ import annotations

import re
from typing import Any

from api_client import PASSWORD, Api
from demo_store import hidden


class Staff:
    """Signs in and out of ``/staff/`` with the form and its CSRF token."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.client = api.client

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, follow_redirects=False, **kw)

    def login(self, username: str, password: str = PASSWORD) -> Any:
        form = self.client.get("/staff/login")
        assert form.status_code == 200, form.text
        return self.client.post("/staff/login", data={"username": username, "password": password,
                                                      "csrf_token": hidden(form.text, "csrf_token")},
                                follow_redirects=False)

    def sign_in(self, username: str) -> str:
        """Sign in as ``username`` and return the inbox's HTML."""
        r = self.login(username)
        assert r.status_code == 303 and r.headers["location"] == "/staff/", r.text
        page = self.get("/staff/")
        assert page.status_code == 200, page.text
        return page.text

    def logout(self) -> Any:
        page = self.get("/staff/")
        return self.client.post("/staff/logout", data={"csrf_token": hidden(page.text, "csrf_token")},
                                follow_redirects=False)

    def settle(self) -> None:
        """Wait until the read models have applied every event written so far."""
        from projections.runner import max_position

        c = self.api.container
        c.notify()
        assert c.runner.wait_for(max_position(c.app), 10)


def section(html: str, key: str) -> str:
    """The HTML of one inbox section (``inbox-KEY``)."""
    m = re.search(rf'<section class="inbox-section" id="inbox-{key}".*?</section>', html, re.S)
    assert m, f"no inbox section {key}"
    return m.group(0)


def platform_ids(html: str) -> list[str]:
    return re.findall(r'data-platform="([0-9a-f-]{36})"', html)
