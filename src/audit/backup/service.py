"""Taking a backup and restoring one: the steps, in order, told to a :class:`Report`.

A backup refuses a target directory that holds anything, and removes what it wrote if it fails
half-way. A restore checks everything it can before it writes anything (the manifest's hashes,
the target store empty, a place for every file and none holding a different one, the keys'
passphrase), then writes the store, the files and the keys, migrates the tables beside the log,
verifies the whole log against the pinned key and the backup's last checkpoint, and rebuilds the
read models.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aggregates.calendar import WorkingDayCalendar
from aggregates.event_table import event_table
from aggregates.existing_store import check_existing, open_existing
from aggregates.migrations import migrate
from aggregates.policy import PolicyRegistry
from audit.checkpoint_store import latest_checkpoint
from audit.verify import verify_log
from projections.db import make_engine
from projections.rebuild import rebuild

from . import postgres_store, sqlite_store
from .files import Layout, destination, place, placement, sources, write_private
from .keys import KEYS_FILE, SecretKeys, seal, unseal
from .manifest import MANIFEST, PRIVATE_DIR, BackupRefused, LogHead, Manifest

__all__ = ["Report", "Restored", "holds_keys", "restore_backup", "take_backup"]

EVENTS_ROLE = "events"
KEYS_ROLE = "keys"


class Report(Protocol):
    """Where the steps are told: a step begins, it advances, a detail of it."""

    def step(self, text: str) -> None: ...

    def advance(self, done: int, total: int) -> None: ...

    def note(self, text: str) -> None: ...


def _kind(layout: Layout) -> str:
    if layout.store.is_postgres:
        return "postgresql"
    if layout.store.is_sqlite and not layout.store.in_memory:
        return "sqlite"
    raise BackupRefused(f"a store in memory cannot be backed up or restored ({layout.store.label})")


# ---------------------------------------------------------------------------- backup
def _prepare_out(out: Path) -> bool:
    """Make ``out`` (0700) or accept it empty; whether it was made here."""
    if out.exists():
        if not out.is_dir() or any(out.iterdir()):
            raise BackupRefused(f"{out} exists and is not an empty directory: a backup goes into a new one")
        out.chmod(PRIVATE_DIR)
        return False
    out.mkdir(mode=PRIVATE_DIR, parents=True)
    out.chmod(PRIVATE_DIR)  # whatever the umask
    return True


def _private_dir(path: Path) -> None:
    """``path`` made 0700 whatever the umask (its parent exists)."""
    path.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    path.chmod(PRIVATE_DIR)


def take_backup(layout: Layout, out: Path, keys_passphrase: str | None, report: Report) -> Manifest:
    """Back up what ``layout`` names into ``out``; the keys too, sealed under ``keys_passphrase``
    when one is given."""
    kind = _kind(layout)
    check_existing(layout.store)  # a missing or empty store is refused before anything is made
    operator_files = sources(layout)
    made = _prepare_out(out)
    try:
        return _write_backup(layout, kind, out, operator_files, keys_passphrase, report)
    except BaseException:
        if made:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for child in out.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        raise


def _write_backup(layout: Layout, kind: str, out: Path, operator_files: list[tuple[str, Path, str]],
                  keys_passphrase: str | None, report: Report) -> Manifest:
    _private_dir(out / "store")
    if kind == "sqlite":
        report.step("copying the event database (SQLite online backup)")
        copy = out / "store" / "platforms.sqlite3"
        head = sqlite_store.copy_events(layout.store, copy, report.advance)
        schema = None
    else:
        report.step("dumping the store's schema (pg_dump)")
        copy = out / "store" / "store.pgdump"
        head = postgres_store.copy_events(layout.store, copy, report.note)
        schema = postgres_store.schema_of(layout.store)
    manifest = Manifest(store_kind=kind, head=head, store_schema=schema)
    manifest.add(out, copy, EVENTS_ROLE, layout.store.masked)
    if operator_files:
        report.step(f"copying {len(operator_files)} policy, calendar and public key files")
    for role, path, folder in operator_files:
        target = out / "files" / folder / path.name
        _private_dir(out / "files")
        _private_dir(target.parent)
        shutil.copyfile(path, target)
        manifest.add(out, target, role, str(path))
    manifest.keys = _keys(layout, out, manifest, keys_passphrase, report)
    manifest.write(out)
    return manifest


def _secret_keys(layout: Layout) -> SecretKeys:
    token = layout.token_secret
    if token is None and layout.token_secret_file is not None and layout.token_secret_file.is_file():
        token = layout.token_secret_file.read_text(encoding="ascii").strip()
    pem = layout.checkpoint_private_key.read_text(encoding="ascii") if layout.checkpoint_private_key.is_file() else None
    return SecretKeys(token, pem)


def _keys(layout: Layout, out: Path, manifest: Manifest, passphrase: str | None, report: Report) -> dict[str, object]:
    where = {"token_secret": "PLATFORMS_SECRET_KEY" if layout.token_secret else str(layout.token_secret_file),
             "checkpoint_private_key": str(layout.checkpoint_private_key)}
    if passphrase is None:
        return {"included": False, "where": where,
                "note": "the token signing key and the checkpoint signing key are not in this backup: keep them "
                        "apart (a sealed envelope, a password safe), never beside the backup"}
    keys = _secret_keys(layout)
    report.step(f"sealing {len(keys.names())} keys under the passphrase (scrypt + Fernet)")
    seal(keys, passphrase, out / KEYS_FILE)
    manifest.add(out, out / KEYS_FILE, KEYS_ROLE)
    return {"included": True, "file": KEYS_FILE, "names": keys.names(), "where": where,
            "encryption": "Fernet (AES-128-CBC, HMAC-SHA256) under a scrypt key (n=2^15, r=8, p=1)"}


# ---------------------------------------------------------------------------- restore
def holds_keys(root: Path) -> bool:
    """Whether the backup in ``root`` says it holds keys (so that a passphrase is asked for
    before the steps start); :class:`BackupRefused` when it has no readable manifest."""
    return bool(Manifest.read(root).keys.get("included"))


@dataclass
class Restored:
    """What a restore did, for the final summary."""

    head: LogHead
    files: int = 0
    keys: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)


def restore_backup(layout: Layout, root: Path, passphrase: Callable[[], str], report: Report,
                   verify_workers: int | None = None) -> Restored:
    """Restore the backup in ``root`` into the empty store and places ``layout`` names.
    ``passphrase`` is called only when the backup holds keys (see :func:`holds_keys`)."""
    kind = _kind(layout)
    report.step(f"checking the backup in {root}")
    manifest = Manifest.read(root)
    manifest.check_files(root)
    if manifest.store_kind != kind:
        raise BackupRefused(f"the backup is of a {manifest.store_kind} store and the target is {kind} "
                            f"({layout.store.label})")
    if kind == "postgresql" and manifest.store_schema != postgres_store.schema_of(layout.store):
        raise BackupRefused(f"the backup is of schema {manifest.store_schema!r} and restores into a schema of that "
                            f"name; the target is {postgres_store.schema_of(layout.store)!r} ({layout.store.label}): "
                            "use a new database with ?schema=" + str(manifest.store_schema))
    (events,) = manifest.of_role(EVENTS_ROLE) or (None,)
    if events is None:
        raise BackupRefused(f"the backup is incomplete: {MANIFEST} names no event store")
    (sqlite_store if kind == "sqlite" else postgres_store).check_empty(layout.store)
    placements = [placement(root / e.path, destination(layout, e.role, Path(e.path).name), e.sha256)
                  for e in manifest.files if e.role not in (EVENTS_ROLE, KEYS_ROLE)]
    restored = Restored(manifest.head)
    key_writes = _plan_keys(layout, root, manifest, passphrase, restored) if manifest.keys.get("included") else []
    if not manifest.keys.get("included"):
        restored.notes.append("the backup holds no keys: put the token signing key and the checkpoint signing key "
                              "back from where they are kept")

    report.step("restoring the event store" + (" (pg_restore)" if kind == "postgresql" else ""))
    if kind == "sqlite":
        sqlite_store.put_back(root / events.path, layout.store)
    else:
        postgres_store.put_back(root / events.path, layout.store, report.note)
    for p in placements:
        place(p)
        report.note(f"{p.target}: {'already in place' if p.present else 'restored'}")
    restored.files = len(placements)
    for target, text in key_writes:
        write_private(target, text)
        report.note(f"{target}: restored")

    report.step("migrating the tables beside the log (platforms migrate)")
    migrate(layout.store, report.note)
    _verify_and_rebuild(layout, manifest, restored, report, verify_workers)
    return restored


def _plan_keys(layout: Layout, root: Path, manifest: Manifest, passphrase: Callable[[], str],
               restored: Restored) -> list[tuple[Path, str]]:
    """The key files to write, after decrypting the keys: refused before anything is written
    for a wrong passphrase or a key file that is there and differs."""
    (sealed,) = manifest.of_role(KEYS_ROLE) or (None,)
    if sealed is None:
        raise BackupRefused(f"the backup is incomplete: {MANIFEST} says it holds keys and names no {KEYS_FILE}")
    keys = unseal(root / sealed.path, passphrase())
    writes: list[tuple[Path, str]] = []
    if keys.checkpoint_private_pem is not None:
        target = layout.checkpoint_private_key
        if not target.exists():
            writes.append((target, keys.checkpoint_private_pem))
        elif target.read_text(encoding="ascii") != keys.checkpoint_private_pem:
            raise BackupRefused(f"{target} exists and holds another checkpoint key than the backup's; nothing "
                                "was restored")
        restored.keys.append("checkpoint signing key")
    if keys.token_secret is not None:
        if layout.token_secret is not None:
            if layout.token_secret != keys.token_secret:
                restored.notes.append("PLATFORMS_SECRET_KEY differs from the backup's token key: tokens issued "
                                      "before the backup are refused, anonymous retries are not recognised")
        elif layout.token_secret_file is not None:
            target = layout.token_secret_file
            if not target.exists():
                writes.append((target, keys.token_secret))
            elif target.read_text(encoding="ascii").strip() != keys.token_secret:
                raise BackupRefused(f"{target} exists and holds another token key than the backup's; nothing "
                                    "was restored")
        restored.keys.append("token signing key")
    return writes


def _verify_and_rebuild(layout: Layout, manifest: Manifest, restored: Restored, report: Report,
                        workers: int | None) -> None:
    policies = PolicyRegistry.load(layout.policy_dir if layout.policy_dir and layout.policy_dir.is_dir() else None)
    calendar = WorkingDayCalendar.from_file(layout.calendar_file) if layout.calendar_file else WorkingDayCalendar()
    app = open_existing(layout.store, policies, calendar)
    try:
        head = manifest.head
        report.step(f"verifying the restored log ({head.events} events) against the pinned key")
        pinned = layout.pinned_key.read_bytes() if layout.pinned_key.is_file() else None
        retired = layout.retired_keys.read_bytes() if layout.retired_keys.is_file() else None
        verdict = verify_log(app, public_key_pem=pinned, retired_keys=retired, workers=workers,
                             progress=lambda n: report.advance(n, head.events))
        kept = f"; the restored store is left as it is for examination ({layout.store.label})"
        if not verdict.ok:
            first = verdict.first_failure
            raise BackupRefused(f"the restored log does not verify: at position {first.position if first else '?'}: "
                                f"{first.reason if first else 'see platforms audit verify'}{kept}")
        count, top = event_table(app).log_size()
        if (count, top) != (head.events, head.position):
            raise BackupRefused(f"the restored log holds {count} events up to position {top}, the manifest "
                                f"{head.events} up to {head.position}{kept}")
        if head.checkpoint_size is not None:
            last = latest_checkpoint(app)
            if last is None or (last.size, last.root_hex) != (head.checkpoint_size, head.checkpoint_root):
                raise BackupRefused(f"the restored store's last checkpoint is not the manifest's (size "
                                    f"{head.checkpoint_size}){kept}")
        report.step("rebuilding the read models")
        engine = make_engine(layout.store)
        try:
            restored.positions = rebuild(app, engine, None, report.advance, workers=workers)
        finally:
            engine.dispose()
    finally:
        app.close()
