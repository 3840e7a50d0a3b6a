"""Run-time settings: the one place that reads the environment (README, "Running").

Every ``PLATFORMS_*`` variable is a field of :class:`Settings` (pydantic-settings, prefix
``PLATFORMS_``), read once by the entry point (the HTTP app, each CLI verb) and handed down by
the composition root (:mod:`api.bootstrap`): no other module reads the environment, so a setting
means the same thing everywhere and a test states the settings it runs with.

``PLATFORMS_MODE`` is ``development`` (default) or ``production``. Production refuses to start
without ``PLATFORMS_SECRET_KEY``: a guessable or per-process key would let anyone mint tokens or
log everybody out on each restart. A key given in either mode must be at least 32 characters.
Development keeps a random key in ``var/secret.key`` (mode 0600), made when the service is wired
(:meth:`Settings.with_secret`), so tokens survive restarts and nothing secret comes from the
repository. ``var`` is ``PLATFORMS_VAR_DIR`` (default ``./var``): every file whose own variable
is not set lives there, so one variable moves them all.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from aggregates.store import EVENTS_FILE, URL_ENV, VAR_DIR_ENV, StoreConfig
from audit.keys import CheckpointKeys
from audit.signing import DEFAULT_KEY_NAME, DEFAULT_ORIGIN, check_origin

MIN_SECRET_CHARS = 32
PREFIX = "PLATFORMS_"
# Fields whose value must be greater than 0, whole or not (ASCII digits: "６０" is refused).
_POSITIVE = ("checkpoint_seconds", "checkpoint_events", "integrity_check_seconds", "deadline_check_seconds",
             "login_account_failures",
             "login_address_failures", "login_window")


class SettingsError(RuntimeError):
    """A configuration the service must not start with."""


class Settings(BaseSettings):
    """What the operator configures (README's table of variables), with the defaults derived
    from ``var_dir``. Build it with :meth:`from_env`; tests pass values (and an ``env``)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, extra="forbid",
                                      env_ignore_empty=True, str_strip_whitespace=True)

    database_url: str = ""  # "": platforms.sqlite3 in var_dir
    mode: Literal["development", "production"] = "development"
    secret_key: str = ""  # "" in development: var_dir/secret.key, see with_secret()
    # The key before the current one, during a rotation: what it signed (tokens, workbench
    # sessions, forms) is still accepted, and anonymous Idempotency-Keys stored under it still
    # replay; nothing new is signed with it. "" = none.
    previous_secret_key: str = ""
    policy_dir: Path | None = None  # development default: var_dir/policies if present
    calendar_file: Path | None = None
    token_minutes: int = 60
    run_projections: bool | None = None  # None: on for SQLite, off for PostgreSQL
    var_dir: Path = Path("var")
    aggregate_cache: int = Field(5000, ge=0)  # aggregates kept between commands (RegistryApp)
    # On PostgreSQL: the connections each process keeps in each of its three pools (the events,
    # the read models, the accounts), and as many again in a burst (api.registry_wiring).
    postgres_pool_size: int = Field(10, ge=1, le=50)
    # The audit keys (audit.keys) and the log's name in its signed notes (audit.signing).
    checkpoint_key: Path | None = None  # None: var_dir/keys/checkpoint-ed25519.pem
    checkpoint_pubkey: Path | None = None  # None: the key's path with .pub
    checkpoint_retired_keys: Path | None = None  # None: the pinned key's path with .retired.json
    log_origin: str = DEFAULT_ORIGIN
    witness_keys: Path | None = None  # None: no cosignature is accepted
    # The integrity watch (audit.watch): None = this process signs checkpoints when it is the
    # one that writes and follows the log (serve on SQLite, `projections run` on PostgreSQL).
    checkpoint_signer: bool | None = None
    checkpoint_seconds: float = 60.0
    checkpoint_events: int = 1000
    integrity_check_seconds: float = 600.0
    # The deadline watch (projections.deadline_watch): None = it runs where the projection runner
    # runs (serve on SQLite, `projections run` on PostgreSQL); False while importing a past
    # programme's archive, whose acts the watch would otherwise interleave with misses recorded
    # today. Seconds between its passes (and one at start-up).
    deadline_watch: bool | None = None
    deadline_check_seconds: float = 300.0
    # Login throttling (api.login_throttle): wrong passwords per account and per client address
    # within the window (seconds), which is also how long a lockout lasts.
    login_account_failures: int = 5
    login_address_failures: int = 20
    login_window: float = 900.0
    # Public objections per client address per window (seconds); 0 turns the limit off.
    objection_rate_limit: int = 5
    objection_rate_window: float = 600.0
    # Proxies whose X-Forwarded-For `platforms serve` believes: addresses or CIDR networks.
    # None by default: a client that is not a named proxy cannot choose the address it is
    # counted (and rate-limited) as.
    trusted_proxies: tuple[str, ...] = ()
    # The address the public reaches the service at (https://kjj.example.gov.cn/registry), the
    # base of the problem ``type`` URIs (api.errors); "" = the request's own base URL.
    public_base_url: str = ""
    # Who may read GET /metrics (api.metrics): client addresses or CIDR networks, as the server
    # decides the client's address (a trusted proxy's X-Forwarded-For, else the peer). Loopback
    # by default: the figures are for the operator's Prometheus, not the public internet.
    metrics_clients: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    # Where the API workers of `platforms serve --workers N` (N > 1) keep their counters for
    # /metrics to sum (prometheus_client's multiprocess mode). None: var_dir/metrics.
    metrics_dir: Path | None = None
    # The logs (api.logging): the least level written, and JSON lines or a console layout.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    # Not operator settings (no variable): limits of the HTTP service.
    @property
    def max_body_bytes(self) -> int:
        return 1_000_000

    @property
    def ready_max_lag(self) -> int:
        return 1000

    @property
    def min_position_timeout(self) -> float:
        return 5.0

    # ------------------------------------------------------------------ reading
    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **values: Any) -> Settings:
        """The settings of ``env`` (default: the process environment); ``values`` win (tests,
        CLI flags). Raises :class:`SettingsError` naming the variable that is wrong."""
        token = _ENVIRON.set(os.environ if env is None else env)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None
        finally:
            _ENVIRON.reset(token)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Values passed in, then the PLATFORMS_* variables: no .env file, no secrets directory.
        return init_settings, _Environment(settings_cls, _ENVIRON.get())

    # ------------------------------------------------------------------ checks
    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        mode = str(value).strip().lower()
        if mode not in {"development", "production"}:
            raise ValueError(f"PLATFORMS_MODE must be 'development' or 'production', not {mode!r}")
        return mode

    @field_validator("token_minutes", mode="before")
    @classmethod
    def _minutes(cls, value: Any) -> Any:
        if isinstance(value, str) and not (value.isascii() and value.lstrip("-").isdigit()):
            raise ValueError("PLATFORMS_TOKEN_MINUTES must be a whole number of minutes")
        return value

    @field_validator(*_POSITIVE, mode="before")
    @classmethod
    def _positive(cls, value: Any, info: Any) -> Any:
        whole = info.field_name in {"checkpoint_events", "login_account_failures", "login_address_failures"}
        try:
            number = (int(value) if whole else float(value)) if not isinstance(value, str) or value.isascii() else 0
        except ValueError:
            number = 0
        if not number > 0:
            kind = "a whole number" if whole else "a number"
            raise ValueError(f"{PREFIX}{info.field_name.upper()} must be {kind} greater than 0, not {value!r}")
        return number

    @field_validator("objection_rate_limit", "objection_rate_window", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        try:
            return float(value) if not isinstance(value, int) else value
        except ValueError:
            raise ValueError("PLATFORMS_OBJECTION_RATE_LIMIT must be a whole number and "
                             "PLATFORMS_OBJECTION_RATE_WINDOW a number of seconds") from None

    @field_validator("objection_rate_limit", mode="after")
    @classmethod
    def _rate_limit(cls, value: int) -> int:
        return max(0, value)  # a negative limit is no limit, as 0 is

    @field_validator("objection_rate_window", mode="after")
    @classmethod
    def _rate_window(cls, value: float) -> float:
        return max(1.0, value)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        return trusted_proxies(value) if isinstance(value, str) else value

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        # An absolute http(s) address without query or fragment: it is the stem of links clients follow.
        if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(f"PLATFORMS_PUBLIC_BASE_URL must be an absolute http(s) URL, not {value!r}")
        return value.rstrip("/")
    @field_validator("metrics_clients", mode="before")
    @classmethod
    def _metrics_clients(cls, value: Any) -> Any:
        return networks(value, f"{PREFIX}METRICS_CLIENTS") if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        level = str(value).strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"PLATFORMS_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {value!r}")
        return level

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: Any) -> Any:
        fmt = str(value).strip().lower()
        if fmt not in {"json", "console"}:
            raise ValueError(f"PLATFORMS_LOG_FORMAT must be 'json' or 'console', not {value!r}")
        return fmt

    @field_validator("log_origin")
    @classmethod
    def _origin(cls, value: str) -> str:
        # Witnesses pin the origin: a name the note format forbids is refused before anything is signed.
        return check_origin(value)

    @model_validator(mode="after")
    def _secret(self) -> Settings:
        if not self.secret_key and self.is_production:
            raise ValueError("PLATFORMS_SECRET_KEY is required in production mode "
                             "(at least 32 random characters); refusing to start")
        if self.secret_key and len(self.secret_key) < MIN_SECRET_CHARS:
            # Development too: a short key signs tokens anyone can forge offline, and a
            # development store on a shared machine holds real-looking personal data.
            raise ValueError(f"PLATFORMS_SECRET_KEY must be at least {MIN_SECRET_CHARS} characters "
                             f"({self.mode} mode); refusing to start")
        if self.previous_secret_key and len(self.previous_secret_key) < MIN_SECRET_CHARS:
            raise ValueError(f"PLATFORMS_PREVIOUS_SECRET_KEY must be at least {MIN_SECRET_CHARS} characters "
                             "(the key it replaces was); refusing to start")
        if self.previous_secret_key and self.previous_secret_key == self.secret_key:
            raise ValueError("PLATFORMS_PREVIOUS_SECRET_KEY is the same as PLATFORMS_SECRET_KEY: set the new key "
                             "in PLATFORMS_SECRET_KEY and the old one in PLATFORMS_PREVIOUS_SECRET_KEY")
        return self

    # ------------------------------------------------------------------ derived
    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    @property
    def store(self) -> StoreConfig:
        """The event store, named in messages by the variable that chose it."""
        if self.database_url:
            return StoreConfig(self.database_url, f"{URL_ENV}={StoreConfig(self.database_url).masked}")
        url = f"sqlite:///{self.var_dir / EVENTS_FILE}"
        if "var_dir" in self.model_fields_set:
            return StoreConfig(url, f"{URL_ENV} not set: the default in {VAR_DIR_ENV}={self.var_dir}")
        return StoreConfig(url, f"{URL_ENV} and {VAR_DIR_ENV} not set: the default in ./{self.var_dir}")

    @property
    def is_sqlite(self) -> bool:
        return self.store.is_sqlite

    @property
    def runs_projections(self) -> bool:
        """Whether the API process runs the read-model runner: SQLite has no subscriptions and one
        writer, so its one API process does; on PostgreSQL `platforms projections run` is a
        process of its own."""
        if self.run_projections is not None:
            return self.run_projections
        return self.store.url.startswith(("sqlite", "memory"))

    @property
    def extra_policy_dir(self) -> Path | None:
        """The directory of extra policy versions: ``policy_dir``, or in development
        ``var_dir/policies`` where `platforms demo` puts its demonstration policy if it is there.
        Production loads only what the operator names."""
        if self.policy_dir is not None or self.is_production:
            return self.policy_dir
        candidate = self.var_dir / "policies"
        return candidate if candidate.is_dir() else None

    @property
    def metrics_directory(self) -> Path:
        """Where several API workers keep their counters (``PLATFORMS_METRICS_DIR``, default
        ``var_dir/metrics``)."""
        return self.metrics_dir or self.var_dir / "metrics"

    @property
    def checkpoint_keys(self) -> CheckpointKeys:
        private = self.checkpoint_key or self.var_dir / DEFAULT_KEY_NAME
        return CheckpointKeys(private, self.checkpoint_pubkey or private.with_suffix(".pub"), self.log_origin,
                              self.checkpoint_retired_keys)

    def with_secret(self) -> Settings:
        """These settings with the token signing key: the configured one, or in development the
        one kept in ``var_dir/secret.key`` (made, 0600, on first use)."""
        if self.secret_key:
            return self
        return self.model_copy(update={"secret_key": _development_secret(self.var_dir / "secret.key")})


# The environment Settings are read from: the process's, or the one a caller of from_env passed.
_ENVIRON: ContextVar[Mapping[str, str]] = ContextVar("platforms_environ", default=os.environ)


class _Environment(EnvSettingsSource):
    """pydantic-settings' reading of ``PLATFORMS_*`` variables, from a given mapping (the process
    environment, or a test's dictionary)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)

    def prepare_field_value(self, field_name: str, field: Any, value: Any, value_is_complex: bool) -> Any:
        # A comma-separated list (PLATFORMS_TRUSTED_PROXIES, PLATFORMS_METRICS_CLIENTS) is parsed
        # by its validator, not as JSON.
        if field_name in {"trusted_proxies", "metrics_clients"}:
            return value
        return super().prepare_field_value(field_name, field, value, value_is_complex)


def _explain(exc: ValidationError) -> str:
    """The first problem of ``exc`` as one line naming the variable."""
    error = exc.errors(include_url=False)[0]
    if error["type"] == "value_error":
        message = str(error["ctx"]["error"])
        if message.startswith(PREFIX):
            return message
    name = f"{PREFIX}{str(error['loc'][0]).upper()}" if error["loc"] else "settings"
    if error["type"] == "extra_forbidden":
        return f"{name[len(PREFIX):].lower()} is not a setting"
    return f"{name}: {error['msg']}, not {error['input']!r}"


def trusted_proxies(raw: str) -> tuple[str, ...]:
    """A comma-separated list of proxy addresses or CIDR networks, each checked (``*`` and host
    names are refused: trusting every peer is what this setting exists to prevent)."""
    return networks(raw, "PLATFORMS_TRUSTED_PROXIES")


def networks(raw: str, variable: str) -> tuple[str, ...]:
    """A comma-separated list of addresses or CIDR networks (``variable`` names it in the
    refusal of an item that is neither)."""
    found = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(f"{variable}: {item!r} is not an IP address or CIDR network") from None
    return tuple(found)


# prometheus_client's own variable: its multiprocess mode is chosen when it is imported, by
# whether this names a directory, so the workers `platforms serve` starts find it in their
# environment (api.metrics).
PROMETHEUS_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def share_metrics_dir(path: Path) -> None:
    """Have the worker processes started from now on keep their counters in ``path``."""
    os.environ[PROMETHEUS_MULTIPROC_ENV] = str(path)


def shared_metrics_dir() -> Path | None:
    """The directory this process's counters are kept in beside other workers', or None when
    they are this process's alone."""
    value = os.environ.get(PROMETHEUS_MULTIPROC_ENV)
    return Path(value) if value else None


def name_postgres_sessions(name: str) -> None:
    """Name this process's PostgreSQL sessions ``name`` in ``pg_stat_activity`` (libpq reads
    ``PGAPPNAME``), unless the operator named them already."""
    os.environ.setdefault("PGAPPNAME", name)


def malloc_tuning(defaults: dict[str, int]) -> dict[str, int | None]:
    """glibc's allocator settings for this process and those it starts (:mod:`api.allocator`):
    each variable of ``defaults`` as the operator set it, else its default, which is put in the
    environment for the child processes (glibc reads it as they start). None for a value that
    is not a whole number (glibc ignores it too)."""
    chosen = {name: os.environ.setdefault(name, str(value)) for name, value in defaults.items()}
    return {name: int(v) if v.isascii() and v.isdigit() else None for name, v in chosen.items()}


def _development_secret(path: Path) -> str:
    """The development signing key kept in ``path`` (created 0600 on first use)."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker created it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key
