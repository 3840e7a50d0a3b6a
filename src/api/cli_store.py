"""How the command line opens the store and reports that it cannot.

The commands that only read the events (``audit verify|export|proof|reconcile|checkpoint``,
``ledger export``, ``projections rebuild``) open an existing store or stop with one line on
stderr, never a traceback and never a new empty store: exit 2 for a URL that cannot name a
store, exit 1 for a store that is missing, empty or does not answer (and, for ``audit
reconcile``, read models that were never built). Every message names the store with its
password masked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

import typer

from aggregates.store import StoreConfig, StoreUnavailable, StoreUrlError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from aggregates.application import RegistryApp

    from .settings import Settings


def fail(message: str, code: int) -> NoReturn:
    """Print ``message`` as one plain line on stderr (no markup, no wrapping) and exit ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def existing_registry(settings: Settings) -> RegistryApp:
    """The registry on the existing store that ``PLATFORMS_DATABASE_URL`` (or the default under
    ``PLATFORMS_VAR_DIR``) names, with the operator's policies and calendar; exits 2 or 1 with one
    line if there is none."""
    from aggregates.existing_store import open_existing

    from .registry_wiring import build_calendar, build_policies

    store = settings.store
    try:
        return open_existing(store, build_policies(settings), build_calendar(settings), settings.aggregate_cache)
    except StoreUrlError as exc:
        fail(str(exc), 2)
    except StoreUnavailable as exc:
        fail(str(exc), 1)
    except Exception as exc:  # noqa: BLE001 - a store that passed the checks but will not open
        fail(f"cannot open the store ({store.label}): {exc.__class__.__name__}: {store.redact(str(exc))}", 1)


def existing_read_models(store: StoreConfig) -> Engine:
    """An engine on the read models of ``store``, which must exist; exits 1 with one line if not."""
    from projections.db import existing_engine

    try:
        return existing_engine(store)
    except StoreUnavailable as exc:
        fail(str(exc), 1)


def settings_or_exit(print_error: Callable[[str], object]) -> Settings:
    """The settings from the environment; a bad variable is one line through ``print_error``
    (rich markup) and exit 2."""
    from .settings import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as exc:
        print_error(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(2) from None
