"""docs/AUDIT.md's "Verifying offline" recipe, run literally on a real export: its code blocks are
read from the document and executed against what ``GET /api/v1/audit/export`` returns for a real
store with signed checkpoints, so the recipe cannot drift from the code again. The curl step is
replayed through the test client, the Python program and its command line and the OpenSSL
one-liner run as written, and each must also reject an altered export."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from api_client import PASSWORD, Api, download_export
from support import checkpoint_keys

DOC = Path(__file__).resolve().parents[1] / "docs" / "AUDIT.md"


def recipe_blocks(language: str) -> list[str]:
    """The fenced code blocks of that language in the "Verifying offline" section."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Verifying offline"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(rf"^```{language}\n(.*?)^```$", section, flags=re.S | re.M)


def the_block(language: str, containing: str) -> str:
    found = [b for b in recipe_blocks(language) if containing in b]
    assert len(found) == 1, f"docs/AUDIT.md should have one {language} block with {containing!r}"
    return found[0]


@pytest.fixture
def workdir(export_site: Api, tmp_path: Path) -> Path:
    """An auditor's directory: the downloaded export, the public key and the recipe's program."""
    work = tmp_path / "auditor"
    work.mkdir()
    (work / "log.jsonl").write_bytes(download_export(export_site).content)
    shutil.copy(checkpoint_keys().pinned, work / "checkpoint.pub")
    (work / "verify_export.py").write_text(the_block("python", "load_pem_public_key"), encoding="utf-8")
    return work


def run_sh(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # python3 is this interpreter's (it has cryptography), as an auditor's would be.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PATH": path})


def edit_line(export: Path, kind: str, change, last: bool = False) -> None:
    """Rewrite the first (or last) line of that kind in the export."""
    lines = export.read_text(encoding="utf-8").splitlines()
    indexes = [i for i, line in enumerate(lines) if json.loads(line)["kind"] == kind]
    at = indexes[-1] if last else indexes[0]
    lines[at] = change(lines[at])
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_fetch_step_uses_real_routes(export_site: Api) -> None:
    fetch = the_block("sh", "curl")
    paths = re.findall(r"https://HOST(/\S+)", fetch)
    assert paths == ["/api/v1/auth/token", "/api/v1/audit/export"]
    assert "-d username=" in fetch and "-d password=" in fetch and "jq -r .access_token" in fetch
    token = export_site.client.post(paths[0], data={"username": "auditor", "password": PASSWORD}).json()["access_token"]
    r = export_site.client.get(paths[1], headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and json.loads(r.text.splitlines()[0])["kind"] == "header"


def test_the_recipe_program_verifies_the_export(workdir: Path) -> None:
    command = the_block("sh", "verify_export.py")
    result = run_sh(command, workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: ") and "2 signed checkpoints verified" in result.stdout


def _flip_state(line: str) -> str:
    item = json.loads(line)
    state = bytearray(base64.b64decode(item["state_b64"]))
    state[-3] ^= 0x01
    item["state_b64"] = base64.b64encode(bytes(state)).decode()
    return json.dumps(item, ensure_ascii=False)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_recipe_program_rejects_an_altered_export(workdir: Path) -> None:
    command = the_block("sh", "verify_export.py")
    export = workdir / "log.jsonl"
    original = export.read_text(encoding="utf-8")

    def rejected(why: str) -> str:
        result = run_sh(command, workdir)
        assert result.returncode == 1 and not result.stdout.startswith("OK"), (why, result.returncode, result.stdout)
        export.write_text(original, encoding="utf-8")
        return result.stderr

    first = next(item for item in map(json.loads, original.splitlines()) if item["kind"] == "event")
    edit_line(export, "event", lambda line: line.replace('"sequence": 1,', '"sequence": 2,'))
    assert f"FAILED at position {first['position']}:" in rejected("a row's version changed")
    edit_line(export, "event", _flip_state)
    assert f"FAILED at position {first['position']}:" in rejected("a byte of a row's stored state changed")
    export.write_text("".join(original.splitlines(keepends=True)[:-1]), encoding="utf-8")
    assert "FAILED at the end" in rejected("the download was cut short")
    edit_line(export, "checkpoint", lambda line: line.replace('"signed_at": "', '"signed_at": "1', 1))
    assert "InvalidSignature" in rejected("a checkpoint's signed time changed")


def _openssl_missing() -> str | None:
    """Why the one-liner cannot run here, or None."""
    missing = [tool for tool in ("openssl", "jq", "xxd", "base64") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not on PATH"
    usage = subprocess.run(["openssl", "pkeyutl", "-help"], capture_output=True, text=True)
    if "-rawin" not in usage.stdout + usage.stderr:
        return "this openssl's pkeyutl has no -rawin (Ed25519 needs OpenSSL 3.0 or later)"
    return None


def test_the_openssl_one_liner_checks_a_checkpoint_signature(workdir: Path) -> None:
    reason = _openssl_missing()
    if reason:
        pytest.skip(reason)
    key = subprocess.run(["openssl", "pkey", "-pubin", "-in", "checkpoint.pub", "-noout"], cwd=workdir,
                         capture_output=True, text=True)
    if key.returncode != 0:
        pytest.skip(f"this openssl cannot read an Ed25519 key: {key.stderr.strip()}")
    one_liner = the_block("sh", "openssl pkeyutl -verify -pubin -inkey checkpoint.pub -rawin")
    result = run_sh(one_liner, workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature Verified Successfully" in result.stdout
    lines = (workdir / "log.jsonl").read_text(encoding="utf-8").splitlines()
    latest = json.loads(lines[json.loads(lines[0])["checkpoints"]])
    assert latest["kind"] == "checkpoint"
    assert (workdir / "message.bin").read_bytes().split(b"\n")[1] == str(latest["size"]).encode()
    edit_line(workdir / "log.jsonl", "checkpoint", lambda line: line.replace('"size": ', '"size": 1', 1), last=True)
    result = run_sh(one_liner, workdir)
    assert result.returncode == 1 and "Signature Verified Successfully" not in result.stdout
