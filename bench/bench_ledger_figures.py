"""Ledger figures benchmark: the funding ledger's fiscal-year figures on the 200,000-event
programme, checked against sums computed from the events, and the time of each report.

``tests/test_ledger_figures.py`` runs the same check (``tests/ledger_sums.check_ledger``) on a
programme of 20,000 events in CI; this runs it at full size, on the programme store that
``bench_projections.py`` caches under ``var/bench/`` (generated when missing), copied to a
temporary directory whose read models are built there.

1. Baseline: the money events read and summed straight from the log (``flows_from_events``).
2. Each report, timed (median of ``--repeat`` runs): ``GET /funding-ledger`` whole and per
   fiscal year, ``GET /funding-ledger/by-year``, the entries' CSV, the by-year XLSX.
3. The check: every report's figures equal the events' sums, each fiscal year and over all.
   Exit 1 when they do not.

    python bench/bench_ledger_figures.py [--events 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")


def median_ms(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=200_000, help="events of the programme store")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each report")
    args, _ = ap.parse_known_args()  # `make bench` passes its arguments to every script

    from aggregates.application import RegistryApp
    from aggregates.migrations import migrate
    from aggregates.store import StoreConfig
    from bench_staff_pages import ledger_store
    from ledger_sums import check_ledger, expected_years, flows_from_events
    from projections import queries
    from projections.db import make_engine
    from projections.runner import ReadModelRunner

    work = Path(tempfile.mkdtemp(prefix="bench-ledger-figures-"))
    try:
        print(f"the programme store of {args.events:,} events ...", flush=True)
        url = ledger_store(work, args.events)
        migrate(StoreConfig(url))  # the read models' tables beside the copied events
        app = RegistryApp(StoreConfig(url))
        engine = make_engine(app.store)
        started = time.perf_counter()
        ReadModelRunner(app, engine).catch_up()
        print(f"  read models built in {time.perf_counter() - started:.1f} s", flush=True)
        years = sorted(expected_years(app))
        rows: list[tuple[str, float]] = [("baseline: money events summed from the log",
                                          median_ms(lambda: flows_from_events(app), args.repeat))]
        with engine.connect() as conn:
            rows.append(("GET /funding-ledger (every entry)", median_ms(lambda: queries.funding_ledger(conn),
                                                                         args.repeat)))
            for year in years:
                rows.append((f"GET /funding-ledger?fiscal_year={year}",
                             median_ms(lambda y=year: queries.funding_ledger(conn, fiscal_year=y), args.repeat)))
            rows.append(("GET /funding-ledger/by-year", median_ms(lambda: queries.funding_ledger_by_year(conn),
                                                                   args.repeat)))
            rows.append(("GET /funding-ledger.csv", median_ms(lambda: queries.ledger_csv(conn), args.repeat)))
            rows.append(("GET /funding-ledger/by-year.xlsx", median_ms(lambda: queries.ledger_by_year_xlsx(conn),
                                                                        args.repeat)))
            entries = len(queries.funding_ledger(conn)["entries"])
            started = time.perf_counter()
            try:
                checked = check_ledger(app, conn)
                verdict = f"the figures of {checked} fiscal years ({years[0]}-{years[-1]}) equal the events' sums"
                ok = True
            except AssertionError as exc:
                verdict, ok = f"MISMATCH: {exc!r}"[:2000], False
            check_s = time.perf_counter() - started
        engine.dispose()
        app.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n{args.events:,}-event programme, {entries:,} ledger entries; median of {args.repeat} runs, SQLite")
    for name, ms in rows:
        print(f"{name:48} {ms:10.1f} ms")
    print(f"check ({check_s:.1f} s): {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
