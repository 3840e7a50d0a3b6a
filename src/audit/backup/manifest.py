"""``MANIFEST.json``: what a backup holds, and the check that it still holds exactly that.

The manifest names every file of the backup with its size and SHA-256, the log's head at the
backup's instant (position and event count) and the last checkpoint signed by then, so a restore
can refuse a tampered or incomplete backup before it writes anything, and afterwards prove that
what it restored is the log the checkpoint vouches for. The hashes find damage and mistakes;
what proves the log is the checkpoint's signature under the pinned public key, which the
restore's audit verification checks.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["BackupRefused", "Entry", "FORMAT", "LogHead", "MANIFEST", "Manifest", "PRIVATE_DIR", "PRIVATE_FILE",
           "sha256_of", "software_version"]

MANIFEST = "MANIFEST.json"
FORMAT = "platform-registry-backup/1"
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_CHUNK = 1 << 20


class BackupRefused(RuntimeError):
    """A backup or restore that must not go on: one line, fit to print as it is."""


@dataclass(frozen=True)
class LogHead:
    """The log as the backup's snapshot saw it, and the last checkpoint signed by then."""

    position: int
    events: int
    checkpoint_size: int | None = None
    checkpoint_root: str | None = None


@dataclass(frozen=True)
class Entry:
    """One file of the backup: its path in the backup, what it is (``role``), where it came
    from, its size and SHA-256."""

    path: str
    role: str
    size: int
    sha256: str
    source: str = ""


@dataclass
class Manifest:
    store_kind: str
    head: LogHead
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    software_version: str = field(default_factory=lambda: software_version())
    store_schema: str | None = None
    files: list[Entry] = field(default_factory=list)
    keys: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT

    def add(self, root: Path, path: Path, role: str, source: str = "") -> Entry:
        """Record ``path`` (a file under ``root``, the backup's directory) as made private."""
        os.chmod(path, PRIVATE_FILE)
        entry = Entry(path.relative_to(root).as_posix(), role, path.stat().st_size, sha256_of(path), source)
        self.files.append(entry)
        return entry

    def of_role(self, role: str) -> list[Entry]:
        return [e for e in self.files if e.role == role]

    def write(self, root: Path) -> Path:
        target = root / MANIFEST
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, ensure_ascii=False, indent=2)
            fh.write("\n")
        return target

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "created_at": self.created_at, "software_version": self.software_version,
                "store": {"kind": self.store_kind, "schema": self.store_schema},
                "log": {"head_position": self.head.position, "events": self.head.events},
                "last_checkpoint": (None if self.head.checkpoint_size is None else
                                    {"size": self.head.checkpoint_size, "root": self.head.checkpoint_root}),
                "files": [asdict(e) for e in self.files], "keys": self.keys}

    @classmethod
    def read(cls, root: Path) -> Manifest:
        """The manifest of the backup in ``root``, or :class:`BackupRefused` saying why not."""
        path = root / MANIFEST
        if not root.is_dir():
            raise BackupRefused(f"no backup at {root}: not a directory")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise BackupRefused(f"{path} is not a backup this release restores "
                                    f"(format {data.get('format')!r}, expected {FORMAT!r})")
            log, cp = data["log"], data["last_checkpoint"]
            head = LogHead(int(log["head_position"]), int(log["events"]),
                           int(cp["size"]) if cp else None, str(cp["root"]) if cp else None)
            files = [Entry(str(f["path"]), str(f["role"]), int(f["size"]), str(f["sha256"]), str(f.get("source", "")))
                     for f in data["files"]]
            return cls(store_kind=str(data["store"]["kind"]), head=head, created_at=str(data["created_at"]),
                       software_version=str(data["software_version"]), store_schema=data["store"].get("schema"),
                       files=files, keys=dict(data.get("keys") or {}))
        except FileNotFoundError:
            raise BackupRefused(f"no backup at {root}: {MANIFEST} is missing") from None
        except BackupRefused:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupRefused(f"{path} is damaged ({exc.__class__.__name__}: {exc})") from None

    def check_files(self, root: Path) -> None:
        """Refuse unless every file the manifest names is there, inside the backup, with its size
        and SHA-256."""
        for entry in self.files:
            path = (root / entry.path).resolve()
            if root.resolve() not in path.parents:
                raise BackupRefused(f"the manifest names {entry.path!r}, outside the backup: refused")
            if not path.is_file():
                raise BackupRefused(f"the backup is incomplete: {entry.path} is missing")
            if path.stat().st_size != entry.size or sha256_of(path) != entry.sha256:
                raise BackupRefused(f"the backup is damaged or was altered: {entry.path} does not match "
                                    f"its SHA-256 in {MANIFEST}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def software_version() -> str:
    try:
        return metadata.version("platform-registry")
    except metadata.PackageNotFoundError:
        return "unknown"
