"""``platforms audit ...``: verify, export, checkpoint, reconcile, proofs, and the witness.

Each registry command builds the registry from the settings (``PLATFORMS_DATABASE_URL``);
nothing here changes an event. ``verify`` and ``reconcile`` exit 1 when they find a problem, so
scripts and cron jobs can alert on the exit status. ``witness`` and ``witness-key`` run on
another office's machine and never open a store: the witness talks to the registry over HTTP.
As in :mod:`api.cli`, each command imports what it uses when it runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aggregates.private_files import open_private

from .cli_store import settings_or_exit
from .settings import Settings

audit_app = typer.Typer(help="Audit the event log: verify, export, checkpoint, reconcile, witness.",
                        no_args_is_help=True)
proof_app = typer.Typer(help="Merkle proofs for offline verification.", no_args_is_help=True)
audit_app.add_typer(proof_app, name="proof")

err = Console(stderr=True)


def _settings() -> Settings:
    return settings_or_exit(err.print)


def _registry(settings: Settings | None = None) -> Any:
    """The registry on the existing store; a missing, empty or unreachable one is a one-line
    error (exit 1), never a new empty store that would verify as "OK 0 events"."""
    from .cli_store import existing_registry

    return existing_registry(settings or _settings())


def _progress(total: int, what: str) -> Progress:
    return Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True)


@audit_app.command()
def verify(deep: bool = typer.Option(False, help="also decode every event through the application, proving "
                                                 "each row is still readable by the current code (slower)"),
           workers: int | None = typer.Option(
               None, min=1, help="processes scanning the log in parts (default: one per CPU on a long log)"),
           ) -> None:
    """Recompute every hash from the stored bytes; check chains, versions and checkpoints."""
    from aggregates.event_table import event_table
    from audit.verify import verify_log

    settings = _settings()
    app = _registry(settings)
    keys = settings.checkpoint_keys
    total = event_table(app).sealed_size()  # the bar's length: one indexed row, not a count of the log
    with _progress(total, "verifying") as bar:
        task = bar.add_task("verify", total=total)
        report = verify_log(app, deep=deep, workers=workers, public_key_pem=keys.pinned_public_key(),
                            retired_keys=keys.retired_keys(),
                            progress=lambda n: bar.update(task, completed=n))
    typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    if not report.ok:
        first = report.first_failure
        err.print(f"[red]FAILED[/red] at position {first.position if first else '?'}: "
                  f"{first.reason if first else ''}")
        raise typer.Exit(1)
    err.print(f"[green]OK[/green] {report.events_checked} events")


@audit_app.command()
def export(out: Path | None = typer.Option(None, "--out", help="file to write (default: stdout)")) -> None:
    """Export the whole log as JSON Lines, as GET /audit/export does: a header, the signed
    checkpoints, every event with its stored bytes, a trailer (tools/verify_offline.py export)."""
    from aggregates.event_table import event_table
    from audit.history import export_jsonl

    app = _registry()
    total, _ = event_table(app).log_size()
    if out is None:
        export_jsonl(app, sys.stdout)
        return
    with open_private(out) as fh, _progress(total, "exporting") as bar:
        task = bar.add_task("export", total=total)
        count = export_jsonl(app, fh, progress=lambda n: bar.update(task, completed=n))
    err.print(f"wrote {count} events to {out}")


@audit_app.command()
def checkpoint() -> None:
    """Verify the log, then sign and store a checkpoint now."""
    from audit.checkpoints import LogNotIntact, sign_checkpoint

    settings = _settings()
    app = _registry(settings)
    keys = settings.checkpoint_keys
    try:
        cp = sign_checkpoint(app, keys.load_signer(create=True), keys)
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
def proof_inclusion(position: int = typer.Option(...), size: int | None = typer.Option(None)) -> None:
    """Inclusion proof of the event at POSITION in the tree of SIZE events."""
    from audit.proofs import inclusion

    typer.echo(json.dumps(inclusion(_registry(), position, size), indent=2))


@proof_app.command("consistency")
def proof_consistency(old_size: int = typer.Option(...), new_size: int | None = typer.Option(None)) -> None:
    """Consistency proof from OLD_SIZE to NEW_SIZE."""
    from audit.proofs import consistency

    typer.echo(json.dumps(consistency(_registry(), old_size, new_size), indent=2))


@audit_app.command("log-key")
def log_key() -> None:
    """Print the log's note verifier key (origin+key ID+base64) for standard note verifiers."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from audit.note import VerifierKey

    keys = _settings().checkpoint_keys
    pem = keys.pinned_public_key()
    if pem is None:
        err.print(f"[red]no pinned public key[/red] at {keys.pinned}: sign a checkpoint first")
        raise typer.Exit(1)
    public = serialization.load_pem_public_key(pem)
    if not isinstance(public, Ed25519PublicKey):
        err.print(f"[red]{keys.pinned} is not an Ed25519 public key[/red]")
        raise typer.Exit(1)
    typer.echo(VerifierKey.ed25519(keys.origin, public).encode())


@audit_app.command("witness-key")
def witness_key(out: Path = typer.Option(..., "--out", help="the private key file to create (0600)"),
                name: str = typer.Option(..., "--name", help="the witness's key name, e.g. "
                                         "sjj.changsha.example/witness (no spaces, no '+')")) -> None:
    """Create a witness key; print the verifier key line to give the registry's operator."""
    from audit.witness import create_witness_key

    try:
        vkey = create_witness_key(out, name)
    except FileExistsError:
        err.print(f"[red]{out} exists[/red]: a witness key is never overwritten")
        raise typer.Exit(2) from None
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    typer.echo(vkey)
    err.print(f"wrote {out} (secret, 0600) and {out}.pub; the registry's operator adds the line above, "
              "followed by the office's name, to the file named by PLATFORMS_WITNESS_KEYS")


@audit_app.command()
def witness(log_url: str = typer.Option(..., "--log", help="the registry's address, e.g. https://host"),
            key: Path = typer.Option(..., "--key", help="this witness's key (from witness-key, or PKCS#8 PEM)"),
            log_key_pem: Path = typer.Option(..., "--log-key", help="the log's public key PEM, obtained from "
                                             "its operator through a channel you trust"),
            name: str | None = typer.Option(None, help="the witness's key name (required with a PEM key)"),
            state: Path | None = typer.Option(None, help="state file (default: KEY.state.json)"),
            origin: str | None = typer.Option(None, help="the log's origin line (default: the first one "
                                                 "seen, then pinned in the state)"),
            once: bool = typer.Option(False, "--once", help="one round, then exit (the default)"),
            interval: float | None = typer.Option(None, "--interval", min=1.0,
                                                     help="a round every SECONDS, for ever")) -> None:
    """Check each new checkpoint against the last one cosigned, then cosign it. Exits 1 when a
    round refuses the log (fork, rollback, bad signature) or fails."""
    import logging

    import httpx

    from audit.witness import Outcome, Witness, load_log_key, load_witness_key

    from .logging import configure

    if once and interval is not None:
        err.print("[red]--once and --interval exclude each other[/red]")
        raise typer.Exit(2)
    try:
        key_name, private = load_witness_key(key, name)
        public = load_log_key(log_key_pem)
    except (OSError, ValueError) as exc:
        err.print(f"[red]cannot load a key:[/red] {exc}")
        raise typer.Exit(2) from None
    configure()
    logging.getLogger("httpx").setLevel(logging.WARNING)

    def report(outcome: Outcome) -> None:
        colour = "green" if outcome.ok else "red"
        label = outcome.status.upper() + (f" ({outcome.code})" if outcome.code else "")
        err.print(f"[{colour}]{label}[/{colour}] {outcome.detail}")

    with httpx.Client(base_url=log_url, timeout=60) as client:
        w = Witness(client, public, key_name, private, state or key.with_name(key.name + ".state.json"), origin)
        if interval is None:
            outcome = w.once()
            report(outcome)
            raise typer.Exit(0 if outcome.ok else 1)
        try:
            w.run(interval, report=report)
        except KeyboardInterrupt:
            err.print("stopped")


@audit_app.command("rotate-key")
def rotate_key() -> None:
    """Replace the checkpoint signing key: the old key signs a last checkpoint and is retired
    (kept to verify what it signed), a new key is pinned and signs a checkpoint at once. Prints
    both checkpoints and the new log key the witnesses must be given."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from audit.checkpoints import LogNotIntact
    from audit.note import VerifierKey
    from audit.rotation import RotationRefused, rotate_checkpoint_key

    settings = _settings()
    app = _registry(settings)
    keys = settings.checkpoint_keys
    try:
        rotation = rotate_checkpoint_key(app, keys)
    except (RotationRefused, LogNotIntact) as exc:
        err.print(f"[red]refused[/red]: {exc}; nothing was changed")
        raise typer.Exit(1) from None
    public = serialization.load_pem_public_key(rotation.new_public_pem)
    assert isinstance(public, Ed25519PublicKey)  # the rotation made it an Ed25519 key
    log_key = VerifierKey.ed25519(keys.origin, public).encode()
    typer.echo(json.dumps({
        "retired_key": {k: v for k, v in rotation.retired.to_dict().items() if k != "public_key"},
        "last_checkpoint_of_the_retired_key": rotation.last_old.to_dict(),
        "first_checkpoint_of_the_new_key": rotation.first_new.to_dict(),
        "new_key_id": rotation.first_new.key_id, "log_key": log_key,
        "pinned_public_key": str(keys.pinned), "retired_keys": str(keys.retired_path)}, indent=2))
    err.print(f"[green]rotated[/green]: key {rotation.retired.key_id} retired after size {rotation.retired.last_size}, "
              f"key {rotation.first_new.key_id} pinned at {keys.pinned}.\n"
              f"Give every witness the new public key {keys.pinned} (through a channel you both trust) and have "
              f"it restart `platforms audit witness` with --log-key on that file; until then it refuses "
              f"(bad_log_signature). Give the auditors {keys.pinned} and {keys.retired_path}; copy both to "
              "every host that serves the registry.")
