"""The files in deploy/ as the tools that read them judge them: systemd's units by
``systemd-analyze verify``, and the nginx site by nginx itself, run in front of the service
(TLS, the redirect, static files, /metrics hidden, the body and objection limits, the proxy
headers the service believes). Each skips, saying why, where its tool is missing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from support import free_port, serving, wait_until

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
INSTALLED = "/opt/platform-registry"


def rewritten(text: str, replacements: dict[str, str]) -> str:
    """``text`` with each key replaced; a key that is not there fails the test (the file changed
    shape and this test must follow)."""
    for old, new in replacements.items():
        assert old in text, f"{old!r} not found"
        text = text.replace(old, new)
    return text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_units_verify(tmp_path: Path):
    # As installed, but with the commands where this checkout's environment has them.
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "platforms").exists()
    units = sorted((DEPLOY / "systemd").glob("*.service")) + sorted((DEPLOY / "systemd").glob("*.target"))
    assert {u.name for u in units} == {"platforms-migrate.service", "platforms-api.service",
                                       "platforms-projections.service", "platform-registry.target"}
    for unit in units:
        text = unit.read_text()
        if unit.suffix == ".service":
            text = rewritten(text, {f"{INSTALLED}/.venv/bin/": f"{bin_dir}/"})
            assert "EnvironmentFile=/etc/platform-registry/env" in text
        (tmp_path / unit.name).write_text(text)
    done = subprocess.run(["systemd-analyze", "verify", *(u.name for u in units)], cwd=tmp_path,
                          capture_output=True, text=True)
    # verify reports an unknown key or a bad value on stderr and still exits 0
    assert done.returncode == 0 and not done.stderr.strip() and not done.stdout.strip(), done.stderr + done.stdout


@pytest.fixture
def nginx_in_front(tmp_path: Path):
    """nginx with deploy/nginx/platform-registry.conf (a self-signed certificate, ports of its
    own) in front of `platforms serve` on SQLite; yields (https base, http base, the server's log)."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    log = tmp_path / "server.log"
    with serving(tmp_path, log=log, PLATFORMS_TRUSTED_PROXIES="127.0.0.1",
                 PLATFORMS_OBJECTION_RATE_LIMIT="0") as (base, _proc):
        app_port = base.rsplit(":", 1)[1]
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
                        "-subj", "/CN=registry.example.gov.cn"], check=True, capture_output=True)
        https, http = free_port(), free_port()
        site = rewritten((DEPLOY / "nginx" / "platform-registry.conf").read_text(), {
            "listen 80;": f"listen 127.0.0.1:{http};", "listen [::]:80;": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl http2;", "listen [::]:443 ssl http2;": "",
            "/etc/ssl/platform-registry/fullchain.pem": str(cert), "/etc/ssl/platform-registry/privkey.pem": str(key),
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
            f"{INSTALLED}/src/api/static/": f"{ROOT}/src/api/static/"})
        (tmp_path / "site.conf").write_text(site)
        (tmp_path / "nginx").mkdir()
        (tmp_path / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")  # its workers read this checkout and tmp_path
            + f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/nginx/error.log;\nevents {{}}\n"
            f"http {{\n  access_log {tmp_path}/nginx/access.log;\n  client_body_temp_path {tmp_path}/nginx/body;\n"
            f"  proxy_temp_path {tmp_path}/nginx/proxy;\n  include /etc/nginx/mime.types;\n"
            f"  include {tmp_path}/site.conf;\n}}\n")
        args = [nginx, "-p", str(tmp_path / "nginx"), "-c", str(tmp_path / "nginx.conf")]
        checked = subprocess.run([*args, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        proc = subprocess.Popen([*args, "-g", "daemon off;"], stderr=subprocess.PIPE)
        try:
            root = f"https://127.0.0.1:{https}"
            wait_until(lambda: _answers(root), 30)
            yield root, f"http://127.0.0.1:{http}", log
        finally:
            proc.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            proc.wait(timeout=30)


def _answers(root: str) -> bool:
    try:
        return httpx.get(f"{root}/api/v1/healthz", verify=False, headers={"Host": "registry.example.gov.cn"},
                         timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_nginx_site_in_front_of_the_service(nginx_in_front):
    root, plain, log = nginx_in_front
    host = {"Host": "registry.example.gov.cn"}
    with httpx.Client(verify=False, headers=host, timeout=10) as client:
        moved = client.get(f"{plain}/publicity/x?y=1")
        assert moved.status_code == 301
        assert moved.headers["location"] == "https://registry.example.gov.cn/publicity/x?y=1"

        page = client.get(f"{root}/api/v1/healthz")
        assert page.headers["strict-transport-security"] == "max-age=63072000"
        assert "x-request-id" in page.headers  # answered by the service

        css = client.get(f"{root}/static/site.css")
        assert css.status_code == 200 and css.text == (ROOT / "src/api/static/site.css").read_text()
        assert "x-request-id" not in css.headers  # served by nginx from the files, not proxied

        assert client.get(f"{root}/metrics").status_code == 404  # the service answers loopback, nginx never asks

        # The service believes nginx's scheme and client address, not the client's own header.
        refused = client.get(f"{root}/api/v1/platforms/not-an-id", headers={"X-Forwarded-For": "203.0.113.9"})
        assert refused.json()["type"].startswith("https://registry.example.gov.cn/problems/")
        assert "203.0.113.9" not in log.read_text()

        big = client.post(f"{root}/api/v1/platforms", content=b"x" * (1024 * 1024 + 1),
                          headers={"Content-Type": "application/json"})
        assert big.status_code == 413
        assert big.headers["content-type"] == "application/problem+json"
        assert big.json()["code"] == "payload_too_large"

        body = {"objector_name": "限流测试", "contact": "a@example.com", "content": "限流测试异议内容，共计十余字。"}
        statuses = [client.post(f"{root}/api/v1/platforms/00000000-0000-4000-8000-000000000000/objections",
                                json=body).status_code for _ in range(15)]
        assert statuses[0] == 404 and statuses[-1] == 429  # the service's answer, then nginx's limit
        limited = client.post(f"{root}/api/v1/platforms/00000000-0000-4000-8000-000000000000/objections", json=body)
        assert limited.json()["code"] == "rate_limited" and limited.headers["retry-after"] == "60"
        # A signed-in caller (the bureau recording paper objections) is not counted by nginx.
        signed = client.post(f"{root}/api/v1/platforms/00000000-0000-4000-8000-000000000000/objections", json=body,
                             headers={"Authorization": "Bearer not-a-token"})
        assert signed.status_code != 429
