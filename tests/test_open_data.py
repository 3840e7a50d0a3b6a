"""One list envelope on every list, and the public lists as open data (issue 15, item 4): the
publicity list and the subfield registry as CSV a spreadsheet opens, the publicity batches as an
Atom 1.0 feed linked from the public home page."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.open_data import ATOM, PUBLICITY_HEADER, SUBFIELD_HEADER
from api_client import application, to_in_publicity
from demo_store import DemoStore, make_container, sign_checkpoint_now

A = f"{{{ATOM}}}"


class Site:
    def __init__(self, client: TestClient, container: Any) -> None:
        self.client, self.container = client, container

    def headers(self, username: str | None) -> dict[str, str]:
        if username is None:
            return {}
        from api.auth import issue_token

        user = self.container.users.get(username)
        token = issue_token(self.container.settings.secret_key, user.username, user.role, user.credit_code, 5,
                            version=user.token_version)[0]
        return {"Authorization": f"Bearer {token}"}

    def get(self, path: str, username: str | None = None, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers(username))


@pytest.fixture
def site(demo_store: DemoStore, checkpoint_key: Path) -> Iterator[Site]:
    from api.app import create_app

    container = make_container(demo_store)
    sign_checkpoint_now(container)
    with TestClient(create_app(container)) as client:
        yield Site(client, container)
    container.close()


def _a_platform(site: Site) -> str:
    return site.get("/api/v1/publicity-list").json()["items"][0]["platforms"][0]["id"]


# ------------------------------------------------------------------ the envelope
LISTS = [
    ("/api/v1/platforms", "bureau", 2),
    ("/api/v1/publicity-list", None, 1),
    ("/api/v1/subfields", None, 5),
    ("/api/v1/policies", None, 1),
    ("/api/v1/deadlines", "bureau", 1),
    ("/api/v1/audit/checkpoints", None, 1),
    ("/api/v1/audit/log", "auditor", 40),
    ("/api/v1/platforms/{pid}/history", "auditor", 3),
]


@pytest.mark.parametrize(("path", "user", "limit"), LISTS, ids=[p for p, _, _ in LISTS])
def test_every_list_pages_in_one_envelope(site: Site, path: str, user: str | None, limit: int) -> None:
    """``{items, next_cursor, total}``; following ``next_cursor`` visits every item once, and
    ``total`` (where counted) is how many there are."""
    path = path.format(pid=_a_platform(site))
    if path.endswith("/checkpoints"):
        sign_checkpoint_now(site.container)  # a second one, so that there are two pages
    whole = site.get(path, user, limit=500 if "audit/log" not in path else 1000).json()
    assert {"items", "next_cursor", "total"} <= set(whole)
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        r = site.get(path, user, **params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    walked = [item for items in pages for item in items]
    assert len(pages) > 1, "the example must need more than one page"
    assert walked == whole["items"]
    if whole["total"] is not None:
        assert whole["total"] == len(walked)


def test_lists_without_limit_still_answer_every_item(site: Site) -> None:
    """History, subfields, deadlines and policies answered everything before they were paged:
    without ``?limit=`` they still do."""
    pid = _a_platform(site)
    history = site.get(f"/api/v1/platforms/{pid}/history", "auditor").json()
    assert history["next_cursor"] is None and len(history["items"]) == history["total"] > 1
    assert history["items"][-1]["sequence"] == history["total"]
    subfields = site.get("/api/v1/subfields").json()
    assert subfields["policy"] and len(subfields["items"]) == subfields["total"] >= 18
    assert site.get("/api/v1/policies").json()["next_cursor"] is None


def test_checkpoints_keep_after_and_next_after(site: Site) -> None:
    sign_checkpoint_now(site.container)
    first = site.get("/api/v1/audit/checkpoints", limit=1).json()
    assert first["next_after"] == first["items"][0]["id"]
    by_after = site.get("/api/v1/audit/checkpoints", limit=1, after=first["next_after"]).json()
    by_cursor = site.get("/api/v1/audit/checkpoints", limit=1, cursor=first["next_cursor"]).json()
    assert by_after["items"] == by_cursor["items"] and by_after["items"][0]["id"] > first["items"][0]["id"]


def test_a_cursor_from_another_list_is_refused(site: Site) -> None:
    cursor = site.get("/api/v1/subfields", limit=1).json()["next_cursor"]
    r = site.get("/api/v1/deadlines", "bureau", cursor=cursor)
    assert r.status_code == 400 and r.json()["code"] == "invalid_cursor" and r.json()["field"] == "cursor"


# ------------------------------------------------------------------ CSV
def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in response.content
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def test_publicity_list_as_csv(site: Site) -> None:
    rows = _csv(site.get("/api/v1/publicity-list.csv"))
    assert rows[0] == PUBLICITY_HEADER
    listed = site.get("/api/v1/publicity-list", limit=500).json()["items"]
    expected = [(b["batch_ref"], p["name"], p["host_unit"]["credit_code"], str(p["objections"]))
                for b in listed for p in b["platforms"]]
    column = {name: i for i, name in enumerate(PUBLICITY_HEADER)}
    assert [(r[column["公示批次"]], r[column["平台名称"]], r[column["统一社会信用代码"]], r[column["异议件数"]])
            for r in rows[1:]] == expected
    assert all(r[column["公示状态"]] in ("公示中", "未开始", "已结束") for r in rows[1:])
    open_rows = _csv(site.get("/api/v1/publicity-list.csv", open="true"))
    assert 1 < len(open_rows) < len(rows) and {r[column["公示状态"]] for r in open_rows[1:]} == {"公示中"}


def test_subfield_registry_as_csv(site: Site) -> None:
    rows = _csv(site.get("/api/v1/subfields.csv"))
    assert rows[0] == SUBFIELD_HEADER
    registry = site.get("/api/v1/subfields").json()["items"]
    assert [r[0] for r in rows[1:]] == [s["name"] for s in registry]
    held = {s["name"]: s["holder"]["name"] for s in registry if s["holder"]}
    assert held and {r[0]: r[4] for r in rows[1:] if r[4]} == held


def test_csv_cells_cannot_be_formulas(tmp_path: Path) -> None:
    """A host unit named like a formula is text in the public CSV (OWASP: a leading quote)."""
    from api_client import make_api

    api, container = make_api(f"sqlite:///{tmp_path / 'events.sqlite3'}", tmp_path)
    try:
        with api.client:
            evil = '=HYPERLINK("http://x.example","点此")'
            to_in_publicity(api, host_unit={**application()["host_unit"], "name": evil})
            r = api.client.get("/api/v1/publicity-list.csv", params={"min_position": api.last_position})
            rows = _csv(r)
            assert rows[1][PUBLICITY_HEADER.index("依托单位")] == "'" + evil
    finally:
        container.close()


# ------------------------------------------------------------------ Atom
def test_publicity_feed_is_valid_atom(site: Site) -> None:
    r = site.get("/api/v1/publicity-list.atom")
    assert r.status_code == 200 and r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(r.content)
    assert feed.tag == f"{A}feed"
    for required in ("id", "title", "updated"):
        assert (feed.findtext(f"{A}{required}") or "").strip(), required
    assert feed.findtext(f"{A}author/{A}name")
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{A}link")}
    assert links["self"].endswith("/api/v1/publicity-list.atom") and links["alternate"].endswith("/")
    datetime.fromisoformat(feed.findtext(f"{A}updated") or "")  # RFC 3339
    entries = feed.findall(f"{A}entry")
    listed = site.get("/api/v1/publicity-list").json()["items"]
    assert [e.findtext(f"{A}title", "").split("：")[0] for e in entries] == [b["batch_ref"] for b in listed]
    ids = [e.findtext(f"{A}id") for e in entries]
    assert len(set(ids)) == len(ids) and all(i and i.startswith("urn:uuid:") for i in ids)
    for entry, batch in zip(entries, listed, strict=True):
        updated = datetime.fromisoformat(entry.findtext(f"{A}updated") or "")
        assert updated.utcoffset() is not None
        href = entry.find(f"{A}link[@rel='alternate']").get("href")  # type: ignore[union-attr]
        page = site.client.get(href)
        assert page.status_code == 200 and batch["batch_ref"] in page.text
        summary = entry.findtext(f"{A}summary") or ""
        assert all(p["name"] in summary for p in batch["platforms"])
    # Stable: read at another address, an entry keeps its id.
    elsewhere = ET.fromstring(site.client.get("/api/v1/publicity-list.atom",
                                              headers={"Host": "mirror.example"}).content)
    assert [e.findtext(f"{A}id") for e in elsewhere.findall(f"{A}entry")] == ids


def test_home_page_links_the_feed(site: Site) -> None:
    html = site.client.get("/").text
    assert '<link rel="alternate" type="application/atom+xml"' in html
    href = html.split('<link rel="alternate" type="application/atom+xml"', 1)[1].split('href="', 1)[1].split('"')[0]
    assert ET.fromstring(site.client.get(href).content).tag == f"{A}feed"


def test_no_objector_identity_in_the_open_data(site: Site) -> None:
    pid = _a_platform(site)
    r = site.client.post(f"/api/v1/platforms/{pid}/objections", json={
        "objector_name": "赵六异议人", "contact": "zhao6@example.com",
        "content": "该平台的开放共享能力与申报材料不符。"})
    assert r.status_code in (200, 201), r.text
    position = r.json()["position"]
    for path in ("/api/v1/publicity-list.csv", "/api/v1/publicity-list.atom"):
        body = site.get(path, min_position=position).content.decode("utf-8")
        assert "赵六异议人" not in body and "zhao6@example.com" not in body
