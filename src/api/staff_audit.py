"""The audit page of the staff workbench (审计): the latest signed checkpoints and the witnesses
who cosigned them (as ``GET /audit/checkpoints`` publishes them, :mod:`audit.published`), a
verification of the whole log on demand, and an inclusion proof for any event by its position
(``GET /audit/proofs/inclusion``, :mod:`audit.proofs`).

"Verify now" runs the verification of ``platforms audit verify`` (:func:`audit.verify.verify_log`
under the pinned key), through the integrity watch where the process has one (so a long log is
verified in the watch's worker process, not in the serving one). It runs in the route's worker
thread, never on the event loop, and one at a time per process: a verification reads the whole
log, and a second click while one runs is told so instead of starting another.
"""

from __future__ import annotations

import threading
from typing import Any

from aggregates.errors import NotFound
from aggregates.values import Role
from audit import proofs
from audit.checkpoint_store import latest_checkpoint
from audit.merkle import verify_inclusion
from audit.published import recent_views
from audit.verify import VerifyReport, verify_log
from audit.watch import IN_PROCESS_BATCH

from .bootstrap import Container

AUDIT_READERS = frozenset({Role.AUDITOR, Role.BUREAU})
RECENT_CHECKPOINTS = 10


class VerificationRunning(Exception):
    """Another verification is running in this process."""


class OneAtATime:
    """Runs the verification, refusing a second while one runs (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def run(self, c: Container) -> VerifyReport:
        if not self._lock.acquire(blocking=False):
            raise VerificationRunning()
        try:
            if c.watch is not None:
                report: VerifyReport = c.watch.verify_now()
                return report
            keys = c.settings.checkpoint_keys
            return verify_log(c.app, public_key_pem=keys.pinned_public_key(), retired_keys=keys.retired_keys(),
                              batch=IN_PROCESS_BATCH)
        finally:
            self._lock.release()


VERIFICATIONS = OneAtATime()  # one per process


def checkpoints(c: Container) -> list[dict[str, Any]]:
    """The latest checkpoints as published, newest first, each with its cosignatures."""
    return recent_views(c.app, RECENT_CHECKPOINTS)


def inclusion(c: Container, position: int) -> dict[str, Any]:
    """The inclusion proof of the event at ``position`` (``NotFound`` when there is none), in
    the tree of the latest checkpoint when it covers the event (so its root is the one signed),
    else of the whole log; with ``verified``: the proof checked here, as an auditor's tool would
    (:func:`audit.merkle.verify_inclusion`); ``checkpoint_size`` when it is the signed tree, and
    ``checkpoint_root_differs`` when the log's first ``size`` events no longer give the root the
    latest checkpoint signed (the log was altered: "verify now" says where)."""
    latest = latest_checkpoint(c.app)
    proof = None
    if latest is not None:
        try:
            proof = proofs.inclusion(c.app, position, latest.size)
        except NotFound:  # written after the latest checkpoint: the whole log's tree
            pass
    if proof is None:
        proof = proofs.inclusion(c.app, position)
    verified = verify_inclusion(bytes.fromhex(proof["leaf_hash"]), proof["index"], proof["size"],
                                [bytes.fromhex(h) for h in proof["proof"]], bytes.fromhex(proof["root"]))
    same_tree = latest is not None and latest.size == proof["size"]
    signed = same_tree and latest is not None and latest.root_hex == proof["root"]
    return {**proof, "verified": verified, "checkpoint_size": proof["size"] if signed else None,
            "checkpoint_root_differs": same_tree and not signed}


__all__ = ["AUDIT_READERS", "VERIFICATIONS", "VerificationRunning", "checkpoints", "inclusion"]
