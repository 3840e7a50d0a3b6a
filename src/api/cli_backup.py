"""``platforms backup`` and ``platforms restore``: the command line's side of :mod:`backup`.

They translate settings into the places a backup is taken from and restored to
(:class:`audit.backup.files.Layout`), show the steps and their progress on stderr (rich), print one
summary line on stdout, and turn every refusal into one line on stderr: exit 1 for a refusal or
a store that cannot be reached, 2 for a usage or configuration error. Never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .cli_store import fail, settings_or_exit

if TYPE_CHECKING:
    from audit.backup.files import Layout

    from .settings import Settings

console = Console(stderr=True)
T = TypeVar("T")


def layout_of(settings: Settings) -> Layout:
    """Where this deployment keeps what a backup holds, as its settings say."""
    from audit.backup.files import Layout

    keys = settings.checkpoint_keys
    development = not settings.is_production
    return Layout(store=settings.store,
                  policy_dir=settings.policy_dir or (settings.var_dir / "policies" if development else None),
                  calendar_file=settings.calendar_file, pinned_key=keys.pinned, retired_keys=keys.retired_path,
                  witness_keys=settings.witness_keys,
                  checkpoint_private_key=keys.private, token_secret=settings.secret_key or None,
                  token_secret_file=settings.var_dir / "secret.key" if development else None)


class _ConsoleReport:
    """:class:`audit.backup.service.Report` on a rich progress display: each step a line, its
    progress a bar, details in the bar's description."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("", total=None)
        self.count = 0

    def step(self, text: str) -> None:
        self.count += 1
        self.progress.console.print(f"[bold]{self.count}.[/bold] {text}", markup=True, highlight=False)
        self.progress.reset(self.task, total=None, description=text[:60])

    def advance(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)

    def note(self, text: str) -> None:
        self.progress.update(self.task, description=text[:60])


@contextmanager
def _reporting() -> Iterator[_ConsoleReport]:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        yield _ConsoleReport(progress)


def _guarded(settings: Settings, work: Callable[[], T]) -> T:
    """``work()``, its refusals and failures each one line and an exit code."""
    from aggregates.schema_heads import SchemaNotCurrent
    from aggregates.store import StoreUnavailable, StoreUrlError
    from audit.backup.manifest import BackupRefused

    store = settings.store
    try:
        return work()
    except StoreUrlError as exc:
        fail(str(exc), 2)
    except (BackupRefused, StoreUnavailable, SchemaNotCurrent) as exc:
        fail(store.redact(str(exc)), 1)
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - a store or a file that fails is reported, not traced
        fail(f"{exc.__class__.__name__}: {store.redact(str(exc))} ({store.label})", 1)


def _passphrase(from_stdin: bool, confirm: bool) -> str:
    """The keys' passphrase: the first line of stdin, or typed at a hidden prompt (twice when
    sealing). Never an argument: the command line is visible to every user of the machine."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Passphrase for the keys", hide_input=True, confirmation_prompt=confirm, err=True)


def backup(out: Path = typer.Option(..., "--out", help="The new backup directory (absent or empty; made 0700)"),
           include_keys: bool = typer.Option(False, "--include-keys",
                                             help="Also the token and checkpoint signing keys, encrypted under a "
                                                  "passphrase (default: keys are not included)"),
           keys_passphrase_stdin: bool = typer.Option(False, "--keys-passphrase-stdin",
                                                      help="Read the keys' passphrase from the first line of stdin "
                                                           "instead of a hidden prompt")) -> None:
    """Back up what cannot be rebuilt, online while the servers write: the event store (SQLite's
    online backup API, or pg_dump), the policy and calendar files, the public keys."""
    from audit.backup.keys import MIN_PASSPHRASE
    from audit.backup.service import take_backup

    settings = settings_or_exit(console.print)
    passphrase = _passphrase(keys_passphrase_stdin, confirm=True) if include_keys else None
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        fail(f"the keys' passphrase must have at least {MIN_PASSPHRASE} characters", 2)
    layout = layout_of(settings)

    def work() -> None:
        with _reporting() as report:
            manifest = take_backup(layout, out, passphrase, report)
        head = manifest.head
        checkpoint = (f"last checkpoint at size {head.checkpoint_size}" if head.checkpoint_size is not None
                      else "no checkpoint signed yet")
        keys = "keys included, encrypted" if manifest.keys.get("included") else "keys NOT included: keep them apart"
        typer.echo(f"backup written to {out}: {head.events} events up to position {head.position}, {checkpoint}, "
                   f"{len(manifest.files)} files; {keys}")

    _guarded(settings, work)


def restore(directory: Path = typer.Argument(..., help="The backup directory (made by platforms backup)"),
            keys_passphrase_stdin: bool = typer.Option(False, "--keys-passphrase-stdin",
                                                       help="Read the keys' passphrase from the first line of "
                                                            "stdin instead of a hidden prompt"),
            workers: int | None = typer.Option(None, min=1, help="Processes verifying the log and rebuilding the "
                                                                 "read models (default: one per CPU on a long log)"),
            ) -> None:
    """Restore a backup into an empty store: check its hashes, restore the store, files and keys,
    migrate, verify the log against the last checkpoint, rebuild the read models."""
    from audit.backup.service import holds_keys, restore_backup

    settings = settings_or_exit(console.print)
    layout = layout_of(settings)

    def work() -> None:
        # Asked before the progress display starts, which would overwrite a prompt.
        secret = _passphrase(keys_passphrase_stdin, confirm=False) if holds_keys(directory) else ""
        with _reporting() as report:
            restored = restore_backup(layout, directory, lambda: secret, report, verify_workers=workers)
        for note in restored.notes:
            console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
        head = restored.head
        checkpoint = (f"verified against the checkpoint at size {head.checkpoint_size}"
                      if head.checkpoint_size is not None else "verified (the backup had no checkpoint)")
        positions = sorted(set(restored.positions.values()))
        keys = ", ".join(restored.keys) or "none"
        typer.echo(f"restored {head.events} events up to position {head.position} from {directory}: {checkpoint}; "
                   f"{restored.files} files; keys: {keys}; read models rebuilt at position "
                   f"{', '.join(map(str, positions)) or 0}")

    _guarded(settings, work)


def backup_check(directory: Path = typer.Argument(..., help="The backup directory (made by platforms backup)")) -> None:
    """Check a backup without restoring it: its manifest reads, and every file it names is there
    with its size and SHA-256, as a restore checks them first. Opens no store: run it where the
    backups are kept, after each copy and before relying on one."""
    from audit.backup.manifest import MANIFEST, BackupRefused, Manifest

    try:
        manifest = Manifest.read(directory)
        manifest.check_files(directory)
    except BackupRefused as exc:
        fail(str(exc), 1)
    head = manifest.head
    checkpoint = (f"last checkpoint at size {head.checkpoint_size}" if head.checkpoint_size is not None
                  else "no checkpoint signed yet")
    keys = "keys included, encrypted" if manifest.keys.get("included") else "keys not included"
    typer.echo(f"backup {directory} is intact: {len(manifest.files)} files match {MANIFEST}; "
               f"{manifest.store_kind} store, {head.events} events up to position {head.position}, {checkpoint}; "
               f"{keys}; taken {manifest.created_at} by release {manifest.software_version}")
