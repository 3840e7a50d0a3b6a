"""The operator's files a backup carries beside the store, and where a restore puts them back.

Policy versions (``PLATFORMS_POLICY_DIR``, ``policies/`` under ``PLATFORMS_VAR_DIR`` in
development), the working-day calendar (``PLATFORMS_CALENDAR_FILE``), the pinned checkpoint
public key (``PLATFORMS_CHECKPOINT_PUBKEY``, by default beside the private key), the public keys
retired by earlier rotations (``PLATFORMS_CHECKPOINT_RETIRED_KEYS``, by default beside the pinned
key) and the witness list (``PLATFORMS_WITNESS_KEYS``): public material, but the store means nothing without it (a
refusal cites a policy version, a deadline is counted on a calendar, the audit verifies with the
pinned key). Where each goes back is where the restoring side's settings say; a file already
there is kept when it is the same and refused when it differs, never overwritten.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from aggregates.store import StoreConfig

from .manifest import PRIVATE_DIR, PRIVATE_FILE, BackupRefused, sha256_of

__all__ = ["POLICY", "CALENDAR", "PINNED_KEY", "RETIRED_KEYS", "WITNESSES", "Layout", "Placement", "place", "sources"]

POLICY, CALENDAR, PINNED_KEY, WITNESSES = "policy", "calendar", "checkpoint_public_key", "witness_keys"
RETIRED_KEYS = "checkpoint_retired_keys"
_FOLDER = {POLICY: "policies", CALENDAR: "calendar", PINNED_KEY: "keys", RETIRED_KEYS: "keys",
           WITNESSES: "witnesses"}
_VARIABLE = {POLICY: "PLATFORMS_POLICY_DIR", CALENDAR: "PLATFORMS_CALENDAR_FILE",
             PINNED_KEY: "PLATFORMS_CHECKPOINT_PUBKEY", RETIRED_KEYS: "PLATFORMS_CHECKPOINT_RETIRED_KEYS",
             WITNESSES: "PLATFORMS_WITNESS_KEYS"}


@dataclass(frozen=True)
class Layout:
    """Where one deployment keeps what a backup holds, as its settings say (built by the
    command line from :class:`api.settings.Settings`)."""

    store: StoreConfig
    policy_dir: Path | None
    calendar_file: Path | None
    pinned_key: Path
    retired_keys: Path  # the keys earlier rotations retired (audit.keys); absent before the first
    witness_keys: Path | None
    checkpoint_private_key: Path
    token_secret: str | None  # PLATFORMS_SECRET_KEY when set
    token_secret_file: Path | None  # development's secret.key (None in production)


def sources(layout: Layout) -> list[tuple[str, Path, str]]:
    """``(role, file, folder in the backup)`` of every operator file there is to back up;
    :class:`BackupRefused` for a configured file that is missing (the service would not start)."""
    found: list[tuple[str, Path, str]] = []
    if layout.policy_dir is not None and layout.policy_dir.is_dir():
        found += [(POLICY, p, _FOLDER[POLICY]) for p in sorted(layout.policy_dir.glob("*.json")) if p.is_file()]
    for role, path in ((CALENDAR, layout.calendar_file), (WITNESSES, layout.witness_keys)):
        if path is not None:
            if not path.is_file():
                raise BackupRefused(f"{_VARIABLE[role]} names {path}, which is not a file")
            found.append((role, path, _FOLDER[role]))
    for role, path in ((PINNED_KEY, layout.pinned_key), (RETIRED_KEYS, layout.retired_keys)):
        if path.is_file():
            found.append((role, path, _FOLDER[role]))
    return found


@dataclass(frozen=True)
class Placement:
    """A file of the backup and where it goes; ``present``: the same file is there already."""

    backup_file: Path
    target: Path
    present: bool


def destination(layout: Layout, role: str, name: str) -> Path:
    """Where a file of ``role`` named ``name`` goes back; :class:`BackupRefused` when the
    settings name no place for it."""
    if role == POLICY:
        if layout.policy_dir is None:
            raise BackupRefused("the backup holds policy files and PLATFORMS_POLICY_DIR is not set: "
                                "set it to where they go")
        return layout.policy_dir / name
    if role == PINNED_KEY:
        return layout.pinned_key
    if role == RETIRED_KEYS:
        return layout.retired_keys
    path = layout.calendar_file if role == CALENDAR else layout.witness_keys
    if path is None:
        raise BackupRefused(f"the backup holds a {role.replace('_', ' ')} file and {_VARIABLE[role]} is not set: "
                            "set it to where it goes")
    return path


def placement(backup_file: Path, target: Path, sha256: str) -> Placement:
    """Where ``backup_file`` goes; refused when a different file is there."""
    if target.exists():
        if not target.is_file() or sha256_of(target) != sha256:
            raise BackupRefused(f"{target} exists and differs from the backup's {backup_file.name}: "
                                "move it away or point the setting elsewhere; nothing was restored")
        return Placement(backup_file, target, True)
    return Placement(backup_file, target, False)


def place(p: Placement) -> None:
    """Copy a placed file into position (0600, its directory created 0700), unless it is there."""
    if p.present:
        return
    p.target.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    fd = os.open(p.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as out, open(p.backup_file, "rb") as src:
        shutil.copyfileobj(src, out)


def write_private(target: Path, text: str) -> None:
    """Create ``target`` (0600) holding ``text``; its directory 0700 if made here."""
    target.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
