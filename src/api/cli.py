"""The ``platforms`` command line (typer): serve, migrate, openapi, users, demo, projections, ledger, audit,
backup and restore.

Exit codes: 0 success, 1 the work failed (a refusal, a missing, empty or unreachable store), 2 a
usage or configuration error (bad option, a malformed store URL, production without a secret key,
a schema that ``platforms migrate`` must bring up to date first).
Commands that only read the events open an existing store or stop (:mod:`api.cli_store`); messages
name a store with its password masked.

Each command imports the registry, the web application, the read models or the audit inside its
function, when it runs: ``platforms --help`` and a command that needs none of them start in a
fraction of a second, not the seconds that importing all of them takes.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aggregates.errors import DomainError
from aggregates.private_files import open_private
from aggregates.store import StoreUrlError

from .allocator import tune_allocator
from .cli_audit import audit_app
from .cli_backup import backup, backup_check, restore
from .cli_store import existing_registry, fail, settings_or_exit
from .problem_catalogue import headline, problem_type
from .settings import Settings, SettingsError, name_postgres_sessions, share_metrics_dir, trusted_proxies

if TYPE_CHECKING:
    from aggregates.application import RegistryApp

app = typer.Typer(help="Changsha AI Open Innovation Platform registry (长科发〔2021〕36号).",
                  no_args_is_help=True, add_completion=False)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
projections_app = typer.Typer(help="Read models: follow the log or rebuild.", no_args_is_help=True)
ledger_app = typer.Typer(help="The funding ledger.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(projections_app, name="projections")
app.add_typer(ledger_app, name="ledger")

console = Console(stderr=True)
out = Console()


def _settings() -> Settings:
    return settings_or_exit(console.print)


def _container(settings: Settings | None = None, registry: RegistryApp | None = None):  # noqa: ANN202
    from aggregates.schema_heads import SchemaNotCurrent

    from .bootstrap import build_container

    settings = settings or _settings()
    store = settings.store
    try:
        return build_container(settings, registry)
    except (StoreUrlError, SchemaNotCurrent) as exc:
        fail(str(exc), 2)
    except Exception as exc:  # noqa: BLE001 - a store we cannot open is reported, not traced
        fail(f"cannot open the store ({store.label}): {exc.__class__.__name__}: {store.redact(str(exc))}", 1)


def _existing_container():  # noqa: ANN202
    """The container on the existing store, for commands that read the events but never write
    one. The store is checked before the container is wired, so a wrong directory creates
    nothing, not even the development token key."""
    settings = _settings()
    registry = existing_registry(settings)
    try:
        return _container(settings, registry)
    except typer.Exit:
        registry.close()
        raise


# ---------------------------------------------------------------------------- serve
@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Interface to bind"),
          port: int = typer.Option(8000, help="Port"),
          workers: int = typer.Option(1, min=1, max=64, help="Worker processes (PostgreSQL only)"),
          graceful_timeout: int = typer.Option(
              20, min=1, help="On SIGTERM or Ctrl-C, seconds the requests in flight have to finish before they "
                              "are cancelled"),
          worker_healthcheck_timeout: int = typer.Option(
              30, min=1, help="With --workers > 1, seconds a worker has to answer the manager's ping before it is "
                              "killed and replaced"),
          log_level: str | None = typer.Option(None, help="uvicorn's own log level (default: PLATFORMS_LOG_LEVEL)"),
          forwarded_allow_ips: str | None = typer.Option(
              None, help="Proxies trusted to set X-Forwarded-For, comma-separated addresses or CIDRs "
                         "(overrides PLATFORMS_TRUSTED_PROXIES; default: none)")) -> None:
    """Serve the API (/api/v1), the OpenAPI docs (/docs) and the public publicity page (/)."""
    import uvicorn

    settings = _settings()
    try:
        proxies = trusted_proxies(forwarded_allow_ips) if forwarded_allow_ips is not None else settings.trusted_proxies
    except SettingsError as exc:
        console.print(f"[red]--forwarded-allow-ips:[/] {exc}")
        raise typer.Exit(2) from None
    if workers > 1 and settings.is_sqlite:
        console.print("[red]--workers > 1 needs PostgreSQL:[/] SQLite has one writer and no "
                      "notifications; set PLATFORMS_DATABASE_URL=postgresql+psycopg://...")
        raise typer.Exit(2)
    if workers > 1 and settings.runs_projections:
        console.print("[yellow]note:[/] every worker will also run the read-model runner "
                      "(PLATFORMS_RUN_PROJECTIONS=1); prefer one `platforms projections run` process")
    if settings.is_production:
        _check_schema(settings)  # before any worker starts, rather than in each of them
    # The workers' sessions are named in pg_stat_activity, as the runner's are.
    name_postgres_sessions("platforms-api")
    tune_allocator()  # here and in the workers, which take it from the environment
    if workers > 1:
        # Each worker counts its own requests and commands; GET /metrics, whichever worker
        # answers, sums them from the files they keep here (api.metrics).
        from .metrics import prepare_shared_dir

        prepare_shared_dir(settings.metrics_directory)
        share_metrics_dir(settings.metrics_directory)
    console.print(f"serving on http://{host}:{port} ({settings.mode}, {workers} worker(s)); docs at /docs; "
                  f"store {settings.store.masked}", soft_wrap=True, markup=False)
    # SIGTERM (systemd, supervisord) or Ctrl-C: each worker stops accepting, closes its idle
    # connections and lets the requests in flight finish, for at most ``graceful_timeout`` seconds
    # (uvicorn's own default waits for ever, until the supervisor's SIGKILL). A command is one
    # transaction: one cancelled then commits all of its events or none.
    # With several workers, uvicorn's manager pings each one every half second and replaces one that
    # died or does not answer in time. Its default, 5 s, killed workers that were only starting
    # (importing the application before their answering thread runs) on a loaded machine: 19 of
    # 25 replacements in a 5-minute bench/soak_layout.py run at a load average of 21.
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=log_level or settings.log_level.lower(), access_log=False,
                timeout_graceful_shutdown=graceful_timeout, timeout_worker_healthcheck=worker_healthcheck_timeout,
                **uvicorn_proxy_options(proxies))


def _check_schema(settings: Settings) -> None:
    """Exit 2 with one line unless the store's schema is at this release's newest revisions."""
    from aggregates.schema_heads import SchemaNotCurrent, at_heads

    try:
        if at_heads(settings.store):  # without importing Alembic (aggregates/schema_heads.py)
            return
        from aggregates.migrations import check_current

        check_current(settings.store)
    except (StoreUrlError, SchemaNotCurrent) as exc:
        fail(str(exc), 2)
    except Exception as exc:  # noqa: BLE001 - a store we cannot open is reported, not traced
        fail(f"cannot open the store ({settings.store.label}): {exc.__class__.__name__}: "
             f"{settings.store.redact(str(exc))}", 1)


# ---------------------------------------------------------------------------- migrate
@app.command()
def migrate() -> None:
    """Create or bring up to date every table beside the event log (Alembic revisions), printing
    each database's revision and each revision applied; safe to run again, and from two
    processes at once. Run it before `serve` and `projections run` in production."""
    from aggregates.migrations import SchemaNotCurrent
    from aggregates.migrations import migrate as run_migrations

    settings = _settings()
    store = settings.store
    try:
        applied = run_migrations(store, lambda line: out.print(line, markup=False, highlight=False, soft_wrap=True))
    except StoreUrlError as exc:
        fail(str(exc), 2)
    except SchemaNotCurrent as exc:  # migrated by a newer release
        fail(str(exc), 1)
    except Exception as exc:  # noqa: BLE001 - a store we cannot reach is reported, not traced
        fail(f"cannot migrate the store ({store.label}): {exc.__class__.__name__}: {store.redact(str(exc))}", 1)
    out.print(f"{len(applied)} revision(s) applied; the schema is current", markup=False, highlight=False)


class ProxyOptions(TypedDict, total=False):
    proxy_headers: bool
    forwarded_allow_ips: list[str]


def uvicorn_proxy_options(proxies: tuple[str, ...]) -> ProxyOptions:
    """uvicorn's proxy settings: X-Forwarded-For believed from the named proxies only. With
    none named, proxy headers are off altogether (uvicorn's own default would trust 127.0.0.1,
    letting any local client choose its address)."""
    if not proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(proxies)}


# ---------------------------------------------------------------------------- openapi
@app.command("openapi")
def openapi_document(out_file: Path | None = typer.Option(None, "--out", help="JSON file (default: stdout)")) -> None:
    """Write the HTTP API's OpenAPI document (JSON), for client generators and linters.

    The document depends on the code, not on the data: it is built on a throw-away store in a
    temporary directory, so the configured store is neither opened nor needed."""
    import json
    import tempfile

    from .app import create_app
    from .bootstrap import build_container

    with tempfile.TemporaryDirectory(prefix="platforms-openapi-") as tmp:
        settings = Settings.from_env({}, var_dir=Path(tmp), run_projections=False, checkpoint_signer=False,
                                     deadline_watch=False)
        container = build_container(settings)
        try:
            document = create_app(container).openapi()
        finally:
            container.close()
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out_file is None:
        sys.stdout.write(text)
        return
    out_file.write_text(text, encoding="utf-8")
    console.print(f"wrote the OpenAPI document ({len(document['paths'])} paths) to {out_file}")


# ---------------------------------------------------------------------------- users
PASSWORD_STDIN = typer.Option(False, "--password-stdin",
                              help="Read the password from the first line of stdin instead of a prompt")


def _new_password(from_stdin: bool) -> str:
    """The password typed twice at a hidden prompt, or the first line of stdin (for scripts).
    Never an argument: the command line is visible to every user of the machine (ps, /proc)
    and kept in shell histories."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password (at least 12 characters, not a common one)", hide_input=True,
                        confirmation_prompt=True)


@users_app.command("add")
def users_add(name: str = typer.Argument(..., help="Username"),
              role: str = typer.Option(..., help="applicant, service_agency, expert, bureau, finance or auditor"),
              credit_code: str | None = typer.Option(None, help="Host unit (applicant) or affiliation (expert)"),
              password_stdin: bool = PASSWORD_STDIN) -> None:
    """Create a user; the password is asked for (hidden, twice) or read from stdin."""
    password = _new_password(password_stdin)
    with _users_of() as users:
        user = users.add(name, role, password, credit_code)
    out.print(f"created {user.username} ({user.role.value}{', ' + user.credit_code if user.credit_code else ''})")


@users_app.command("list")
def users_list() -> None:
    """List users and whether they are disabled (never their password hashes)."""
    c = _container()
    try:
        table = Table("username", "role", "credit code", "created", "disabled since", "last lockout")
        for u in c.users.all():
            table.add_row(u.username, u.role.value, u.credit_code or "", str(u.created_at)[:19],
                          str(u.disabled_at)[:19] if u.disabled_at else "",
                          str(u.last_lockout_at)[:19] if u.last_lockout_at else "")
        out.print(table)
    finally:
        c.close()


@contextmanager
def _users_of() -> Iterator[Any]:
    """The accounts, for one ``users`` command: an unknown or existing user is exit 1, a refused
    name or password exit 2."""
    from .users import UnknownUser, UserExists

    c = _container()
    try:
        yield c.users
    except (UnknownUser, UserExists) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    except DomainError as exc:
        console.print(f"[red]{getattr(exc, 'field', None) or 'input'}:[/] {headline(exc.code)}: {exc.message}")
        raise typer.Exit(2) from None
    finally:
        c.close()


def _change_user(name: str, change: str, *args: str) -> None:
    """Apply ``UserRepository.<change>`` to ``name``."""
    with _users_of() as users:
        getattr(users, change)(name, *args)


@users_app.command("disable")
def users_disable(name: str = typer.Argument(..., help="Username")) -> None:
    """Refuse the user's sign-ins and revoke every token issued to it, at once."""
    _change_user(name, "disable")
    out.print(f"disabled {name}; its tokens are revoked")


@users_app.command("enable")
def users_enable(name: str = typer.Argument(..., help="Username")) -> None:
    """Let a disabled user sign in again (tokens revoked by disabling stay revoked)."""
    _change_user(name, "enable")
    out.print(f"enabled {name}")


@users_app.command("set-password")
def users_set_password(name: str = typer.Argument(..., help="Username"),
                       password_stdin: bool = PASSWORD_STDIN) -> None:
    """Set a new password (asked for, or read from stdin); the user's tokens are revoked at once."""
    _change_user(name, "set_password", _new_password(password_stdin))
    out.print(f"password of {name} changed; its tokens are revoked")


# ---------------------------------------------------------------------------- demo
@app.command()
def demo(if_empty: bool = typer.Option(False, "--if-empty",
                                      help="Do nothing (exit 0) if the store has events")) -> None:
    """Load the demonstration programme into an empty store (development mode only)."""
    from . import demo as demo_mod

    settings = _settings()
    if settings.is_production:
        console.print("[red]the demo is for development:[/] it creates accounts with published passwords")
        raise typer.Exit(2)
    policy_dir = settings.policy_dir or settings.var_dir / "policies"
    target = demo_mod.install_demo_policy(policy_dir)
    settings = settings.model_copy(update={"policy_dir": policy_dir})
    c = _container(settings)
    try:
        if not demo_mod.store_is_empty(c.app):
            if if_empty:
                console.print("the store already has events; demo not loaded")
                return
            console.print("[red]the store is not empty;[/] the demo loads into an empty store only")
            raise typer.Exit(1)
        console.print(f"demonstration policy installed: {target} ([bold]演示用，非真实文件[/])")
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as progress:
            task = progress.add_task("loading the demo programme", total=demo_mod.STEPS + 17)

            def step(what: str) -> None:
                progress.update(task, advance=1, description=what[:60])

            try:
                programme = demo_mod.load(c.app, step)
            except DomainError as exc:
                console.print(f"[red]the demo was refused:[/] {headline(exc.code)}: {exc.message}")
                raise typer.Exit(1) from None
            progress.update(task, description="building the read models")
            c.runner.catch_up()
            progress.update(task, completed=demo_mod.STEPS + 17, description="done")
        accounts = demo_mod.create_users(c.users)
        for note in programme.notes:
            console.print(f"[yellow]note:[/] {note}")
        table = Table("username", "role", "password", "credit code", title="Demo accounts (development only)")
        for row in accounts:
            table.add_row(*row)
        out.print(table)
        out.print(f"{len(programme.ids)} platforms, {c.app.recorder.max_notification_id()} events. "
                  "Sign in at /docs (Authorize) or POST /api/v1/auth/token.")
    finally:
        c.close()


# ---------------------------------------------------------------------------- archive import
@app.command("import")
def import_(archive: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                           help="The archive: one act a line, JSON, in calendar order"),
            clerk: str = typer.Option(..., "--clerk", help="The bureau account importing it (recorded as such)"),
            dry_run: bool = typer.Option(False, "--dry-run", help="Validate only: list every refusal, record nothing"),
            abandon: str | None = typer.Option(
                None, "--abandon", metavar="REASONS",
                help="Give up this archive's interrupted import, saying why (what it recorded stands)"),
            ) -> None:
    """Import a past programme from its archive, whole or nothing (docs/IMPORT.md)."""
    from aggregates.clock import today_in_shanghai
    from aggregates.values import Act, Role

    from .archive_import import ArchiveRefused, abandon_archive, import_archive
    from .inputs import forbidden_character

    if not clerk.strip() or len(clerk) > 200 or forbidden_character(clerk, one_line=True):
        console.print("[red]--clerk:[/] one line of at most 200 printable characters")
        raise typer.Exit(2)
    content = archive.read_bytes()
    today = today_in_shanghai()
    act = Act(clerk.strip(), Role.BUREAU, today, recorded_on=today)
    c = _container()
    try:
        # The clerk named is the one the log will show as importing: an enabled bureau account,
        # as POST /imports would have signed in with.
        account = c.users.get(act.actor_id)
        if account is None or account.role is not Role.BUREAU or account.disabled_at is not None:
            console.print(f"[red]--clerk:[/] {act.actor_id!r} is not an enabled bureau account (platforms users list)")
            raise typer.Exit(2)
        if abandon is not None:
            if not abandon.strip() or len(abandon) > 4000 or forbidden_character(abandon):
                console.print("[red]--abandon:[/] the reasons, at most 4000 printable characters")
                raise typer.Exit(2)
            try:
                sha = abandon_archive(c.app, content, act, abandon)
            except DomainError as exc:
                console.print(f"[red]not abandoned:[/] {headline(exc.code)}: {exc.message}")
                raise typer.Exit(1) from None
            out.print(f"archive {sha[:16]}…: import abandoned; the acts it recorded stand")
            return
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as progress:
            task = progress.add_task("validating the archive" if dry_run else "validating, then recording",
                                     total=None)
            try:
                summary = import_archive(c.app, content, act, dry_run=dry_run,
                                         on_total=lambda n: progress.update(task, total=n),
                                         progress=lambda n: progress.update(task, advance=n))
            except ArchiveRefused as exc:
                summary = exc.summary
            except DomainError as exc:
                console.print(f"[red]the import was refused:[/] {headline(exc.code)}: {exc.message}")
                raise typer.Exit(1) from None
            if summary.outcome in ("imported", "resumed"):
                progress.update(task, description="building the read models")
                c.runner.catch_up()
    finally:
        c.close()
    _print_import(summary)
    if summary.refusals:
        raise typer.Exit(1)


def _print_import(summary: Any) -> None:
    """The summary of an import: what it holds, what it recorded, every refusal."""
    if summary.refusals:
        table = Table("line", "act", "code", "title", "article", "field", "message", title="Refusals")
        for r in summary.refusals:
            kind = problem_type(r.code)
            table.add_row(str(r.line), r.act or "", r.code, f"{kind.title_zh} / {kind.title_en}", r.article or "",
                          r.field or "", r.message)
        out.print(table)
    words = {"imported": "imported", "resumed": "imported (an interrupted import resumed)",
             "already_imported": "already imported: nothing recorded", "valid": "valid (dry run): nothing recorded",
             "refused": "refused: nothing recorded",
             "interrupted": "interrupted: the import stays open; settle the conflict and run it again to resume"}
    out.print(f"archive {summary.archive_sha256[:16]}…: {words[summary.outcome]}")
    out.print(f"{summary.platforms} platforms, {summary.batches} publicity batches, {summary.events} events, "
              f"{summary.recorded} acts recorded now, {summary.already_recorded} recorded before, "
              f"{len(summary.refusals)} refusals")


# ---------------------------------------------------------------------------- projections
def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


@projections_app.command("run")
def projections_run(poll: float = typer.Option(0.2, help="Seconds between polls when idle")) -> None:
    """Keep the read models up to date until interrupted (one process per store)."""
    from projections.reconnect import is_connection_loss

    from .logging import configure

    # Every connection of this process (events, read models, LISTEN) is named in
    # pg_stat_activity, so an operator can tell the runner's sessions from the API's.
    # SIGTERM while starting (an orchestrator stopping a runner it just started) ends it as
    # Ctrl-C would, with exit 0; once the runner follows the log, SIGTERM stops it between batches.
    signal.signal(signal.SIGTERM, _interrupt)
    name_postgres_sessions("platforms-projections")
    tune_allocator()
    settings = _settings()
    configure(settings.log_level, settings.log_format)
    try:
        c = _container(settings)
    except KeyboardInterrupt:
        console.print("stopped")
        return
    stop = lambda *_: c.runner.stop()  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    try:
        # The process that follows the log on PostgreSQL is the checkpoint signer there.
        c.start_watch(signs=True)
        console.print("catching up...")
        try:
            position = c.runner.catch_up()
            console.print(f"read models at position {position}; following the log (Ctrl-C to stop)")
        except Exception as exc:
            if not is_connection_loss(exc):
                raise
            # The loop below reconnects and resumes from the stored positions.
            console.print("connection lost while catching up; following the log (Ctrl-C to stop)")
        # The process that follows the log records missed deadlines (the watch retries a pass
        # that cannot reach the store), unless PLATFORMS_DEADLINE_WATCH=false.
        if c.settings.deadline_watch is not False:
            c.start_deadline_watch()
        c.runner.run_forever(poll)
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        c.close()


@projections_app.command("status")
def projections_status() -> None:
    """Each read model's position and lag, and where and why a stopped one stopped (exit 1 then)."""
    from projections.failures import Failures
    from projections.runner import max_position, read_positions
    from projections.tables import MODELS

    c = _existing_container()
    try:
        with c.engine.connect() as conn:
            positions = read_positions(conn, MODELS)
        head = max_position(c.app)
        stopped = Failures(c.engine, MODELS).recorded()
    finally:
        c.close()
    for model, position in positions.items():
        line = f"{model}: at position {position} of {head}, lag {max(0, head - position)}"
        failure = stopped.get(model)
        if failure is not None:
            line += (f"; STOPPED at position {failure['position']} since {failure['failed_at']}: "
                     f"cannot apply {failure['event']}: {failure['reason']}")
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    if stopped:
        raise typer.Exit(1)


@projections_app.command("rebuild")
def projections_rebuild(name: list[str] | None = typer.Argument(None, help="Read models (default: all)"),
                        workers: int | None = typer.Option(
                            None, min=1, help="Processes replaying the log (default: one per CPU on a long log)"),
                        ) -> None:
    """Rebuild read models from the event log and swap them in."""
    from projections.rebuild import rebuild

    # Only the registry and the read models' database: a rebuild replays the log and serves
    # nothing, so it does not wire (nor import) the web application, the metrics or the accounts
    # (README, "Performance": start-up).
    settings = _settings()
    registry = existing_registry(settings)
    try:
        engine = _read_models_for_rebuild(settings, registry)
        try:
            with Progress(TextColumn("rebuilding {task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console) as progress:
                task = progress.add_task(", ".join(name) if name else "all read models", total=None)

                def report(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                try:
                    positions = rebuild(registry, engine, list(name) if name else None, report, workers=workers)
                except ValueError as exc:
                    console.print(f"[red]{exc}[/]")
                    raise typer.Exit(2) from None
        finally:
            engine.dispose()
        for model, position in positions.items():
            out.print(f"{model}: at position {position}")
    finally:
        registry.close()


def _read_models_for_rebuild(settings: Settings, registry: RegistryApp) -> Any:
    """The read models' engine of ``registry``'s store, once the schema beside the log is current
    (as every entry point checks it: :func:`api.registry_wiring.prepare_schema`)."""
    from aggregates.schema_heads import SchemaNotCurrent
    from projections.db import make_engine

    from .registry_wiring import prepare_schema

    store = registry.store
    try:
        prepare_schema(settings, store)
        return make_engine(store)
    except (StoreUrlError, SchemaNotCurrent) as exc:
        fail(str(exc), 2)
    except Exception as exc:  # noqa: BLE001 - a store we cannot open is reported, not traced
        fail(f"cannot open the store ({store.label}): {exc.__class__.__name__}: {store.redact(str(exc))}", 1)


# ---------------------------------------------------------------------------- ledger
@ledger_app.command("export")
def ledger_export(fiscal_year: int | None = typer.Option(None, help="Only this fiscal year"),
                  out_file: Path | None = typer.Option(None, "--out", help="CSV file (default: stdout)"),
                  lang: str = typer.Option("zh", "--lang", help="Headers and kinds: zh (Chinese) or en (English)")
                  ) -> None:
    """Export the funding ledger as CSV (UTF-8 with BOM, opens in Excel): the entries by business
    date with platform names and a totals row (GET /funding-ledger.csv)."""
    from projections import queries

    if lang not in queries.LEDGER_CSV_LANGS:
        console.print(f"[red]--lang must be one of {', '.join(queries.LEDGER_CSV_LANGS)}, not {lang!r}[/]")
        raise typer.Exit(2)

    c = _existing_container()
    try:
        c.runner.catch_up()
        with c.engine.connect() as conn:
            text = queries.ledger_csv(conn, fiscal_year=fiscal_year, lang=lang)
    finally:
        c.close()
    if out_file is None:
        sys.stdout.write(text)
        return
    with open_private(out_file) as fh:
        fh.write(text)
    rows = text.count("\r\n") - 2  # less the header and the totals row
    console.print(f"wrote {rows} entries to {out_file}")


# The audit verbs (verify, export, ...) come from the audit module; backup and restore from theirs.
app.add_typer(audit_app, name="audit")
app.command("backup")(backup)
app.command("restore")(restore)
app.command("backup-check")(backup_check)

__all__ = ["app"]

if __name__ == "__main__":
    app()
