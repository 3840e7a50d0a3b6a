"""HTTP caching and CORS (issue 15, item 4): every GET route declares how it may be cached, sends
a strong ETag and answers ``If-None-Match`` with 304; public reads are readable from any origin
(with their preflight answered), commands and private reads never.

Run on a copy of the demo store (an open batch, platforms at every stage) with a signed checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.http_caching import MOUNT_CACHING, NOW, ROUTE_CACHING, STAFF_PAGE, get_templates, none_match
from demo_store import DemoStore, hidden, make_container, sign_checkpoint_now


@dataclass
class Site:
    client: TestClient
    container: Any
    platform_id: str
    batch_ref: str

    def token(self, username: str) -> dict[str, str]:
        from api.auth import issue_token

        user = self.container.users.get(username)
        assert user is not None, username
        token = issue_token(self.container.settings.secret_key, user.username, user.role, user.credit_code, 5,
                            version=user.token_version)[0]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def site(demo_store: DemoStore, checkpoint_key: Path) -> Iterator[Site]:
    from api.app import create_app
    from api.demo import PASSWORDS

    container = make_container(demo_store)
    sign_checkpoint_now(container)
    with TestClient(create_app(container), follow_redirects=False) as client:
        listed = client.get("/api/v1/publicity-list").json()["items"][0]
        # The staff pages are read signed in as the bureau (the session cookie stays in the client).
        form = client.get("/staff/login")
        signed = client.post("/staff/login", data={"username": "bureau", "password": PASSWORDS["bureau"],
                                                   "csrf_token": hidden(form.text, "csrf_token")})
        assert signed.status_code == 303, signed.text
        yield Site(client, container, listed["platforms"][0]["id"], listed["batch_ref"])
    container.close()


# How to read each GET route in the demo: path (with its query), who asks, the status expected.
# A route added to the app without a line here (and in ROUTE_CACHING) fails the tests below.
def _example(site: Site, template: str) -> tuple[str, str | None, int]:
    pid, batch = site.platform_id, site.batch_ref
    from urllib.parse import quote

    ref = quote(batch, safe="")
    examples: dict[str, tuple[str, str | None, int]] = {
        "/api/v1/publicity-list": ("/api/v1/publicity-list", None, 200),
        "/api/v1/publicity-list.csv": ("/api/v1/publicity-list.csv", None, 200),
        "/api/v1/publicity-list.atom": ("/api/v1/publicity-list.atom", None, 200),
        "/api/v1/subfields": ("/api/v1/subfields", None, 200),
        "/api/v1/subfields.csv": ("/api/v1/subfields.csv", None, 200),
        "/api/v1/policies": ("/api/v1/policies", None, 200),
        "/api/v1/audit/checkpoint": ("/api/v1/audit/checkpoint", None, 200),
        "/api/v1/audit/checkpoints": ("/api/v1/audit/checkpoints", None, 200),
        "/api/v1/audit/proofs/consistency": ("/api/v1/audit/proofs/consistency?old_size=1", None, 200),
        "/openapi.json": ("/openapi.json", None, 200),
        "/api/v1/platforms": ("/api/v1/platforms", "bureau", 200),
        "/api/v1/platforms/{platform_id}": (f"/api/v1/platforms/{pid}", "bureau", 200),
        "/api/v1/platforms/{platform_id}/history": (f"/api/v1/platforms/{pid}/history", "auditor", 200),
        "/api/v1/platforms/{platform_id}/diff": (f"/api/v1/platforms/{pid}/diff?from_version=1&to_version=2",
                                                 "auditor", 200),
        "/api/v1/funding-ledger": ("/api/v1/funding-ledger", "finance", 200),
        "/api/v1/funding-ledger.csv": ("/api/v1/funding-ledger.csv", "finance", 200),
        "/api/v1/funding-ledger/by-year": ("/api/v1/funding-ledger/by-year", "finance", 200),
        "/api/v1/funding-ledger/by-year.csv": ("/api/v1/funding-ledger/by-year.csv", "finance", 200),
        "/api/v1/funding-ledger/by-year.xlsx": ("/api/v1/funding-ledger/by-year.xlsx", "finance", 200),
        "/api/v1/deadlines": ("/api/v1/deadlines", "bureau", 200),
        "/api/v1/audit/log": ("/api/v1/audit/log", "auditor", 200),
        "/api/v1/audit/proofs/inclusion": ("/api/v1/audit/proofs/inclusion?position=1", "auditor", 200),
        "/api/v1/audit/publicity-list": ("/api/v1/audit/publicity-list?position=5", "auditor", 200),
        "/api/v1/audit/funding-ledger": ("/api/v1/audit/funding-ledger?position=5", "auditor", 200),
        "/api/v1/audit/verify": ("/api/v1/audit/verify", "auditor", 200),
        "/api/v1/audit/export": ("/api/v1/audit/export", "auditor", 200),
        "/api/v1/healthz": ("/api/v1/healthz", None, 200),
        "/api/v1/readyz": ("/api/v1/readyz", None, 200),
        "/metrics": ("/metrics", None, 404),  # the test client is no address PLATFORMS_METRICS_CLIENTS names
        "/": ("/", None, 200),
        "/publicity/{batch_ref}": (f"/publicity/{ref}", None, 200),
        "/publicity/{batch_ref}/platforms/{platform_id}/objections/new":
            (f"/publicity/{ref}/platforms/{pid}/objections/new", None, 200),
        "/publicity/{batch_ref}/platforms/{platform_id}/objections":
            (f"/publicity/{ref}/platforms/{pid}/objections", None, 303),
        "/subfields": ("/subfields", None, 200),
        "/checkpoint": ("/checkpoint", None, 200),
        "/problems": ("/problems", None, 308),
        "/problems/": ("/problems/", None, 200),
        "/problems/{code}": ("/problems/subfield_taken", None, 200),
        "/docs": ("/docs", None, 200),
        "/docs/oauth2-redirect": ("/docs/oauth2-redirect", None, 200),
        "/redoc": ("/redoc", None, 200),
        "/staff": ("/staff", None, 308),
        "/staff/": ("/staff/", None, 200),
        "/staff/login": ("/staff/login", None, 303),  # signed in already: to the inbox
        "/staff/platforms/{platform_id}": (f"/staff/platforms/{pid}", None, 200),
        "/staff/acts/": ("/staff/acts/", None, 200),
        "/staff/acts/{act_key}": ("/staff/acts/publicity", None, 200),
        "/staff/platforms/{platform_id}/acts/{act_key}": (f"/staff/platforms/{pid}/acts/objection", None, 200),
        "/staff/ledger": ("/staff/ledger", None, 200),
        "/staff/ledger.csv": ("/staff/ledger.csv", None, 200),
        "/staff/ledger.xlsx": ("/staff/ledger.xlsx", None, 200),
        "/staff/audit": ("/staff/audit", None, 200),
        "/staff/audit/export": ("/staff/audit/export", None, 200),
    }
    return examples[template]


def test_every_get_route_declares_its_caching(site: Site) -> None:
    """A GET route missing from the table would be sent ``no-store`` without anyone deciding so."""
    routes = set(get_templates(site.client.app.router.routes))  # type: ignore[attr-defined]
    assert routes - set(ROUTE_CACHING) == set(), "GET routes without a caching policy"
    assert set(ROUTE_CACHING) - routes == set(), "caching policies of routes that no longer exist"


@pytest.mark.parametrize("template", sorted(ROUTE_CACHING))
def test_cache_headers_and_conditional_get_per_route(site: Site, template: str) -> None:
    path, user, status = _example(site, template)
    caching = ROUTE_CACHING[template]
    headers = site.token(user) if user else {}
    r = site.client.get(path, headers=headers)
    assert r.status_code == status, r.text[:300]
    control = r.headers.get("cache-control", "")
    if status == 200:
        assert control == caching.cache_control
    else:
        assert "no-store" in control
    vary = {v.strip().lower() for v in r.headers.get("vary", "").split(",")}
    assert {v.lower() for v in caching.vary} <= vary
    assert ("access-control-allow-origin" in r.headers) is caching.cors
    if status != 200:
        return
    etag = r.headers.get("etag")
    if not caching.validators:
        assert etag is None  # a stream is never held in memory to be hashed
        return
    assert etag is not None and etag.startswith('"') and etag.endswith('"'), etag  # strong
    again = site.client.get(path, headers={**headers, "If-None-Match": etag})
    if again.status_code == 200:
        # Only a page carrying a one-time token (a form's CSRF token) may change in between,
        # and then under another tag; the reads, public and private, stand still here.
        assert caching in (NOW, STAFF_PAGE), f"{template} changed between two reads"
        assert again.headers["etag"] != etag
        return
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == control
    assert "content-type" not in again.headers


def test_stable_public_reads_answer_304(site: Site) -> None:
    for path in ("/api/v1/publicity-list", "/api/v1/subfields", "/api/v1/policies", "/api/v1/publicity-list.csv",
                 "/api/v1/publicity-list.atom", "/api/v1/audit/checkpoints", "/"):
        first = site.client.get(path)
        assert first.status_code == 200
        again = site.client.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, path


def test_private_reads_answer_304_to_their_reader(site: Site) -> None:
    bureau = site.token("bureau")
    first = site.client.get(f"/api/v1/platforms/{site.platform_id}", headers=bureau)
    assert first.headers["etag"] == f'"{first.json()["version"]}"'  # the version If-Match takes back
    again = site.client.get(f"/api/v1/platforms/{site.platform_id}", headers={**bureau, "If-None-Match":
                                                                                   first.headers["etag"]})
    assert again.status_code == 304 and again.headers["cache-control"] == "private, no-store"
    assert again.headers["vary"] == "Authorization"


@pytest.mark.parametrize(("header", "matches"), [
    ("*", True),
    ('"a", "{tag}"', True),
    ('"{tag}"', True),
    ('W/"{tag}"', True),  # weak comparison (RFC 9110 §13.1.2)
    (' "x" ,, "{tag}" ', True),
    ('"a", "b"', False),
    ('"{tag}x"', False),
    ("{tag}", False),  # unquoted: not an entity tag
    ('"a" "{tag}"', False),  # no comma: not a list
    ("", False),
])
def test_if_none_match_rules(header: str, matches: bool) -> None:
    tag = "3f2a"
    assert none_match(header.format(tag=tag), f'"{tag}"') is matches


def test_if_none_match_star_and_lists_on_the_wire(site: Site) -> None:
    first = site.client.get("/api/v1/publicity-list")
    etag = first.headers["etag"]
    for header in ("*", f'"nope", {etag}', f"W/{etag}"):
        assert site.client.get("/api/v1/publicity-list", headers={"If-None-Match": header}).status_code == 304
    for header in ('"nope"', "garbage", f"W/{etag[:-2]}\""):
        assert site.client.get("/api/v1/publicity-list", headers={"If-None-Match": header}).status_code == 200


def test_the_tag_changes_exactly_when_the_list_does(site: Site) -> None:
    before = site.client.get("/api/v1/publicity-list")
    assert site.client.get("/api/v1/publicity-list").headers["etag"] == before.headers["etag"]
    # A citizen objects: the platform's objection count, hence the list, changes.
    r = site.client.post(f"/api/v1/platforms/{site.platform_id}/objections",
                         json={"objector_name": "王五", "contact": "13800000000",
                               "content": "该平台的依托单位并未实际开展开放共享服务。"})
    assert r.status_code in (200, 201), r.text
    after = site.client.get("/api/v1/publicity-list", params={"min_position": r.json()["position"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    stale = site.client.get("/api/v1/publicity-list", headers={"If-None-Match": before.headers["etag"]},
                            params={"min_position": r.json()["position"]})
    assert stale.status_code == 200 and stale.json() == after.json()


def test_cors_preflight_of_a_public_read(site: Site) -> None:
    r = site.client.options("/api/v1/publicity-list", headers={
        "Origin": "https://news.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "GET" in r.headers["access-control-allow-methods"]
    assert "if-none-match" in r.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in r.headers
    read = site.client.get("/api/v1/publicity-list", headers={"Origin": "https://news.example"})
    assert read.headers["access-control-allow-origin"] == "*"
    assert "ETag" in read.headers["access-control-expose-headers"]


def test_no_cors_on_commands_or_private_reads(site: Site) -> None:
    origin = {"Origin": "https://evil.example"}
    command = f"/api/v1/platforms/{site.platform_id}/objections"
    preflight = site.client.options(command, headers={**origin, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    posted = site.client.post(command, json={}, headers=origin)
    assert posted.status_code == 422 and "access-control-allow-origin" not in posted.headers
    private = site.client.get("/api/v1/platforms", headers={**origin, **site.token("bureau")})
    assert private.status_code == 200 and "access-control-allow-origin" not in private.headers
    preflight = site.client.options("/api/v1/platforms", headers={**origin, "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers


def test_refusals_are_never_stored(site: Site) -> None:
    bad = site.client.get("/api/v1/publicity-list", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and bad.headers["cache-control"] == "no-store"
    assert bad.headers["access-control-allow-origin"] == "*"  # a page script may read why
    unauthorised = site.client.get("/api/v1/platforms")
    assert unauthorised.status_code == 401 and unauthorised.headers["cache-control"] == "no-store"
    missing = site.client.get("/publicity/no-such-batch")
    assert missing.status_code == 404 and missing.headers["cache-control"] == "no-store"


def test_static_files_are_cached_for_an_hour(site: Site) -> None:
    r = site.client.get("/static/site.css")
    assert r.status_code == 200 and r.headers["cache-control"] == MOUNT_CACHING["/static"].cache_control
    assert site.client.get("/static/site.css", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
