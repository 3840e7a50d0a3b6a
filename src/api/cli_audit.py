"""``platforms audit ...``: verify, export, checkpoint, reconcile, proofs.

Each command builds the registry from the environment (``PLATFORMS_DATABASE_URL``); nothing here
changes an event. ``verify`` and ``reconcile`` exit 1 when they find a problem, so scripts and
cron jobs can alert on the exit status.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

audit_app = typer.Typer(help="Audit the event log: verify, export, checkpoint, reconcile.", no_args_is_help=True)
proof_app = typer.Typer(help="Merkle proofs for offline verification.", no_args_is_help=True)
audit_app.add_typer(proof_app, name="proof")

err = Console(stderr=True)


def _registry() -> Any:
    """The registry on the existing store; a missing, empty or unreachable one is a one-line
    error (exit 1), never a new empty store that would verify as "OK 0 events"."""
    from .cli_store import existing_registry

    return existing_registry()


def _progress(total: int, what: str) -> Progress:
    return Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True)


@audit_app.command()
def verify(deep: bool = typer.Option(False, help="also decode every event through the application, proving "
                                                 "each row is still readable by the current code (slower)")) -> None:
    """Recompute every hash from the stored bytes; check chains, versions and checkpoints."""
    from audit.rows import log_size
    from audit.verify import verify_log

    app = _registry()
    total, _ = log_size(app)
    with _progress(total, "verifying") as bar:
        task = bar.add_task("verify", total=total)
        report = verify_log(app, deep=deep, progress=lambda n: bar.update(task, completed=n))
    typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    if not report.ok:
        first = report.first_failure
        err.print(f"[red]FAILED[/red] at position {first.position if first else '?'}: "
                  f"{first.reason if first else ''}")
        raise typer.Exit(1)
    err.print(f"[green]OK[/green] {report.events_checked} events")


@audit_app.command()
def export(out: Optional[Path] = typer.Option(None, "--out", help="file to write (default: stdout)")) -> None:
    """Export the whole log as JSON Lines, as GET /audit/export does: a header, the signed
    checkpoints, every event with its stored bytes, a trailer (tools/verify_offline.py export)."""
    from audit.history import export_jsonl
    from audit.rows import log_size

    app = _registry()
    total, _ = log_size(app)
    if out is None:
        export_jsonl(app, sys.stdout)
        return
    with out.open("w", encoding="utf-8") as fh, _progress(total, "exporting") as bar:
        task = bar.add_task("export", total=total)
        count = export_jsonl(app, fh, progress=lambda n: bar.update(task, completed=n))
    err.print(f"wrote {count} events to {out}")


@audit_app.command()
def checkpoint() -> None:
    """Verify the log, then sign and store a checkpoint now."""
    from audit.checkpoints import LogNotIntact, sign_checkpoint
    from audit.keys import load_signer

    app = _registry()
    try:
        cp = sign_checkpoint(app, load_signer(create=True))
    except LogNotIntact as exc:
        err.print(f"[red]refused[/red]: {exc}")
        raise typer.Exit(1) from None
    typer.echo(json.dumps(cp.to_dict(), indent=2))


@audit_app.command()
def reconcile() -> None:
    """Rebuild every read model in memory and compare it with the stored one."""
    from audit.reconcile import reconcile_read_models

    from .cli_store import existing_read_models

    app = _registry()
    engine = existing_read_models(app.store)
    report = reconcile_read_models(app, engine)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    if not report["ok"]:
        raise typer.Exit(1)


@proof_app.command("inclusion")
def proof_inclusion(position: int = typer.Option(...), size: Optional[int] = typer.Option(None)) -> None:
    """Inclusion proof of the event at POSITION in the tree of SIZE events."""
    from audit.proofs import inclusion

    typer.echo(json.dumps(inclusion(_registry(), position, size), indent=2))


@proof_app.command("consistency")
def proof_consistency(old_size: int = typer.Option(...), new_size: Optional[int] = typer.Option(None)) -> None:
    """Consistency proof from OLD_SIZE to NEW_SIZE."""
    from audit.proofs import consistency

    typer.echo(json.dumps(consistency(_registry(), old_size, new_size), indent=2))
