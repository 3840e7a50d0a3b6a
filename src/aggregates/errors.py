"""Refusals: the one way the domain says "no".

A :class:`RuleViolation` is raised when a rule of the regulation (or the current state of a
platform) refuses a command. It carries a stable machine ``code``, a clear human ``message``,
the ``article`` that makes the rule (e.g. ``"Art. 9(1)"``) and the ``policy`` (文号) under which
it was applied. Refusals carry no HTTP status: the API maps each class to one
(:data:`api.errors.STATUS_OF`), the command line to an exit code.

The ``message`` is English; ``params`` are the values it was written from (a date, a status), so
that the catalogue of problem codes (:mod:`api.problem_catalogue`) can say the same in Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base class of every refusal the domain raises on purpose."""

    def __init__(self, code: str, message: str, *, params: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params: dict[str, object] = dict(params or {})

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.message}


class RuleViolation(DomainError):
    """A command refused by a rule of the regulation or by the platform's current stage."""

    def __init__(
        self,
        code: str,
        message: str,
        article: str | None = None,
        policy: str | None = None,
        *,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, params=params)
        self.article = article
        self.policy = policy

    def as_dict(self) -> dict[str, str]:
        data = super().as_dict()
        if self.article:
            data["article"] = self.article
        if self.policy:
            data["policy"] = self.policy
        return data

    def __repr__(self) -> str:
        return f"RuleViolation({self.code!r}, {self.message!r}, {self.article!r}, {self.policy!r})"


class InvalidInput(DomainError):
    """Input that is well-formed JSON but not an acceptable value (bad credit code, unknown
    subfield, impossible date), naming ``field``."""

    def __init__(self, code: str, message: str, field: str | None = None, *,
                 params: Mapping[str, object] | None = None) -> None:
        super().__init__(code, message, params=params)
        self.field = field

    def as_dict(self) -> dict[str, str]:
        data = super().as_dict()
        if self.field:
            data["field"] = self.field
        return data


class NotFound(DomainError):
    """An unknown platform, batch, objection or change id."""


class ConcurrentModification(DomainError):
    """Another writer saved the same platform first, and went on doing so until the retries'
    deadline. Retryable: reload and try again."""

    def __init__(self, message: str = "the platform was changed by another request; reload and retry") -> None:
        super().__init__("concurrent_modification", message)


class CalendarNotLoaded(RuleViolation):
    """No official working-day schedule is loaded for a year whose working days a rule needs
    now. Never guessed from weekends (docs/DOMAIN.md, time rules)."""

    def __init__(self, year: int) -> None:
        super().__init__(
            "calendar_not_loaded",
            f"the official working-day schedule for {year} is not loaded; load the State Council "
            f"holiday notice for {year} with PLATFORMS_CALENDAR_FILE",
            article="Art. 8(6)",
            params={"year": year},
        )
        self.year = year


class StaleVersion(DomainError):
    """The version the client saw (``If-Match``) is not the platform's current version."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            "stale_version",
            f"the platform is at version {actual}, not {expected}; reload and retry",
            params={"actual": actual, "expected": expected},
        )
        self.expected = expected
        self.actual = actual


class IdempotencyKeyReused(DomainError):
    """The same ``Idempotency-Key`` was sent with a different request."""

    def __init__(self) -> None:
        super().__init__(
            "idempotency_key_reused",
            "this Idempotency-Key was already used for a different request",
        )
