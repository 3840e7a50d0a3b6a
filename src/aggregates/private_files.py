"""Files that hold personal data or secrets are created readable by their owner only (0600).

The event store and the read models hold objectors' names and contacts and password hashes;
exports copy them. A file created under the usual umask would be world-readable (0644) on a
shared machine. SQLite creates its ``-wal`` and ``-shm`` files with the database file's mode,
so a database created here private keeps its companions private too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

PRIVATE_MODE = 0o600


def ensure_private_file(path: str | Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist; an existing file that this
    process owns is tightened to 0600 (a store created by an older version)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        try:
            os.chmod(path, PRIVATE_MODE)
        except PermissionError:  # another user's file: theirs to protect, and readable to us
            pass
        return
    os.close(fd)


def open_private(path: str | Path) -> TextIO:
    """``path`` opened for writing UTF-8 text, truncated, mode 0600 whether new or not."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    os.fchmod(fd, PRIVATE_MODE)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


__all__ = ["ensure_private_file", "open_private", "PRIVATE_MODE"]
