"""Run-time settings, read once from the environment (docs/API.md, "Running it").

``PLATFORMS_MODE`` is ``development`` (default) or ``production``. Production refuses to start
without ``PLATFORMS_SECRET_KEY``: a guessable or per-process key would let anyone mint tokens or
log everybody out on each restart. A key given in either mode must be at least 32 characters.
Development keeps a random key in ``var/secret.key`` (mode 0600) so tokens survive restarts and
nothing secret comes from the repository. ``var`` is
``PLATFORMS_VAR_DIR`` (:func:`aggregates.store.var_dir`), which also moves the default store.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aggregates.store import URL_ENV, default_url, var_dir

MIN_SECRET_CHARS = 32


class SettingsError(RuntimeError):
    """A configuration the service must not start with."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str
    mode: str
    secret_key: str
    policy_dir: Path | None
    calendar_file: Path | None
    token_minutes: int
    run_projections: bool
    var_dir: Path
    max_body_bytes: int = 1_000_000
    ready_max_lag: int = 1000
    min_position_timeout: float = 5.0
    # The integrity watch (audit.watch): None = this process signs checkpoints when it is the
    # one that writes and follows the log (serve on SQLite, `projections run` on PostgreSQL).
    checkpoint_signer: bool | None = None
    checkpoint_seconds: float = 60.0
    checkpoint_events: int = 1000
    integrity_check_seconds: float = 600.0
    # Login throttling (api.login_throttle): wrong passwords per account and per client address
    # within the window (seconds), which is also how long a lockout lasts.
    login_account_failures: int = 5
    login_address_failures: int = 20
    login_window: float = 900.0
    # Proxies whose X-Forwarded-For `platforms serve` believes: addresses or CIDR networks.
    # None by default: a client that is not a named proxy cannot choose the address it is
    # counted (and rate-limited) as.
    trusted_proxies: tuple[str, ...] = ()

    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``env`` (default ``os.environ``); ``overrides`` win (tests, CLI flags)."""
        env = dict(os.environ if env is None else env)
        mode = (env.get("PLATFORMS_MODE") or "development").strip().lower()
        if mode not in {"development", "production"}:
            raise SettingsError(f"PLATFORMS_MODE must be 'development' or 'production', not {mode!r}")
        var = Path(str(overrides.pop("var_dir", None) or var_dir(env)))
        url = str(overrides.pop("database_url", None) or env.get(URL_ENV, "").strip() or default_url(var))

        secret = str(overrides.pop("secret_key", None) or env.get("PLATFORMS_SECRET_KEY") or "")
        if not secret:
            if mode == "production":
                raise SettingsError("PLATFORMS_SECRET_KEY is required in production mode "
                                    "(at least 32 random characters); refusing to start")
            secret = _development_secret(var / "secret.key")
        elif len(secret) < MIN_SECRET_CHARS:
            # Development too: a short key signs tokens anyone can forge offline, and a
            # development store on a shared machine holds real-looking personal data.
            raise SettingsError(f"PLATFORMS_SECRET_KEY must be at least {MIN_SECRET_CHARS} characters "
                                f"({mode} mode); refusing to start")

        policy_raw = env.get("PLATFORMS_POLICY_DIR", "").strip()
        policy_dir: Path | None = Path(policy_raw) if policy_raw else None
        if policy_dir is None and mode == "development":
            # Development default: var/policies, where `platforms demo` puts its demonstration
            # policy. Production loads only what the operator names.
            candidate = var / "policies"
            policy_dir = candidate if candidate.is_dir() else None
        calendar_raw = env.get("PLATFORMS_CALENDAR_FILE", "").strip()
        try:
            token_minutes = int(env.get("PLATFORMS_TOKEN_MINUTES") or 60)
        except ValueError:
            raise SettingsError("PLATFORMS_TOKEN_MINUTES must be a whole number of minutes") from None
        # SQLite has no subscriptions and one writer: the one API process runs the read-model
        # runner itself. On PostgreSQL `platforms projections run` is a process of its own.
        run_projections = _flag(env.get("PLATFORMS_RUN_PROJECTIONS"), default=url.startswith(("sqlite", "memory")))
        signer_raw = env.get("PLATFORMS_CHECKPOINT_SIGNER", "").strip()
        values: dict[str, Any] = dict(
            database_url=url, mode=mode, secret_key=secret, policy_dir=policy_dir,
            calendar_file=Path(calendar_raw) if calendar_raw else None, token_minutes=token_minutes,
            run_projections=run_projections, var_dir=var,
            checkpoint_signer=_flag(signer_raw, False) if signer_raw else None,
            checkpoint_seconds=_positive(env, "PLATFORMS_CHECKPOINT_SECONDS", 60.0),
            checkpoint_events=int(_positive(env, "PLATFORMS_CHECKPOINT_EVENTS", 1000, whole=True)),
            integrity_check_seconds=_positive(env, "PLATFORMS_INTEGRITY_CHECK_SECONDS", 600.0),
            login_account_failures=int(_positive(env, "PLATFORMS_LOGIN_ACCOUNT_FAILURES", 5, whole=True)),
            login_address_failures=int(_positive(env, "PLATFORMS_LOGIN_ADDRESS_FAILURES", 20, whole=True)),
            login_window=_positive(env, "PLATFORMS_LOGIN_WINDOW", 900.0),
            trusted_proxies=trusted_proxies(env.get("PLATFORMS_TRUSTED_PROXIES", "")),
        )
        values.update(overrides)
        return cls(**values)


def trusted_proxies(raw: str) -> tuple[str, ...]:
    """A comma-separated list of proxy addresses or CIDR networks, each checked (``*`` and host
    names are refused: trusting every peer is what this setting exists to prevent)."""
    proxies = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            proxies.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(f"PLATFORMS_TRUSTED_PROXIES: {item!r} is not an IP address or CIDR network") from None
    return tuple(proxies)


def _positive(env: dict[str, str], name: str, default: float, whole: bool = False) -> float:
    """A positive number from ``env[name]`` (ASCII digits), else ``default``."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = 0
    if not raw.isascii() or not value > 0:
        kind = "a whole number" if whole else "a number"
        raise SettingsError(f"{name} must be {kind} greater than 0, not {raw!r}")
    return value


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
