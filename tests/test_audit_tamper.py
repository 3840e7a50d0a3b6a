"""Tampering done directly in the database, on SQLite and PostgreSQL: each must be detected and
pinpointed at the row it touched. Each test names what catches the tampering:

* any stored byte changed     -> the log seal: the row no longer hashes to what its write sealed
                                 (event_altered at that row, the last event of a stream too); the
                                 hash chain corroborates where a later event links to it
* one byte changed inside the row's own prev_hash -> also both links around the row break (reported
                                 once at the row); not hex any more: bad_prev_hash at the row itself
* one byte making JSON invalid-> undecodable at the altered event, never a crash; --deep decodes every row
* deleted anywhere            -> the seal: event_missing at the deleted row's own position, naming its
                                 platform, version and kind (in the middle, the last of a stream, the
                                 last row of the log); deleted with its seal row -> seal_broken, or at
                                 the very end the signed checkpoint (log_truncated)
* swapped                     -> the seal (event_altered at both rows) and the checkpoint's root
* forged append or insert     -> not sealed (event_unsealed); sealed and well chained but back-dated
                                 -> the "recorded before the checkpoint, not covered" rule; a forged
                                 checkpoint to cover it -> key mismatch under the pinned key
* checkpoint key replaced     -> key mismatch (and signing with the new key is refused)
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC
from itertools import pairwise
from typing import Any
from uuid import UUID

import pytest
from freezegun import freeze_time

from aggregates.application import RegistryApp
from aggregates.hashing import event_hash
from aggregates.programme import STAGES, Driver
from aggregates.store import StoreConfig
from audit import verify_split
from audit.checkpoint_store import load_checkpoints, store_checkpoint
from audit.checkpoints import LogNotIntact, sign_checkpoint
from audit.rows import iter_rows, stream_rows
from audit.signing import CheckpointSigner
from audit.verify import verify_log
from support import checkpoint_keys

NOW = "2024-01-05T03:00:00+00:00"


def _verified(app: RegistryApp, **options: Any) -> Any:
    """The log verified against the test's pinned checkpoint key."""
    return verify_log(app, public_key_pem=checkpoint_keys().pinned_public_key(), **options)


@pytest.fixture
def world(store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PLATFORMS_CHECKPOINT_KEY", str(tmp_path / "keys" / "cp.pem"))
    monkeypatch.delenv("PLATFORMS_CHECKPOINT_PUBKEY", raising=False)
    with freeze_time(NOW):
        app = RegistryApp(StoreConfig(store_url))
        a = Driver(app, subfield="智能芯片").to("funded")
        b = Driver(app, subfield="智能传感器").to("under_construction")
        signer = checkpoint_keys().load_signer()
        sign_checkpoint(app, signer, checkpoint_keys())
        yield app, a.pid, b.pid, signer
    app.close()


def _sql(app: RegistryApp, statement: str, params: tuple = ()) -> None:
    """Run a tampering statement straight on the store: ``{T}`` is the event table, ``{POS}`` the
    position column, ``?`` the placeholder."""
    if app.store.is_sqlite:
        conn = sqlite3.connect(app.store.sqlite_path)
        with conn:
            conn.execute(statement.format(T=app.recorder.events_table_name, POS="rowid"), params)
        conn.close()
    else:
        table = f'"{app.recorder.datastore.schema}".{app.recorder.events_table_name}'
        sql = statement.format(T=table, POS="notification_id").replace("?", "%s")
        with app.recorder.datastore.transaction(commit=True) as cur:
            cur.execute(sql, params)


def _oid(app: RegistryApp, pid: UUID):
    return pid.hex if app.store.is_sqlite else pid


def _row(app: RegistryApp, pid: UUID, version: int):
    return next(r for r in stream_rows(app, pid) if r.version == version)


@pytest.fixture(autouse=True)
def small_parts(monkeypatch):
    """Parts of 4 events, so that the split scan cuts these small logs into many parts."""
    monkeypatch.setattr(verify_split, "SMALLEST_PART", 4)


def _verify(app: RegistryApp, deep: bool = False):
    """The report of the one-pass scan, checked to be exactly the report of the scan split over
    two processes and of the one pass in batches of three rows: neither may say OK where the
    one pass finds something, nor change a finding."""
    with freeze_time(NOW):
        report = _verified(app, deep=deep)
        assert _verified(app, deep=deep, workers=2).to_dict() == report.to_dict()
        # Read three rows at a time (as a serving process reads, in small batches), every finding
        # near a batch's edge is still found, and named the same.
        assert _verified(app, deep=deep, batch=3).to_dict() == report.to_dict()
        return report


def test_split_scan_joins_its_parts_into_the_one_pass_figures(world) -> None:
    """Checkpoints signed at a part's end and inside a part: the joined prefix roots are the
    signed ones, and the size, root, streams and last position are the one pass's, reported
    part by part as the progress."""
    app, _a, _b, signer = world
    with freeze_time(NOW):
        d = Driver(app, subfield="智能终端")
        for stage in STAGES:
            d.to(stage)
            sign_checkpoint(app, signer, checkpoint_keys())
            sizes = sorted({cp.size for _, cp in load_checkpoints(app)})
            if {s % 4 == 0 for s in sizes} == {True, False}:
                break
        assert {s % 4 == 0 for s in sizes} == {True, False}, sizes  # both cases are exercised
        report = _verified(app)
        seen: list[int] = []
        joined = verify_split.split_scan(app, 2, sizes, 1 << 62, None, seen.append)
    assert joined is not None, "an intact log is concluded by the split scan itself"
    assert (joined.size, joined.root.hex(), joined.streams) == (report.size, report.root, report.streams)
    assert joined.last_position == list(iter_rows(app))[-1].position
    assert {size: root.hex() for size, root in joined.roots.items()} == {
        cp.size: cp.root_hex for _, cp in load_checkpoints(app)}
    assert seen == sorted(seen) and seen[-1] == report.size and len(seen) == -(-report.size // 4)


@pytest.mark.parametrize("tamper", ["byte", "delete", "insert"])
def test_split_scan_never_concludes_on_a_tampered_log(world, tamper) -> None:
    app, a, *_ = world
    row = _row(app, a, 5)
    if tamper == "byte":
        _sql(app, "UPDATE {T} SET state=? WHERE {POS}=?", (row.state.replace(b"prev_hash", b"prev_hasH", 1) + b" ",
                                                          row.position))
    elif tamper == "delete":
        _sql(app, "DELETE FROM {T} WHERE {POS}=?", (row.position,))
    else:
        _forge_next(app, a, NOW, chained=True)
    with freeze_time(NOW):
        assert verify_split.split_scan(app, 2, [], 1 << 62, None) is None
        assert not _verified(app, workers=2).ok


@pytest.mark.parametrize("how", ["initializer", "killed"])
def test_a_split_process_that_dies_leaves_the_verdict_to_the_one_pass(world, monkeypatch, how) -> None:
    """A helper whose store refuses it a connection at start, or that is killed mid-part: the
    split scan gives up (it never waits for an answer that cannot come) and the one pass verifies."""
    app, *_ = world

    def refused(parent_app) -> None:
        raise OSError("too many clients already")

    def killed(*args):
        os._exit(9)

    # Patched in this process, inherited by the forked helpers (what is sent to them is pickled
    # by name, so the functions they look up are replaced, not the ones sent).
    monkeypatch.setattr(verify_split, "_start_worker" if how == "initializer" else "_scan",
                        refused if how == "initializer" else killed)
    with freeze_time(NOW):
        assert verify_split.split_scan(app, 2, [], 1 << 62, None) is None
        report = _verified(app, workers=2)
    assert report.ok and report.events_checked == sum(1 for _ in iter_rows(app))


def test_split_scan_parts(monkeypatch) -> None:
    """Four parts or so per process, each a power of two; one process below PARALLEL_FROM."""
    monkeypatch.setattr(verify_split, "SMALLEST_PART", 4096)
    assert verify_split.parts_for(1_000_000, 2) == (2, 65536)
    assert verify_split.parts_for(verify_split.PARALLEL_FROM - 1, None)[0] == 1
    assert verify_split.parts_for(10_000_000, 1)[0] == 1
    workers, unit = verify_split.parts_for(1_000_000, 4)
    assert workers == 4 and unit & (unit - 1) == 0 and 16 <= -(-1_000_000 // unit) < 32


def test_intact_log_verifies_in_both_modes(world) -> None:
    app, *_ = world
    for deep in (False, True):
        report = _verify(app, deep)
        assert report.ok, report.to_dict()
        assert report.events_checked == sum(1 for _ in iter_rows(app))
        assert report.first_failure is None and report.mode == ("deep" if deep else "full")
        assert report.unattested_events == 0
        assert report.streams == len({r.originator_id for r in iter_rows(app)})


def _codes_at(report, position: int) -> set[str]:
    return {f.code for f in report.failures if f.position == position}


def test_one_byte_changed_is_pinpointed_by_the_seal_and_the_chain(world) -> None:
    app, a, *_ = world
    row = _row(app, a, 3)  # a Scored event, not the last of its stream
    assert b'"actor_id":"expert-0"' in row.state
    forged = row.state.replace(b'"actor_id":"expert-0"', b'"actor_id":"expert-9"')
    _sql(app, "UPDATE {T} SET state=? WHERE {POS}=?", (forged, row.position))
    report = _verify(app)
    assert not report.ok
    first = report.first_failure
    assert first.code == "event_altered" and first.position == row.position
    assert first.platform_id == str(a) and first.version == 3 and "Scored" in first.reason
    chain = [f for f in report.failures if f.code == "chain_broken"]
    assert len(chain) == 1 and chain[0].position == row.position
    assert chain[0].detected_at == _row(app, a, 4).position
    assert {f.code for f in report.failures} == {"event_altered", "chain_broken", "checkpoint_mismatch"}


def test_last_event_of_a_stream_changed_is_pinpointed(world) -> None:
    """No later event links to a platform's last event: the seal alone pinpoints the change, also
    after the last checkpoint."""
    app, a, b, signer = world
    funded = stream_rows(app, a)[-1]
    assert funded.topic.endswith("/Funded") and funded.position < list(iter_rows(app))[-1].position
    _sql(app, "UPDATE {T} SET state=? WHERE {POS}=?",
         (funded.state.replace(b"1000000", b"9000000"), funded.position))
    report = _verify(app)
    first = report.first_failure
    assert (first.code, first.position, first.platform_id, first.version) == (
        "event_altered", funded.position, str(a), funded.version)
    assert not [f for f in report.failures if f.code == "chain_broken"]


def _set_prev_hash(app: RegistryApp, pid: UUID, version: int, new: bytes) -> int:
    row = _row(app, pid, version)
    i = row.state.index(b'"prev_hash":"') + 13
    _sql(app, "UPDATE {T} SET state=? WHERE {POS}=?", (row.state[:i] + new + row.state[i + 64:], row.position))
    return row.position


@pytest.mark.parametrize("where", ["middle", "first"])
def test_one_hex_digit_of_a_rows_own_prev_hash_changed_is_reported_at_that_row(world, where) -> None:
    app, a, *_ = world
    version = 4 if where == "middle" else 1
    old = _row(app, a, version).state
    digits = old[old.index(b'"prev_hash":"') + 13:][:64]
    flipped = (b"1" if digits[:1] != b"1" else b"2") + digits[1:]
    pos = _set_prev_hash(app, a, version, flipped)
    report = _verify(app)
    chain = [f for f in report.failures if f.code == "chain_broken"]
    assert len(chain) == 1, report.to_dict()
    assert chain[0].position == pos and chain[0].version == version and chain[0].platform_id == str(a)
    assert report.first_failure.position == pos and _codes_at(report, pos) == {"event_altered", "chain_broken"}


@pytest.mark.parametrize("new", [b"zz" + b"0" * 62, b"short\"", b""])
def test_prev_hash_no_longer_64_hex_digits_is_reported_at_the_row_itself(world, new) -> None:
    app, a, *_ = world
    row = _row(app, a, 5)
    i = row.state.index(b'"prev_hash":"') + 13
    _sql(app, "UPDATE {T} SET state=? WHERE {POS}=?", (row.state[:i] + new + row.state[i + 64:], row.position))
    report = _verify(app)
    first = report.first_failure
    assert first.position == row.position and first.detected_at == row.position and first.version == 5
    assert _codes_at(report, row.position) & {"bad_prev_hash", "undecodable"}
    assert not [f for f in report.failures if f.code == "chain_broken"]  # the next link is explained


def test_prev_hash_key_removed_is_reported_not_crashing(world) -> None:
    app, a, *_ = world
    row = _row(app, a, 5)
    _sql(app, "UPDATE {T} SET state=? WHERE {POS}=?",
         (row.state.replace(b'"prev_hash":', b'"prev_hasx":'), row.position))
    report = _verify(app)
    assert report.first_failure.position == row.position
    bad = [f for f in report.failures if f.code == "bad_prev_hash"]
    assert len(bad) == 1 and bad[0].position == row.position and "no prev_hash" in bad[0].reason


def test_nested_prev_hash_key_is_not_mistaken_for_the_events(world) -> None:
    """Only the top-level key counts: a spaced or reordered (but intact) encoding still verifies
    through the JSON fallback, and its bytes change is caught by the next link."""
    app, a, *_ = world
    row = _row(app, a, 5)
    doc = json.loads(row.state)
    spaced = json.dumps(doc, ensure_ascii=False).encode()  # ", " and ": " separators
    _sql(app, "UPDATE {T} SET state=? WHERE {POS}=?", (spaced, row.position))
    report = _verify(app)
    # the row's own prev_hash is still read correctly (no bad_prev_hash); its bytes changed
    found = sorted(f.code for f in report.failures if f.code != "checkpoint_mismatch")
    assert found == ["chain_broken", "event_altered"]
    assert report.first_failure.position == row.position


def test_malformed_columns_are_reported_never_crash(world) -> None:
    app, a, b, _ = world
    row = _row(app, a, 9)
    _sql(app, "UPDATE {T} SET topic=NULL WHERE {POS}=?", (row.position,))
    if app.store.is_sqlite:
        other = _row(app, b, 3)
        _sql(app, "UPDATE {T} SET originator_version='x', state=CAST(state AS TEXT) WHERE {POS}=?", (other.position,))
        third = _row(app, b, 5)
        _sql(app, "UPDATE {T} SET originator_id=? WHERE {POS}=?", (str(b).upper(), third.position))
    report = _verify(app)
    assert not report.ok
    assert any(f.code == "malformed_row" and f.position == row.position for f in report.failures)
    if app.store.is_sqlite:
        assert any(f.code == "malformed_row" and f.position == other.position for f in report.failures)
        assert any(f.code == "bad_originator_id" and f.position == third.position for f in report.failures)


def test_deep_mode_decodes_every_row(world) -> None:
    """The one thing bytes cannot show: that the application can still read every event."""
    app, a, *_ = world
    with freeze_time(NOW):
        assert _verified(app, deep=True).ok
    row = _row(app, a, 4)
    _sql(app, "UPDATE {T} SET topic=? WHERE {POS}=?", ("platform-registry/Platform/NoSuchEvent", row.position))
    full, deep = _verify(app), _verify(app, deep=True)
    assert full.first_failure.position == row.position
    assert "undecodable" in _codes_at(full, row.position)  # found by the seal and the chain, then re-read
    assert any(f.code == "undecodable" and f.detected_at == row.position for f in deep.failures)


def test_one_byte_making_the_row_undecodable_is_reported_not_crashing(world) -> None:
    app, a, *_ = world
    row = _row(app, a, 4)
    _sql(app, "UPDATE {T} SET state=? WHERE {POS}=?", (b"\xff" + row.state[1:], row.position))
    for deep in (False, True):
        report = _verify(app, deep)
        assert "undecodable" in _codes_at(report, row.position), report.to_dict()
        assert report.first_failure.position == row.position and report.first_failure.platform_id == str(a)


def test_missing_state_is_reported(world) -> None:
    app, a, *_ = world
    row = _row(app, a, 6)
    _sql(app, "UPDATE {T} SET state=NULL WHERE {POS}=?", (row.position,))
    report = _verify(app)
    assert report.first_failure.position == row.position
    assert "undecodable" in _codes_at(report, row.position)


def _seal_sql(app: RegistryApp, statement: str, params: tuple = ()) -> None:
    """Tamper with the log seal itself: ``{S}`` is its table."""
    if app.store.is_sqlite:
        conn = sqlite3.connect(app.store.sqlite_path)
        with conn:
            conn.execute(statement.format(S="audit_log_seal"), params)
        conn.close()
    else:
        with app.recorder.datastore.transaction(commit=True) as cur:
            cur.execute(statement.format(S=f'"{app.recorder.datastore.schema}".audit_log_seal').replace("?", "%s"),
                        params)


def test_event_deleted_in_the_middle_is_pinpointed_at_the_hole(world) -> None:
    """Behind a checkpoint: reported where the event was removed, not as a truncation, nor at the
    stream's next event."""
    app, a, *_ = world
    gone, after = _row(app, a, 5), _row(app, a, 6)
    _sql(app, "DELETE FROM {T} WHERE {POS}=?", (gone.position,))
    report = _verify(app)
    first = report.first_failure
    assert (first.code, first.position, first.platform_id, first.version) == (
        "event_missing", gone.position, str(a), 5)
    assert gone.topic.rsplit("/", 1)[-1] in first.reason
    gap = next(f for f in report.failures if f.code == "version_gap")
    assert gap.position == after.position  # the stream's own view of the hole, as corroboration
    assert not [f for f in report.failures if f.code == "log_truncated"]


def test_last_event_of_a_stream_deleted_in_the_middle_of_the_log(world) -> None:
    """A platform's Funded event, with other platforms' events after it: no chain link shows it."""
    app, a, b, _ = world
    funded = stream_rows(app, a)[-1]
    assert funded.topic.endswith("/Funded") and funded.position < list(iter_rows(app))[-1].position
    _sql(app, "DELETE FROM {T} WHERE {POS}=?", (funded.position,))
    report = _verify(app)
    first = report.first_failure
    assert (first.code, first.position, first.platform_id, first.version) == (
        "event_missing", funded.position, str(a), funded.version)
    assert "Funded" in first.reason


@pytest.mark.parametrize("checkpointed", [True, False])
def test_last_row_of_the_log_deleted(world, checkpointed) -> None:
    """Covered by a checkpoint or written after it: the seal names the deleted row."""
    app, a, b, signer = world
    if not checkpointed:
        with freeze_time(NOW):
            Driver(app, subfield="智能终端").to("applied")
    last = list(iter_rows(app))[-1]
    _sql(app, "DELETE FROM {T} WHERE {POS}=?", (last.position,))
    report = _verify(app)
    assert not report.ok
    first = report.first_failure
    assert first.code == "event_missing" and first.position == last.position
    assert first.platform_id == last.originator_id and first.version == last.version


def test_event_deleted_with_its_seal_row_in_the_middle(world) -> None:
    app, a, *_ = world
    gone = _row(app, a, 5)
    _sql(app, "DELETE FROM {T} WHERE {POS}=?", (gone.position,))
    _seal_sql(app, "DELETE FROM {S} WHERE first_position=?", (gone.position,))
    report = _verify(app)
    broken = [f for f in report.failures if f.code == "seal_broken"]
    assert len(broken) == 1 and broken[0].position == gone.position, report.to_dict()
    assert report.first_failure.position == gone.position


def test_tail_deleted_with_its_seal_rows_is_caught_by_the_checkpoint(world) -> None:
    """The one deletion the store cannot show by itself: the last writes with their seal rows.
    The signed checkpoint covers them: the log is shorter than a signed size."""
    app, *_ = world
    last = list(iter_rows(app))[-1]
    _sql(app, "DELETE FROM {T} WHERE {POS}=?", (last.position,))
    _seal_sql(app, "DELETE FROM {S} WHERE first_position=?", (last.position,))
    report = _verify(app)
    assert not report.ok
    assert report.first_failure.code == "log_truncated"
    assert report.first_failure.position == last.position  # the first missing position


def _swap(app: RegistryApp, p: int, q: int) -> None:
    _sql(app, "UPDATE {T} SET {POS}=? WHERE {POS}=?", (-1, p))
    _sql(app, "UPDATE {T} SET {POS}=? WHERE {POS}=?", (p, q))
    _sql(app, "UPDATE {T} SET {POS}=? WHERE {POS}=?", (q, -1))


def test_two_events_of_one_stream_swapped(world) -> None:
    app, a, *_ = world
    x, y = _row(app, a, 7), _row(app, a, 8)
    _swap(app, x.position, y.position)
    report = _verify(app)
    assert report.first_failure.position == x.position
    assert _codes_at(report, x.position) >= {"event_altered", "version_gap"}
    assert "event_altered" in _codes_at(report, y.position)


def test_two_events_of_different_streams_swapped_breaks_the_merkle_root(world) -> None:
    app, *_ = world
    rows = list(iter_rows(app))
    # Adjacent rows of two streams: swapping them keeps each stream's own order.
    x, y = next((r, s) for r, s in pairwise(rows) if r.originator_id != s.originator_id)
    _swap(app, x.position, y.position)
    report = _verify(app)
    assert not report.ok
    # The chains are intact (each stream keeps its order); the seal and the signed root see the move.
    assert {f.code for f in report.failures} == {"event_altered", "checkpoint_mismatch"}
    assert [f.position for f in report.failures if f.code == "event_altered"] == [x.position, y.position]
    assert report.first_failure.position == x.position


def _forge_next(app: RegistryApp, pid: UUID, timestamp: str, chained: bool) -> int:
    rows = stream_rows(app, pid)
    tip = rows[-1]
    state = json.loads(tip.state)
    if chained:
        event = app.mapper.to_domain_event(app.recorder.select_notifications(tip.position, 1)[0])
        state["prev_hash"] = event_hash(tip.topic, event.__dict__)
    state["timestamp"] = {"_type_": "datetime_iso", "_data_": timestamp}
    _sql(app, "INSERT INTO {T} (originator_id, originator_version, topic, state) VALUES (?,?,?,?)",
         (_oid(app, pid), tip.version + 1, tip.topic, json.dumps(state, ensure_ascii=False).encode()))
    return list(iter_rows(app))[-1].position


def _seal_forgery(app: RegistryApp, position: int) -> None:
    """What a forger who knows the design adds: a seal row for the forged event."""
    from aggregates.log_seal import seal_rows

    row = next(r for r in iter_rows(app) if r.position == position)
    (first, count, leaves, names, at), = seal_rows(
        [(row.position, row.id_hex.decode(), row.version, row.topic, row.state)], NOW)
    _seal_sql(app, "INSERT INTO {S} (seq, first_index, first_position, count, leaves, streams, sealed_at) "
              "SELECT MAX(seq) + 1, MAX(first_index + count), ?, ?, ?, ?, ? FROM {S}",
              (first, count, leaves, names, at))


def test_naively_forged_append_is_unsealed_and_breaks_the_chain(world) -> None:
    app, a, *_ = world
    forged = _forge_next(app, a, NOW, chained=False)
    report = _verify(app)
    assert report.first_failure.code == "event_unsealed" and report.first_failure.position == forged
    chain = next(f for f in report.failures if f.code == "chain_broken")
    assert chain.detected_at == forged and chain.platform_id == str(a)


def test_event_inserted_behind_the_applications_back_is_unsealed(world) -> None:
    app, a, *_ = world
    forged = _forge_next(app, a, NOW, chained=True)
    report = _verify(app)
    assert [(f.code, f.position) for f in report.failures] == [("event_unsealed", forged)]


def test_well_chained_sealed_backdated_forgery_is_caught(world) -> None:
    app, a, *_ = world
    forged = _forge_next(app, a, "2023-12-25T03:00:00+00:00", chained=True)
    _seal_forgery(app, forged)
    report = _verify(app)
    assert [f.code for f in report.failures] == ["uncovered_backdated"]
    assert report.first_failure.position == forged


def test_a_store_without_a_seal_is_not_ok(world) -> None:
    app, *_ = world
    _seal_sql(app, "DROP TABLE {S}")
    report = _verify(app)
    assert not report.ok and report.first_failure.code == "seal_missing"


def test_forged_checkpoint_without_the_key_is_a_key_mismatch(world, tmp_path) -> None:
    app, a, *_ = world
    _seal_forgery(app, _forge_next(app, a, NOW, chained=True))
    # Appended after the last checkpoint with a current timestamp, it cannot be told from a
    # legitimate write until a checkpoint covers it; the forger's own checkpoint does not verify.
    intruder = CheckpointSigner.load_or_create(tmp_path / "intruder.pem", create=True)
    from audit.merkle import root_from_leaf_hashes
    from audit.rows import leaf_hash_of

    leaves = [leaf_hash_of(r) for r in iter_rows(app)]
    from datetime import datetime

    store_checkpoint(app, intruder.sign(len(leaves), root_from_leaf_hashes(leaves), datetime.now(UTC)))
    report = _verify(app)
    assert not report.ok and report.failures[0].code == "key_mismatch"


def test_replaced_checkpoint_key(world, tmp_path, monkeypatch) -> None:
    app, *_ = world
    import os

    key_path = tmp_path / "keys" / "cp.pem"
    os.remove(key_path)
    replaced = CheckpointSigner.load_or_create(key_path, create=True)  # someone swaps the key file
    with freeze_time(NOW), pytest.raises(LogNotIntact, match="key mismatch"):
        sign_checkpoint(app, replaced, checkpoint_keys())
    with freeze_time(NOW):
        from datetime import datetime

        report = _verified(app)
        store_checkpoint(app, replaced.sign(report.size, bytes.fromhex(report.root), datetime.now(UTC)))
    report = _verify(app)
    assert report.first_failure.code == "key_mismatch" and "key mismatch" in report.first_failure.reason
