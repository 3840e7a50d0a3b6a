"""The register of archive imports (档案导入登记): which past programmes were loaded from their
paper archives, by whom, and whether each load finished.

An archive (``platforms import``, ``POST /imports``) is identified by the SHA-256 of its file.
Its import is started (``ImportStarted``: the archive's hash, the importing clerk, its lines)
before its first act is recorded and completed (``ImportCompleted``: the platforms and batches
it created under the archive's own keys, the count of acts) after its last. So the log shows
auditors which history was keyed in from an archive and by whom, beside the acts themselves
(each carries its actor, and the importing clerk as ``recorded_by`` where it records an
applicant's, an expert's or the public's paper act). An import started and not completed was
interrupted: re-running the same file resumes it; while one is open, the deadline watch records
no miss (a miss dated today would fall between its back-dated acts, docs/DOMAIN.md). One that
cannot be resumed is abandoned (``ImportAbandoned``, with the reasons): what it recorded stands.

One register for the whole registry, with a deterministic id: two imports starting at once
race on its version, and the loser is decided again on the saved state.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from .errors import InvalidInput, RuleViolation
from .recorded import RecordedAggregate
from .values import Act

T = "platform-registry/ArchiveImports"

REGISTER_ID = uuid5(NAMESPACE_URL, "platform-registry:archive-imports")


class ArchiveImports(RecordedAggregate):
    """Every archive import, by the archive's SHA-256, in the order they were started."""

    TOPIC = T
    monotonic_business_dates = False  # each import is dated on its own day; nothing orders them

    class Event(RecordedAggregate.Event):
        TOPIC = f"{T}/Event"

    @staticmethod
    def create_id() -> UUID:
        return REGISTER_ID

    @classmethod
    def open(cls, act: Act) -> ArchiveImports:
        return cls._create_recorded(cls.Opened, act=act)  # type: ignore[attr-defined]  # the event class @event makes

    @event("Opened", topic=f"{T}/Opened")
    def __init__(self, act: Act) -> None:
        self.imports: dict[str, dict[str, Any]] = {}

    @property
    def running(self) -> list[str]:
        """The archives (hashes) whose import was started and neither completed nor abandoned."""
        return [sha for sha, record in self.imports.items()
                if record["completed_on"] is None and record.get("abandoned_on") is None]

    def start(self, archive_sha256: str, lines: int, act: Act) -> None:
        """Start importing an archive. Refused when that archive was imported already; an
        interrupted import of it is resumed, not started again (nothing recorded)."""
        record = self.imports.get(archive_sha256)
        if record is not None and record["completed_on"] is not None:
            raise RuleViolation("archive_already_imported",
                                f"the archive {archive_sha256[:12]}… was imported on {record['completed_on']}",
                                params={"completed_on": record["completed_on"]})
        if record is not None and record.get("abandoned_on") is not None:
            raise RuleViolation("archive_import_abandoned",
                                f"the import of the archive {archive_sha256[:12]}… was abandoned on "
                                f"{record['abandoned_on']}; its recorded acts stand")
        if record is None:
            self._started(archive_sha256=archive_sha256, lines=lines, clerk=act.actor_id, act=act)

    @event("ImportStarted", topic=f"{T}/ImportStarted")
    def _started(self, archive_sha256: str, lines: int, clerk: str, act: Act) -> None:
        self.imports[archive_sha256] = {"archive_sha256": archive_sha256, "lines": lines, "clerk": clerk,
                                        "role": act.role.value, "started_on": act.business_date,
                                        "completed_on": None}

    def complete(self, archive_sha256: str, platforms: dict[str, str], batches: dict[str, str], acts: int,
                 act: Act) -> None:
        """Complete an import: the platforms (archive key → id) and batches (reference → id) it
        created, and how many acts it recorded in all."""
        self._check_running(archive_sha256)
        self._completed(archive_sha256=archive_sha256, platforms=dict(platforms), batches=dict(batches),
                        acts=acts, act=act)

    @event("ImportCompleted", topic=f"{T}/ImportCompleted")
    def _completed(self, archive_sha256: str, platforms: dict[str, str], batches: dict[str, str], acts: int,
                   act: Act) -> None:
        self.imports[archive_sha256] = {**self.imports[archive_sha256], "completed_on": act.business_date,
                                        "platforms": platforms, "batches": batches, "acts": acts}

    def abandon(self, archive_sha256: str, reasons: str, act: Act) -> None:
        """Give up an interrupted import that cannot be resumed (the store holds what its
        remaining acts conflict with): the acts it recorded stand, as every event does, and the
        deadline watch no longer waits for it."""
        self._check_running(archive_sha256)
        if not reasons.strip():
            raise InvalidInput("reasons_required", "say why the import is abandoned", "reasons")
        self._abandoned(archive_sha256=archive_sha256, reasons=reasons.strip(), act=act)

    @event("ImportAbandoned", topic=f"{T}/ImportAbandoned")
    def _abandoned(self, archive_sha256: str, reasons: str, act: Act) -> None:
        self.imports[archive_sha256] = {**self.imports[archive_sha256], "abandoned_on": act.business_date,
                                        "abandoned_by": act.actor_id, "abandon_reasons": reasons}

    def _check_running(self, archive_sha256: str) -> None:
        if archive_sha256 not in self.running:
            raise RuleViolation("archive_import_not_running",
                                f"no import of the archive {archive_sha256[:12]}… is running")


__all__ = ["ArchiveImports"]
