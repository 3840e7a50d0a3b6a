"""Every header the API reads, sent with odd bytes (superscript and full-width digits, NUL, a
bidi override, a lone surrogate's UTF-8 form, C1 controls, 10,000 characters): never a 5xx. A
header that makes a command invalid is refused with problem+json before anything is written;
numbers in headers are read in ASCII digits only (``If-Match: ²`` was a 500)."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from api_client import Api, application

ODD = [b"\xb2", "\u00b2".encode(), "\uff12".encode(), "\u0663".encode(), b"\x00", b"7\x00", "\u202e7".encode(),
       b"\xed\xa0\x80", b"7" * 10_000, b"\x85", b'W/"\xb2"', b"\xef\xbb\xbf7", b" ", b"\x1b[31m"]
INTAKE = json.dumps({"decision": "accepted", "reasons": "ok", "business_date": "2022-03-05"}).encode()


def _applied(api: Api) -> str:
    r = api.post("/platforms", "applicant", application())
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _raw(api: Api, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> httpx.Response:
    """The request with its header bytes as given. (The TestClient re-encodes header values as
    UTF-8, so a server behind it never sees the byte 0xB2 that a real client sends for ``²``.)"""
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=api.client.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            request = client.build_request(method, path, content=body or None)
            request.headers = httpx.Headers([*(h for h in request.headers.raw if h[0].lower() != b"content-type"),
                                             *headers])
            return await client.send(request)
    return asyncio.run(go())


def _send(api: Api, pid: str, name: bytes, value: bytes) -> httpx.Response:
    headers = {k.lower().encode(): v.encode() for k, v in api.headers("service_agency").items()}
    headers[b"content-type"] = b"application/json"
    headers[name] = b"Bearer " + value if name == b"authorization" else value
    return _raw(api, "POST", f"/api/v1/platforms/{pid}/intake", list(headers.items()), INTAKE)


def _position(api: Api) -> int:
    return api.container.app.recorder.max_notification_id() or 0


@pytest.mark.parametrize("name, status", [(b"if-match", 422), (b"idempotency-key", 422), (b"authorization", 401)])
def test_an_odd_command_header_is_refused_as_a_problem_and_writes_nothing(api: Api, name: bytes, status: int) -> None:
    pid = _applied(api)
    before = _position(api)
    for value in ODD:
        r = _send(api, pid, name, value)
        assert r.status_code == status, (value[:20], r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json"), r.text[:300]
    assert _position(api) == before
    assert _send(api, pid, b"x-request-id", b"plain").status_code == 200  # the same request, sane, acts


@pytest.mark.parametrize("name", [b"accept", b"content-type", b"x-request-id", b"cookie", b"accept-language",
                                  b"x-forwarded-for", b"content-length"])
def test_no_odd_header_value_answers_a_server_error(api: Api, name: bytes) -> None:
    pid = _applied(api)
    for value in ODD:
        r = _send(api, pid, name, value)
        assert r.status_code < 500, (value[:20], r.status_code, r.text[:300])
        for path in ("/api/v1/platforms", f"/api/v1/platforms/{pid}", "/api/v1/readyz", "/"):
            got = _raw(api, "GET", path, [*((k.lower().encode(), v.encode()) for k, v in api.headers("bureau").items()),
                                          (name, value)])
            assert got.status_code < 500, (path, value[:20], got.status_code, got.text[:300])


@pytest.mark.parametrize("version", [b"\xb2", "\u00b2".encode(), "\uff17".encode(), "\u0667".encode(),
                                     b"1_0", b"+7", b"-1", b"7" * 10])
def test_if_match_is_read_in_ascii_digits_only(api: Api, version: bytes) -> None:
    pid = _applied(api)
    for sent in (version, b'"' + version + b'"'):
        r = _send(api, pid, b"if-match", sent)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid_if_match" and r.json()["field"] == "If-Match"


def test_an_idempotency_key_is_printable_ascii(api: Api) -> None:
    pid = _applied(api)
    r = _send(api, pid, b"idempotency-key", "键\x85".encode())
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key", r.text
    assert _send(api, pid, b"idempotency-key", b"retry 1 of intake:7").status_code == 200


def test_a_content_length_in_other_digits_is_a_bad_request(api: Api) -> None:
    pid = _applied(api)
    r = _send(api, pid, b"content-length", "\u00b2".encode("latin-1"))
    assert r.status_code == 400 and r.json()["code"] == "bad_content_length", r.text


def test_a_plain_request_id_is_echoed_and_an_odd_one_replaced(api: Api) -> None:
    plain = api.client.get("/api/v1/readyz", headers={"X-Request-ID": "trace-42.a:b"})
    assert plain.headers["x-request-id"] == "trace-42.a:b"
    for value in (b"\xb2", b"a\x00b", "\u202eabc".encode(), b"x" * 65, b"a b"):
        r = _raw(api, "GET", "/api/v1/readyz", [(b"x-request-id", value)])
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"]), (value, r.headers["x-request-id"])
