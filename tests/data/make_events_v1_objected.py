"""How ``events_v1_objected.jsonl`` was made: the stored rows of a small store, written by the
code as it was before ``Objected`` gained ``channel`` (class_version 2), kept byte for byte.

Run once at commit 4eef61b (before the change) from the repository root::

    PYTHONPATH=src python tests/data/make_events_v1_objected.py > tests/data/events_v1_objected.jsonl

Never run it again to refresh the file: today's code writes the new shape, and the point of the
file is the old one (docs/EVENTS.md). One platform is taken to publicity (2022 round: the window
runs 2022-09-29..10-10 across National Day) and receives two objections: one online on
2022-09-30, and one posted on paper, received 2022-10-08 and keyed in by a clerk on 2022-10-09.
Each line is one stored row in log order: ``topic``, ``originator_id``, ``originator_version``
and ``state``, the stored JSON bytes as UTF-8 text.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import date
from pathlib import Path

from aggregates.application import RegistryApp
from aggregates.programme import Driver, act
from aggregates.store import StoreConfig
from aggregates.values import Act, Role


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = RegistryApp(StoreConfig(f"sqlite:///{Path(tmp) / 'events.sqlite3'}"))
        try:
            drv = Driver(app, batch_ref="公示-2022-v1").to("in_publicity")
            assert drv.pid is not None
            app.object(drv.pid, act(Role.PUBLIC, "2022-09-30", who="public"),
                       objector_name="张三", contact="13800138000", content="申报数据不实")
            clerk = Act("bureau-1", Role.BUREAU, date(2022, 10, 8), ("收件〔2022〕17号",),
                        recorded_on=date(2022, 10, 9))
            app.object(drv.pid, clerk.on_behalf_of("public", Role.PUBLIC),
                       objector_name="李四", contact="长沙市岳麓区某路1号", content="合作单位并未实际参与")
            for n in app.recorder.select_notifications(start=1, limit=10_000):
                print(json.dumps({"topic": n.topic, "originator_id": str(n.originator_id),
                                  "originator_version": n.originator_version,
                                  "state": bytes(n.state).decode("utf-8")}, ensure_ascii=False), file=sys.stdout)
        finally:
            app.close()


if __name__ == "__main__":
    main()
