"""Errors a client can follow and read: every ``type`` resolves to a page about its code (the code,
its article, what to do), and ``title``/``detail`` come in Chinese, or in English by
``Accept-Language`` (docs/API.md, "Errors")."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from markupsafe import escape

from aggregates.programme import Driver
from api.negotiation import preferred_language
from api.problem_catalogue import CATALOGUE, article_zh
from api_client import Api, application, make_api

README = Path(__file__).resolve().parent.parent / "README.md"
PUBLIC_BASE = "https://kjj.changsha.gov.cn/registry"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One API for the read-only tests of this module (the pages of ~150 codes)."""
    tmp = tmp_path_factory.mktemp("problems")
    api, container = make_api(f"sqlite:///{tmp / 'events.sqlite3'}", tmp)
    with api.client:
        yield api
    container.close()


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_type_page_of_each_code(site: Api, code: str) -> None:
    kind = CATALOGUE[code]
    r = site.client.get(f"/problems/{code}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src" in r.headers["content-security-policy"] or "default-src" in r.headers[
        "content-security-policy"]
    page = r.text
    assert f">{code}<" in page and all(str(escape(t)) in page for t in (kind.title_zh, kind.title_en))
    assert all(str(escape(t)) in page for t in (kind.meaning_zh, kind.remedy_zh, kind.meaning_en, kind.remedy_en))
    if kind.article:
        assert kind.article in page and str(article_zh(kind.article)) in page and "长科发〔2021〕36号" in page
    # Chinese first, English after.
    assert page.index(str(escape(kind.meaning_zh))) < page.index(str(escape(kind.meaning_en)))


def test_index_lists_every_code_and_answers_json_when_asked(site: Api) -> None:
    r = site.client.get("/problems/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for code in CATALOGUE:
        assert f'href="/problems/{code}"' in r.text
    assert site.client.get("/problems", follow_redirects=False).status_code == 308
    r = site.client.get("/problems/", headers={"Accept": "application/json", "Accept-Language": "en"})
    assert r.headers["content-type"].startswith("application/json")
    items = {i["code"]: i for i in r.json()["items"]}
    assert items.keys() == CATALOGUE.keys()
    assert items["subfield_taken"]["title"] == "Subfield already held"
    assert items["subfield_taken"]["article"] == "Art. 5" and items["subfield_taken"]["article_zh"] == "第五条"


def test_one_code_as_json_in_the_readers_language(site: Api) -> None:
    r = site.client.get("/problems/subfield_taken", headers={"Accept": "application/json"})
    assert r.json()["title"] == "该细分领域已有平台" and r.json()["policy"] == "长科发〔2021〕36号"
    assert r.json()["what_to_do"].startswith("如确需例外")
    r = site.client.get("/problems/subfield_taken", headers={"Accept": "application/json", "Accept-Language": "en"})
    assert r.json()["title"] == "Subfield already held"
    # A browser's Accept (HTML first, */* after) gets the page.
    r = site.client.get("/problems/subfield_taken",
                        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.headers["content-type"].startswith("text/html")


def test_an_unknown_code_has_no_page(site: Api) -> None:
    r = site.client.get("/problems/no_such_code")
    assert r.status_code == 404 and "问题代码" in r.text


def test_type_is_absolute_and_resolves(site: Api) -> None:
    r = site.client.get(f"/api/v1/platforms/{uuid.uuid4()}", headers=site.headers("bureau"))
    assert r.status_code == 404
    body = r.json()
    assert body["type"] == "http://testserver/problems/platform_not_found"
    page = site.client.get(body["type"])
    assert page.status_code == 200 and "platform_not_found" in page.text


def test_type_uses_the_configured_public_base_url(tmp_path: Path) -> None:
    api, container = make_api(f"sqlite:///{tmp_path / 'events.sqlite3'}", tmp_path, public_base_url=PUBLIC_BASE + "/")
    try:
        with api.client:
            r = api.client.get("/api/v1/no-such-route")
            assert r.status_code == 404
            assert r.json()["type"] == f"{PUBLIC_BASE}/problems/not_found"
            # The middleware's refusals too (before any route runs).
            r = api.client.post("/api/v1/platforms", content=b"x" * 2_000_000, headers=api.headers("applicant"))
            assert r.status_code == 413 and r.json()["type"] == f"{PUBLIC_BASE}/problems/payload_too_large"
            assert r.json()["detail"] == "请求体超过 1000000 字节。"
    finally:
        container.close()


def test_public_base_url_must_be_absolute() -> None:
    from api.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="PLATFORMS_PUBLIC_BASE_URL"):
        Settings.from_env({"PLATFORMS_PUBLIC_BASE_URL": "kjj.changsha.gov.cn/registry"})


LANGUAGES = [
    (None, "zh"), ("", "zh"), ("zh-CN", "zh"), ("en", "en"), ("en-US,en;q=0.9", "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en;q=0.5, zh;q=0.9", "zh"), ("zh;q=0.1, en", "en"),
    ("en-GB;q=0.8, zh-Hans;q=0.8", "en"), ("fr-FR, de", "zh"), ("fr, en;q=0.3", "en"), ("*", "zh"),
    ("en;q=0", "zh"), ("en;q=2", "zh"), ("en;q=abc", "zh"), (";;;", "zh"), ("en,,zh", "en"),
    ("x" * 5000, "zh"), ("en; q=0.7 , zh ; q=0.6", "en"),
]


@pytest.mark.parametrize(("header", "language"), LANGUAGES)
def test_accept_language_choice(header: str | None, language: str) -> None:
    assert preferred_language(header) == language


@pytest.mark.parametrize(("header", "language"), LANGUAGES + [("zh-TW,zh;q=0.9,en-US;q=0.8", "zh")])
def test_refusal_in_the_readers_language(site: Api, header: str | None, language: str) -> None:
    headers = site.headers("applicant", **({"Accept-Language": header} if header is not None else {}))
    body = {k: v for k, v in application().items() if k != "subfield"}
    r = site.client.post("/api/v1/platforms", json=body, headers=headers)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert (problem["code"], problem["field"], problem["errors"][0]["type"]) == ("invalid_input", "subfield", "missing")
    assert r.headers["content-language"] == ("zh-CN" if language == "zh" else "en")
    assert "Accept-Language" in r.headers["vary"]
    if language == "zh":
        assert (problem["title"], problem["detail"]) == ("输入不符合要求", "字段 subfield：必须填写")
    else:
        assert (problem["title"], problem["detail"]) == ("Invalid input", "subfield: Field required")


def test_undecodable_accept_language_gets_chinese(site: Api) -> None:
    r = site.client.get(f"/api/v1/platforms/{uuid.uuid4()}",
                        headers={**site.headers("bureau"), "Accept-Language": "en-\xe9\xff".encode("latin-1")})
    assert r.status_code == 404 and r.json()["title"] == "平台不存在"


def test_art7_refusal_says_its_dates_in_either_language(api: Api) -> None:
    expired = application(host_unit={**application()["host_unit"],
                                     "high_tech_certificate": {"number": "GR1", "valid_until": "2022-02-01"}})
    r = api.post("/platforms", "applicant", expired)
    assert r.status_code == 409, r.text
    zh = r.json()
    assert (zh["code"], zh["article"], zh["policy"]) == \
        ("high_tech_certificate_expired", "Art. 7(1)", "长科发〔2021〕36号")
    assert zh["title"] == "高新技术企业证书已过期"
    assert zh["detail"] == "高新技术企业证书已于 2022-02-01 到期，早于 2022-03-01。"
    r = api.post("/platforms", "applicant", expired, **{"Accept-Language": "en"})
    en = r.json()
    assert en["title"] == "High-tech certificate expired" and "expired on 2022-02-01" in en["detail"]
    assert {k: v for k, v in en.items() if k not in ("title", "detail")} == \
        {k: v for k, v in zh.items() if k not in ("title", "detail")}


def _readme_example() -> dict:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"a second platform in a held subfield:\n\n```json\n(.*?)\n```", text, re.S)
    assert block is not None, "README's example error is gone"
    return json.loads(block.group(1))


def test_art5_readme_example_error_is_what_the_api_sends(tmp_path: Path) -> None:
    api, container = make_api(f"sqlite:///{tmp_path / 'events.sqlite3'}", tmp_path, public_base_url=PUBLIC_BASE)
    try:
        with api.client:
            app = container.app
            holder = Driver(app).to("approved").pid
            second = Driver(app).to("inspected").pid
            r = api.post(f"/platforms/{second}/approval", "bureau", {
                "party_group_meeting_ref": "PG-2", "vice_mayor_approval_ref": "VM-2", "funding_plan_ref": "FP-2",
                "business_date": "2022-09-02"})
    finally:
        container.close()
    assert r.status_code == 409, r.text
    sent = r.json()
    sent["detail"] = sent["detail"].replace(str(holder), "…")
    assert sent == _readme_example()
