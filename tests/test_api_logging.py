"""Log lines are JSON, and a standard-library record keeps the fields passed as ``extra=``."""

from __future__ import annotations

import json
import logging

from api.logging import stdlib_json_formatter


def test_command_log_lines_carry_the_command_aggregate_and_position() -> None:
    record = logging.LogRecord("aggregates.application", logging.INFO, __file__, 1, "command recorded", None, None)
    record.__dict__.update(command="object", aggregate_id="c78b3360-81e9-4b67-8cb8-cdd99ef58895", position=7)
    line = json.loads(stdlib_json_formatter().format(record))
    assert line["event"] == "command recorded" and line["level"] == "info"
    assert (line["command"], line["position"]) == ("object", 7)
    assert line["aggregate_id"] == "c78b3360-81e9-4b67-8cb8-cdd99ef58895" and line["timestamp"].endswith("Z")
