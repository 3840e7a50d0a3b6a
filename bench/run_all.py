"""`make bench`: run every benchmark under bench/ in turn; each prints its figures beside a
baseline measured in the same run. Extra arguments go to every script (e.g. `--store sqlite`
is understood by those that take it); run one script directly for its own options."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_lifecycle.py", "bench_projections.py", "bench_audit.py", "bench_api.py", "bench_staff_pages.py",
           "bench_ledger_figures.py", "bench_metrics.py", "bench_backup.py", "bench_postgres_workers.py"]


def main() -> int:
    failures = 0
    for name in SCRIPTS:
        script = HERE / name
        if not script.exists():
            print(f"== {name}: missing", flush=True)
            failures += 1
            continue
        print(f"\n== {name}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *sys.argv[1:]])
        print(f"== {name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
