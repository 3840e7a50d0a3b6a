"""Operator data files (policy versions, working-day schedules): read as JSON, a failure named
with the file and raised as the caller's own error type, so a bad file stops the service at
start-up with a message that says which file and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json_file(path: Path, what: str, error: type[Exception]) -> Any:
    """The JSON content of ``path`` (a ``what`` file), or ``error`` saying why it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read {what} file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise error(f"{what} file {path} is not valid JSON: {exc}") from None
