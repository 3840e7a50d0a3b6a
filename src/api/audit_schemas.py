"""Response bodies of the audit routes (审计, :mod:`api.routes_audit`) as pydantic models: the
schemas the OpenAPI document shows and generated clients are typed with.

The routes send the bodies the audit modules build as they are (``JSONResponse``): a checkpoint
is published byte for byte as it was signed and stored, and a page of the log is not validated
a second time on its way out. So these models document the bodies without shaping them;
tests/test_audit_response_models.py proves, route by route, that each accepts exactly what is
sent. Fixed-length hex and base64 values carry their pattern (a row altered in the checkpoint
table behind the registry's back is still published as stored, and the verifier reports it);
instants are ISO 8601 strings with an offset (format ``date-time``), kept as sent. The read
models at a past log position reuse the live publicity list's and ledger's models.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from .schemas import Ledger, ListEnvelope, Open, PublicityPage

__all__ = [
    "AuditLogPage", "CheckpointPage", "ConsistencyProof", "InclusionProof", "LedgerAt", "LogEntry",
    "PublicityListAt", "PublishedCheckpoint", "SignedCheckpointOut", "StoredCosignatureOut",
    "UndecodableLogEntry", "VerifyFailure", "VerifyReportOut", "VersionDiff",
]


def _instant(value: str) -> str:
    """``value`` unchanged if it is an ISO 8601 instant with an offset (what the registry writes)."""
    if datetime.fromisoformat(value).utcoffset() is None:
        raise ValueError("an instant needs its offset, e.g. +00:00")
    return value


_DATE_TIME = Field(json_schema_extra={"format": "date-time"})
Instant = Annotated[str, AfterValidator(_instant), _DATE_TIME]
# Signing and receiving times are UTC to the whole second: part of what is signed, so fixed.
SecondUtc = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$"),
                      AfterValidator(_instant), _DATE_TIME]
Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
LogKeyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
WitnessKeyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}$")]
# base64 with padding of the 64-byte Ed25519 signature; of key ID (4) || time (8) || signature (64).
CheckpointSignature = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{86}==$")]
CosignatureValue = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{102}==$")]
Count = Annotated[int, Field(ge=0)]
Position = Annotated[int, Field(ge=1)]
NextAfter = Annotated[int | None, Field(description="下一页起点 the `after` of the next page; null on the last")]


# ---------------------------------------------------------------------------- checkpoints 检查点
class SignedCheckpointOut(Open):
    """A signed checkpoint (已签名检查点) in the registry's v1 form (docs/AUDIT.md, "Signed message")."""

    size: Count = Field(description="树大小 tree size: the events covered, log positions 1..size")
    root: Hash = Field(description="默克尔根 Merkle root (RFC 9162) of those events, 64 lowercase hex digits")
    signed_at: SecondUtc = Field(description="签名时间 signing instant, UTC to the second, as signed")
    key_id: LogKeyId = Field(description="密钥标识 key ID: the first 8 bytes of SHA-256 over the raw public key, "
                                         "hex (not signed)")
    signature: CheckpointSignature = Field(description="签名 Ed25519 signature of the v1 message, base64")


class CosignatureOut(Open):
    """A witness's cosignature (见证人联署, c2sp.org/tlog-cosignature) of a checkpoint's tree head."""

    witness: str = Field(description="见证人 the operator's name for the witness (PLATFORMS_WITNESS_KEYS)")
    key_name: str = Field(description="密钥名 the witness key's name, as in its signature line")
    key_id: WitnessKeyId = Field(description="密钥标识 the witness key's 32-bit ID, 8 hex digits")
    timestamp: Count = Field(description="联署时间 POSIX seconds, as the witness signed them")
    cosigned_at: SecondUtc = Field(description="联署时间 the same instant in ISO 8601, UTC")
    signature: CosignatureValue = Field(description="签名 the signature line's base64: key ID, time and "
                                                    "Ed25519 signature")
    line: str = Field(description="签名行 the whole signature line, `— <key name> <base64>`, without its newline")
    received_at: SecondUtc = Field(description="接收时间 when the registry accepted it, UTC to the second")


class PublishedCheckpoint(SignedCheckpointOut):
    """A checkpoint as published (公开的检查点): ``GET /audit/checkpoint`` and each item of
    ``GET /audit/checkpoints``."""

    id: Position = Field(description="编号 the checkpoint's number, in the order of signing")
    origin: str | None = Field(description="日志来源 the log's origin line (PLATFORMS_LOG_ORIGIN); null for a "
                                           "checkpoint signed before signed notes")
    note: str | None = Field(description="签名注记 the C2SP signed note with every cosignature line (also served "
                                         "as text/plain); null for a checkpoint signed before notes")
    cosignatures: list[CosignatureOut] = Field(description="联署 the witnesses' cosignatures, oldest first")


class CheckpointPage(ListEnvelope):
    """A page of every checkpoint ever signed (检查点列表), oldest first; ``next_after`` (kept for
    clients of ``?after=``) is the ``after`` of the next page, as ``next_cursor`` is its ``cursor``."""

    items: list[PublishedCheckpoint] = Field(description="检查点 checkpoints with `id > after`")
    next_after: NextAfter


class StoredCosignatureOut(CosignatureOut):
    """The cosignature the registry keeps (已保存的联署), with the tree head it signs."""

    origin: str = Field(description="日志来源 the tree head's origin")
    size: Count = Field(description="树大小 the tree head's size")
    root: Hash = Field(description="默克尔根 the tree head's root, hex")


# ---------------------------------------------------------------------------- verification 校验
class VerifyFailure(Open):
    """One finding of the verifier (校验发现): where and why (docs/AUDIT.md lists the codes)."""

    code: str = Field(description="代码 a stable code, e.g. `chain_broken`, `checkpoint_mismatch`, `log_truncated`")
    reason: str = Field(description="原因 what was found, in words")
    position: int | None = Field(description="位置 the log position the finding is about; null when none")
    platform_id: str | None = Field(description="平台 the stream's id (UUID text, or the raw stored id when it "
                                                "is not one); null when no stream")
    version: int | None = Field(description="版本 the stream version concerned; null when none")
    detected_at: int | None = Field(description="发现位置 the log position whose check revealed it")


class VerifyReportOut(Open):
    """The verifier's report (日志校验报告): every hash recomputed from the stored bytes."""

    ok: bool = Field(description="完好 true when nothing was found")
    events_checked: Count = Field(description="已校验事件 events read")
    first_failure: VerifyFailure | None = Field(description="首个发现 the first finding in log order; null if ok")
    failures: list[VerifyFailure] = Field(description="发现 the findings in log order, the first 100")
    failure_count: Count = Field(description="发现总数 every finding, also those beyond the first 100")
    mode: Literal["full", "deep"] = Field(description="方式 `full` (bytes and hashes) or `deep` (also decoded)")
    size: Count = Field(description="树大小 events in the log")
    root: Hash = Field(description="默克尔根 Merkle root over every stored event, hex")
    streams: Count = Field(description="事件流 streams (platforms and other aggregates) seen")
    checkpoints_checked: Count = Field(description="已核检查点 stored checkpoints checked")
    latest_checkpoint: SignedCheckpointOut | None = Field(
        description="最新检查点 the latest checkpoint with a valid signature; null when none")
    unattested_events: Count = Field(description="未签事件 events after the latest valid checkpoint")


# ---------------------------------------------------------------------------- proofs 证明
class InclusionProof(Open):
    """Merkle inclusion proof (包含证明, RFC 9162) of one event in a tree of the log."""

    position: Position = Field(description="位置 the event's log position")
    index: Count = Field(description="叶序号 its leaf index (0-based) in the tree")
    size: Count = Field(description="树大小 the tree's size")
    leaf_hash: Hash = Field(description="叶哈希 the event's leaf hash, hex")
    root: Hash = Field(description="默克尔根 the tree's root, hex")
    proof: list[Hash] = Field(description="证明路径 the audit path, hex, leaf to root")


class ConsistencyProof(Open):
    """Merkle consistency proof (一致性证明, RFC 9162): the larger tree extends the smaller."""

    old_size: Count = Field(description="旧树大小 the smaller tree's size")
    new_size: Count = Field(description="新树大小 the larger tree's size")
    old_root: Hash = Field(description="旧根 the smaller tree's root, hex")
    new_root: Hash = Field(description="新根 the larger tree's root, hex")
    proof: list[Hash] = Field(description="证明路径 the consistency proof, hex")


# ---------------------------------------------------------------------------- the log 日志
class RecordedBy(Open):
    """The clerk (代为录入人) who keyed in someone else's paper act."""

    actor_id: str = Field(description="账号 the clerk's account")
    role: str = Field(description="角色 the clerk's role")


class LogRow(Open):
    """What every entry of the log shows of its stored row, decodable or not."""

    position: Position = Field(description="位置 the log position")
    platform_id: str = Field(description="事件流 the stream's id (a platform's, or another aggregate's)")
    aggregate: str | None = Field(description="聚合 the aggregate's class, from the topic")
    sequence: int = Field(description="版本 the event's version in its stream")
    type: str | None = Field(description="事件类型 the event's class, from the topic")
    topic: str = Field(description="主题 the stored topic")
    hash: Hash = Field(description="哈希 the chain hash recomputed from the stored bytes, hex")
    prev_hash: Hash | None = Field(description="前一哈希 the prev_hash the stored bytes record; null when "
                                               "unreadable")
    leaf_hash: Hash = Field(description="叶哈希 the Merkle leaf hash (the chain hash), hex")


class LogEntry(LogRow):
    """One event of the global log (日志条目), decoded."""

    recorded_at: Instant | None = Field(description="记录时间 when it was recorded (the event's timestamp)")
    business_date: date | None = Field(description="业务日期 the act's business date (Asia/Shanghai)")
    actor: str | None = Field(description="行为人 who acted")
    role: str | None = Field(description="角色 the actor's role")
    recorded_by: RecordedBy | None = Field(description="录入人 the clerk who recorded it on the actor's "
                                                       "behalf; null when the actor did")
    document_refs: list[str] = Field(description="文号 the documents backing the act")
    data: dict[str, Any] = Field(description="数据 the event's own fields, typed values in their stored text form")


class UndecodableLogEntry(LogRow):
    """A stored row that cannot be decoded (无法解码的条目): listed all the same, never hidden."""

    error: str = Field(description="错误 why it cannot be decoded")


class AuditLogPage(ListEnvelope):
    """A page of the global event log (全局事件日志), in log order; ``next_after`` (kept for
    clients of ``?after=``) is the last position of this page when there may be more."""

    items: list[LogEntry | UndecodableLogEntry] = Field(description="条目 entries with `position > after`")
    next_after: NextAfter


# ---------------------------------------------------------------------------- time travel 回溯
class ValueChange(Open):
    """One summary field (字段变化) before and after."""

    before: Any = Field(alias="from", description="原值 its value at `from_version` (null when absent)")
    after: Any = Field(alias="to", description="新值 its value at `to_version` (null when absent)")


class VersionDiff(Open):
    """What changed (版本差异) in a platform's summary between two versions."""

    platform_id: UUID = Field(description="平台 the platform's id")
    from_version: Position = Field(description="起始版本 the earlier version")
    to_version: Position = Field(description="目标版本 the later version")
    changes: dict[str, ValueChange] = Field(description="变化 the summary fields that differ, by name "
                                                        "(as `GET /platforms/{id}` names them)")


class PublicityListAt(PublicityPage):
    """The publicity list (公示名单) as it stood at a log position: the first 200 batches, newest first."""

    position: Count = Field(description="日志位置 the log position it was rebuilt up to")


class LedgerAt(Ledger):
    """The funding ledger (资金台账) as it stood at a log position."""

    position: Count = Field(description="日志位置 the log position it was rebuilt up to")
