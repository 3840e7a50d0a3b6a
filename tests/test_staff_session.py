"""The staff workbench's sign-in and sign-out (/staff/): the API's accounts, its throttling, a
signed session cookie that ends when the account is disabled or its password changes, CSRF on
every form, a Chinese 403 page, and the public page's headers."""

from __future__ import annotations

import re

from api_client import PASSWORD, Api
from demo_store import hidden
from staff_client import Staff


def test_not_signed_in_goes_to_the_sign_in_page(api: Api) -> None:
    staff = Staff(api)
    r = staff.get("/staff/")
    assert r.status_code == 303 and r.headers["location"] == "/staff/login"
    page = staff.get("/staff/login")
    assert page.status_code == 200 and "登录工作台" in page.text
    assert staff.get("/staff").status_code == 308


def test_sign_in_shows_who_and_the_role_in_chinese_then_sign_out(api: Api) -> None:
    staff = Staff(api)
    r = staff.login("bureau")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "staff_session=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "Path=/staff" in cookie and "Secure" not in cookie  # http here; https sets Secure
    page = staff.get("/staff/").text
    assert 'class="who-name">bureau<' in page and 'class="who-role">市科技局<' in page
    assert 'action="/staff/logout"' in page
    out = staff.logout()
    assert out.status_code == 303 and out.headers["location"] == "/staff/login?signed_out=1"
    assert staff.get("/staff/").status_code == 303
    assert "您已安全退出" in staff.get("/staff/login?signed_out=1").text


def test_session_cookie_is_secure_over_https(api: Api) -> None:
    form = api.client.get("https://testserver/staff/login")
    r = api.client.post("https://testserver/staff/login", data={
        "username": "finance", "password": PASSWORD, "csrf_token": hidden(form.text, "csrf_token")},
        follow_redirects=False)
    assert r.status_code == 303
    assert "Secure" in [c for c in r.headers.get_list("set-cookie") if c.startswith("staff_session=")][0]


def test_each_role_sees_its_chinese_name(api: Api) -> None:
    for user, name in [("service_agency", "科技服务机构"), ("expert1", "评审专家"), ("finance", "市财政局"),
                       ("auditor", "审计"), ("applicant", "依托单位")]:
        staff = Staff(api)
        api.client.cookies.clear()
        assert f'class="who-role">{name}<' in staff.sign_in(user)


def test_wrong_password_is_refused_in_chinese(api: Api) -> None:
    r = Staff(api).login("bureau", "not-the-password")
    assert r.status_code == 401 and "用户名或密码不正确" in r.text
    assert "staff_session" not in r.headers.get("set-cookie", "")


def test_sign_in_without_csrf_token_is_refused(api: Api) -> None:
    api.client.get("/staff/login")
    r = api.client.post("/staff/login", data={"username": "bureau", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and "表单已过期或来源无法确认" in r.text
    assert "staff_session" not in r.headers.get("set-cookie", "")


def test_sign_out_without_csrf_token_keeps_the_session(api: Api) -> None:
    staff = Staff(api)
    staff.sign_in("bureau")
    r = api.client.post("/staff/logout", data={"csrf_token": "1.forged"}, follow_redirects=False)
    assert r.status_code == 403 and "表单已过期" in r.text
    assert staff.get("/staff/").status_code == 200


def test_lockout_after_the_apis_number_of_failures(api: Api) -> None:
    """The form counts failures with POST /auth/token: after the account's limit even the right
    password is refused (429), and the API is locked too."""
    limit = api.container.settings.login_account_failures
    staff = Staff(api)
    for _ in range(limit - 1):
        assert staff.login("finance", "wrong-password-here").status_code == 401
    locked = staff.login("finance", "wrong-password-here")
    assert locked.status_code == 429 and "暂时锁定" in locked.text and int(locked.headers["Retry-After"]) > 0
    assert staff.login("finance").status_code == 429
    token = api.client.post("/api/v1/auth/token", data={"username": "finance", "password": PASSWORD})
    assert token.status_code == 429


def test_failures_through_the_api_lock_the_form(api: Api) -> None:
    for _ in range(api.container.settings.login_account_failures):
        api.client.post("/api/v1/auth/token", data={"username": "auditor", "password": "wrong-password-here"})
    assert Staff(api).login("auditor").status_code == 429


def test_disabling_the_account_ends_the_session_at_once(api: Api) -> None:
    staff = Staff(api)
    staff.sign_in("service_agency")
    api.container.users.disable("service_agency")
    r = staff.get("/staff/")
    assert r.status_code == 303 and r.headers["location"] == "/staff/login?ended=1"
    assert 'staff_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert "会话已结束" in staff.get("/staff/login?ended=1").text
    assert staff.login("service_agency").status_code == 401


def test_a_new_password_ends_the_session(api: Api) -> None:
    staff = Staff(api)
    staff.sign_in("auditor")
    api.container.users.set_password("auditor", "another-long-password-42")
    assert staff.get("/staff/").status_code == 303
    assert staff.login("auditor", "another-long-password-42").status_code == 303


def test_a_forged_session_cookie_is_not_a_session(api: Api) -> None:
    staff = Staff(api)
    staff.sign_in("applicant")
    value = api.client.cookies.get("staff_session")
    payload, _ = value.split(".")
    api.client.cookies.clear()
    api.client.cookies.set("staff_session", f"{payload}.{'0' * 64}", path="/staff")
    assert staff.get("/staff/").status_code == 303


def test_pages_carry_the_public_pages_headers_and_are_not_cached(api: Api) -> None:
    staff = Staff(api)
    login = staff.get("/staff/login")
    staff.sign_in("bureau")
    for r in (login, staff.get("/staff/"), staff.get("/staff/login")):
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
        assert "<script" not in r.text
    assert staff.get("/staff/login").status_code == 303  # signed in: to the inbox


def test_finance_cannot_reach_a_bureau_only_page(api: Api) -> None:
    """Earlier states of a platform are the bureau's and the auditors': finance gets a Chinese 403
    page, not a stack trace."""
    from aggregates.programme import Driver

    pid = Driver(api.container.app).to("approved").pid
    staff = Staff(api)
    staff.sign_in("finance")
    r = staff.get(f"/staff/platforms/{pid}?as_of_version=1")
    assert r.status_code == 403 and "无权访问" in r.text and "市财政局" in r.text
    assert re.search(r"仅限市科技局和审计", r.text)


def test_an_expert_has_no_dossier(api: Api) -> None:
    from aggregates.programme import Driver

    pid = Driver(api.container.app).to("accepted").pid
    staff = Staff(api)
    staff.sign_in("expert1")
    r = staff.get(f"/staff/platforms/{pid}")
    assert r.status_code == 403 and "无权访问" in r.text


def test_the_public_has_no_workbench(api: Api) -> None:
    """Even a well-signed session of a live account is no session when it names the public role."""
    from datetime import UTC, datetime

    from aggregates.values import Role
    from api.staff_session import Sessions
    from api.users import User

    settings = api.container.settings
    forged = Sessions(settings.secret_key, settings.token_minutes * 60).issue(
        User("bureau", Role.PUBLIC, None, datetime.now(UTC)))
    api.client.cookies.set("staff_session", forged, path="/staff")
    assert Staff(api).get("/staff/").status_code == 303
