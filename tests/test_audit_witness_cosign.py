"""A witness cosigns a growing log through the registry's API, on SQLite and PostgreSQL; the
registry keeps and serves the cosignatures, and refuses those it must not keep."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api_client import Api
from audit import note
from audit.witness import WitnessState, load_log_key, load_witness_key
from witness_support import ORIGIN, Keys, grow, sign, state_of, witness_for

AUDIT, FINANCE = "sjj.changsha.example/witness", "czj.changsha.example/witness"


def _cosignature_of(api: Api, keys: Keys, name: str, when: datetime | None = None) -> tuple[str, str]:
    """(checkpoint text, cosignature line) of the latest checkpoint by the witness ``name``."""
    text, _ = note.parse_note(api.client.get("/api/v1/audit/checkpoint").json()["note"])
    key_name, key = load_witness_key(keys.witnesses[name])
    stamp = int((when or datetime.now(UTC)).timestamp())
    return text, note.cosign(text, key_name, key, stamp).line()


def test_a_witness_cosigns_a_growing_log(keys: Keys, api: Api) -> None:
    keys.add_witness(AUDIT, "市审计局")
    keys.add_witness(FINANCE, "市财政局")
    audit = witness_for(api.client, keys, AUDIT)
    assert audit.once().status == "no_checkpoint"
    assert not state_of(keys, AUDIT).exists()

    grow(api, 2)
    first = sign(api)
    outcome = audit.once()
    assert (outcome.status, outcome.size) == ("cosigned", first.size), outcome
    assert audit.once().status == "up_to_date"  # nothing new: no second cosignature

    grow(api, 3)
    second = sign(api)
    outcome = audit.once()
    assert (outcome.status, outcome.size) == ("cosigned", second.size), outcome
    assert witness_for(api.client, keys, FINANCE).once().status == "cosigned"

    state_file = state_of(keys, AUDIT)
    state = WitnessState.load(state_file)
    assert state is not None and (state.origin, state.size) == (ORIGIN, second.size)
    assert base64.b64decode(state.root).hex() == second.root_hex
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert [p.name for p in state_file.parent.iterdir() if p.name.endswith(".tmp")] == []

    items = api.client.get("/api/v1/audit/checkpoints").json()["items"]
    assert [[c["witness"] for c in i["cosignatures"]] for i in items] == [["市审计局"], ["市审计局", "市财政局"]]

    # The published note carries both cosignatures, and they verify: with the log's key, each
    # witness's key, under the standard rules.
    signed = api.client.get("/api/v1/audit/checkpoint", headers={"Accept": "text/plain"}).text
    log_key = note.VerifierKey.parse(_vkey_of_log(keys))
    witness_keys = [note.VerifierKey.parse(line.split()[0]) for line in keys.witness_file.read_text().splitlines()
                    if line and not line.startswith("#")]
    text, verified = note.open_note(signed, [log_key, *witness_keys])
    assert [s.name for s in verified] == [ORIGIN, AUDIT, FINANCE]
    assert note.parse_checkpoint(text).size == second.size
    latest = api.client.get("/api/v1/audit/checkpoint").json()
    audit_cos = latest["cosignatures"][0]
    assert (audit_cos["key_name"], audit_cos["witness"]) == (AUDIT, "市审计局")
    assert datetime.fromisoformat(audit_cos["cosigned_at"]).timestamp() == audit_cos["timestamp"]


def _vkey_of_log(keys: Keys) -> str:
    return note.VerifierKey.ed25519(ORIGIN, load_log_key(keys.log_public_key)).encode()


def test_a_cosignature_sent_twice_is_kept_once(keys: Keys, api: Api) -> None:
    keys.add_witness(AUDIT, "市审计局")
    grow(api)
    sign(api)
    text, line = _cosignature_of(api, keys, AUDIT)
    r = api.client.post("/api/v1/audit/cosignatures", json={"checkpoint": text, "cosignature": line})
    assert r.status_code == 201, r.text
    later, other = _cosignature_of(api, keys, AUDIT, datetime.now(UTC) + timedelta(seconds=5))
    again = api.client.post("/api/v1/audit/cosignatures", json={"checkpoint": later, "cosignature": other})
    assert again.status_code == 200 and again.json()["line"] == line.rstrip("\n")
    assert len(api.client.get("/api/v1/audit/checkpoint").json()["cosignatures"]) == 1


def _problem(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_registry_keeps_only_verified_cosignatures_of_its_witnesses(
        keys: Keys, api: Api) -> None:
    keys.add_witness(AUDIT, "市审计局")
    keys.add_witness("stranger.example/witness", listed=False)
    grow(api)
    sign(api)
    post = lambda body: api.client.post("/api/v1/audit/cosignatures", json=body)  # noqa: E731
    text, line = _cosignature_of(api, keys, AUDIT)

    # An unknown witness: 403, and its own round fails without touching its state.
    stranger_text, stranger_line = _cosignature_of(api, keys, "stranger.example/witness")
    _problem(post({"checkpoint": stranger_text, "cosignature": stranger_line}), 403, "unknown_witness")
    stranger = witness_for(api.client, keys, "stranger.example/witness")
    outcome = stranger.once()
    assert outcome.status == "failed" and "unknown_witness" in outcome.detail
    assert not state_of(keys, "stranger.example/witness").exists()

    # A bad cosignature: one byte of the signature changed; or a signature over another text.
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[-1] ^= 1
    _problem(post({"checkpoint": text, "cosignature": f"— {AUDIT} {base64.b64encode(bytes(raw)).decode()}"}),
             422, "bad_cosignature")
    size = note.parse_checkpoint(text).size
    other = text.replace(f"\n{size}\n", f"\n{size + 1}\n")
    _problem(post({"checkpoint": other, "cosignature": line}), 422, "bad_cosignature")
    # A well-signed cosignature of a tree head this registry never signed.
    key_name, key = load_witness_key(keys.witnesses[AUDIT])
    stamp = int(datetime.now(UTC).timestamp())
    _problem(post({"checkpoint": other, "cosignature": note.cosign(other, key_name, key, stamp).line()}),
             404, "unknown_checkpoint")
    # Dated in the future, malformed, or not JSON.
    _, future = _cosignature_of(api, keys, AUDIT, datetime.now(UTC) + timedelta(days=1))
    _problem(post({"checkpoint": text, "cosignature": future}), 422, "cosignature_in_future")
    _problem(post({"checkpoint": text, "cosignature": "— only-a-name"}), 422, "malformed_cosignature")
    _problem(post({"checkpoint": "not a checkpoint", "cosignature": line}), 422, "malformed_checkpoint")
    _problem(post({"checkpoint": text}), 422, "invalid_input")
    assert api.client.get("/api/v1/audit/checkpoint").json()["cosignatures"] == []

    # No witness list, or an unreadable one (the operator restarted with either).
    def restart_with(witness_keys: Path | None) -> None:
        api.container.settings = api.container.settings.model_copy(update={"witness_keys": witness_keys})

    restart_with(None)
    _problem(post({"checkpoint": text, "cosignature": line}), 403, "unknown_witness")
    broken = keys.root / "broken.txt"
    broken.write_text("not-a-key 市审计局\n", encoding="utf-8")
    restart_with(broken)
    _problem(post({"checkpoint": text, "cosignature": line}), 503, "witness_config_invalid")

    restart_with(keys.witness_file)
    assert post({"checkpoint": text, "cosignature": line}).status_code == 201


def test_witness_list_format(tmp_path: Path) -> None:
    from audit.cosigning import WitnessConfigError, parse_witnesses
    from audit.witness import create_witness_key

    vkey = create_witness_key(tmp_path / "w.key", AUDIT)
    plain = note.VerifierKey.parse(vkey)
    as_note_key = note.VerifierKey(plain.name, note.ALG_ED25519, plain.public_key).encode()
    witnesses = parse_witnesses(f"# comment\n\n{vkey}\t长沙市 审计局\n")
    assert [(w.key.name, w.label) for w in witnesses] == [(AUDIT, "长沙市 审计局")]
    # A plain Ed25519 note key (type 0x01) stands for the same key's cosignatures (type 0x04).
    assert parse_witnesses(as_note_key)[0].key == plain
    assert parse_witnesses(vkey)[0].label == AUDIT
    for bad in (f"{vkey}\n{vkey} again", "PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"):
        with pytest.raises(WitnessConfigError, match="line"):
            parse_witnesses(bad)
