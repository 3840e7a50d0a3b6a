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

The examples are one real run's bodies (:mod:`api.schema_examples`), so a checkpoint, its
cosignature, the proofs and the log entry they prove agree with each other.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from . import schema_examples as ex
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

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.SIGNED_CHECKPOINT))

    size: Count = Field(description="树大小 tree size: the events covered, log positions 1..size", examples=[260])
    root: Hash = Field(description="默克尔根 Merkle root (RFC 9162) of those events, 64 lowercase hex digits",
                       examples=[ex.ROOT])
    signed_at: SecondUtc = Field(description="签名时间 signing instant, UTC to the second, as signed",
                                 examples=[ex.SIGNED_AT])
    key_id: LogKeyId = Field(description="密钥标识 key ID: the first 8 bytes of SHA-256 over the raw public key, "
                                         "hex (not signed)", examples=[ex.LOG_KEY_ID])
    signature: CheckpointSignature = Field(description="签名 Ed25519 signature of the v1 message, base64",
                                           examples=[ex.CHECKPOINT_SIGNATURE])


class CosignatureOut(Open):
    """A witness's cosignature (见证人联署, c2sp.org/tlog-cosignature) of a checkpoint's tree head."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.COSIGNATURE_OUT))

    witness: str = Field(description="见证人 the operator's name for the witness (PLATFORMS_WITNESS_KEYS)",
                         examples=[ex.COSIGNATURE_OUT["witness"]])
    key_name: str = Field(description="密钥名 the witness key's name, as in its signature line",
                          examples=[ex.WITNESS_KEY_NAME])
    key_id: WitnessKeyId = Field(description="密钥标识 the witness key's 32-bit ID, 8 hex digits",
                                 examples=[ex.COSIGNATURE_OUT["key_id"]])
    timestamp: Count = Field(description="联署时间 POSIX seconds, as the witness signed them",
                             examples=[ex.COSIGNATURE_OUT["timestamp"]])
    cosigned_at: SecondUtc = Field(description="联署时间 the same instant in ISO 8601, UTC", examples=[ex.SIGNED_AT])
    signature: CosignatureValue = Field(description="签名 the signature line's base64: key ID, time and "
                                                    "Ed25519 signature", examples=[ex.COSIGNATURE_VALUE])
    line: str = Field(description="签名行 the whole signature line, `— <key name> <base64>`, without its newline",
                      examples=[ex.COSIGNATURE_LINE])
    received_at: SecondUtc = Field(description="接收时间 when the registry accepted it, UTC to the second",
                                   examples=[ex.SIGNED_AT])


class PublishedCheckpoint(SignedCheckpointOut):
    """A checkpoint as published (公开的检查点): ``GET /audit/checkpoint`` and each item of
    ``GET /audit/checkpoints``."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PUBLISHED_CHECKPOINT))

    id: Position = Field(description="编号 the checkpoint's number, in the order of signing", examples=[2])
    origin: str | None = Field(description="日志来源 the log's origin line (PLATFORMS_LOG_ORIGIN); null for a "
                                           "checkpoint signed before signed notes", examples=[ex.LOG_ORIGIN])
    note: str | None = Field(description="签名注记 the C2SP signed note with every cosignature line (also served "
                                         "as text/plain); null for a checkpoint signed before notes",
                             examples=[ex.NOTE])
    cosignatures: list[CosignatureOut] = Field(description="联署 the witnesses' cosignatures, oldest first",
                                               examples=[[ex.COSIGNATURE_OUT]])


class CheckpointPage(ListEnvelope):
    """A page of every checkpoint ever signed (检查点列表), oldest first; ``next_after`` (kept for
    clients of ``?after=``) is the ``after`` of the next page, as ``next_cursor`` is its ``cursor``."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CHECKPOINT_PAGE))

    items: list[PublishedCheckpoint] = Field(description="检查点 checkpoints with `id > after`",
                                             examples=[ex.CHECKPOINT_PAGE["items"]])
    next_after: NextAfter = Field(examples=[1])


class StoredCosignatureOut(CosignatureOut):
    """The cosignature the registry keeps (已保存的联署), with the tree head it signs."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.STORED_COSIGNATURE))

    origin: str = Field(description="日志来源 the tree head's origin", examples=[ex.LOG_ORIGIN])
    size: Count = Field(description="树大小 the tree head's size", examples=[260])
    root: Hash = Field(description="默克尔根 the tree head's root, hex", examples=[ex.ROOT])


# ---------------------------------------------------------------------------- verification 校验
class VerifyFailure(Open):
    """One finding of the verifier (校验发现): where and why (docs/AUDIT.md lists the codes)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.VERIFY_FAILURE))

    code: str = Field(description="代码 a stable code, e.g. `chain_broken`, `checkpoint_mismatch`, `log_truncated`",
                      examples=[ex.VERIFY_FAILURE["code"]])
    reason: str = Field(description="原因 what was found, in words", examples=[ex.VERIFY_FAILURE["reason"]])
    position: int | None = Field(description="位置 the log position the finding is about; null when none",
                                 examples=[14])
    platform_id: str | None = Field(description="平台 the stream's id (UUID text, or the raw stored id when it "
                                                "is not one); null when no stream", examples=[ex.TAMPERED_ID])
    version: int | None = Field(description="版本 the stream version concerned; null when none", examples=[2])
    detected_at: int | None = Field(description="发现位置 the log position whose check revealed it", examples=[14])


class VerifyReportOut(Open):
    """The verifier's report (日志校验报告): every hash recomputed from the stored bytes."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.VERIFY_REPORT))

    ok: bool = Field(description="完好 true when nothing was found", examples=[True])
    events_checked: Count = Field(description="已校验事件 events read", examples=[260])
    first_failure: VerifyFailure | None = Field(description="首个发现 the first finding in log order; null if ok",
                                                examples=[ex.VERIFY_FAILURE])
    failures: list[VerifyFailure] = Field(description="发现 the findings in log order, the first 100",
                                          examples=[[ex.VERIFY_FAILURE]])
    failure_count: Count = Field(description="发现总数 every finding, also those beyond the first 100", examples=[0])
    mode: Literal["full", "deep"] = Field(description="方式 `full` (bytes and hashes) or `deep` (also decoded)",
                                          examples=["full"])
    size: Count = Field(description="树大小 events in the log", examples=[260])
    root: Hash = Field(description="默克尔根 Merkle root over every stored event, hex", examples=[ex.ROOT])
    streams: Count = Field(description="事件流 streams (platforms and other aggregates) seen", examples=[34])
    checkpoints_checked: Count = Field(description="已核检查点 stored checkpoints checked", examples=[2])
    latest_checkpoint: SignedCheckpointOut | None = Field(
        description="最新检查点 the latest checkpoint with a valid signature; null when none",
        examples=[ex.SIGNED_CHECKPOINT])
    unattested_events: Count = Field(description="未签事件 events after the latest valid checkpoint", examples=[0])


# ---------------------------------------------------------------------------- proofs 证明
class InclusionProof(Open):
    """Merkle inclusion proof (包含证明, RFC 9162) of one event in a tree of the log."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.INCLUSION_PROOF))

    position: Position = Field(description="位置 the event's log position", examples=[13])
    index: Count = Field(description="叶序号 its leaf index (0-based) in the tree", examples=[12])
    size: Count = Field(description="树大小 the tree's size", examples=[260])
    leaf_hash: Hash = Field(description="叶哈希 the event's leaf hash, hex", examples=[ex.HASH])
    root: Hash = Field(description="默克尔根 the tree's root, hex", examples=[ex.ROOT])
    proof: list[Hash] = Field(description="证明路径 the audit path, hex, leaf to root",
                              examples=[ex.INCLUSION_PROOF["proof"]])


class ConsistencyProof(Open):
    """Merkle consistency proof (一致性证明, RFC 9162): the larger tree extends the smaller."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CONSISTENCY_PROOF))

    old_size: Count = Field(description="旧树大小 the smaller tree's size", examples=[259])
    new_size: Count = Field(description="新树大小 the larger tree's size", examples=[260])
    old_root: Hash = Field(description="旧根 the smaller tree's root, hex", examples=[ex.FIRST_ROOT])
    new_root: Hash = Field(description="新根 the larger tree's root, hex", examples=[ex.ROOT])
    proof: list[Hash] = Field(description="证明路径 the consistency proof, hex",
                              examples=[ex.CONSISTENCY_PROOF["proof"]])


# ---------------------------------------------------------------------------- the log 日志
class RecordedBy(Open):
    """The clerk (代为录入人) who keyed in someone else's paper act."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.RECORDED_BY))

    actor_id: str = Field(description="账号 the clerk's account", examples=[ex.RECORDED_BY["actor_id"]])
    role: str = Field(description="角色 the clerk's role", examples=[ex.RECORDED_BY["role"]])


class LogRow(Open):
    """What every entry of the log shows of its stored row, decodable or not."""

    position: Position = Field(description="位置 the log position", examples=[13])
    platform_id: str = Field(description="事件流 the stream's id (a platform's, or another aggregate's)",
                             examples=[ex.PLATFORM_ID])
    aggregate: str | None = Field(description="聚合 the aggregate's class, from the topic", examples=["Platform"])
    sequence: int = Field(description="版本 the event's version in its stream", examples=[2])
    type: str | None = Field(description="事件类型 the event's class, from the topic", examples=["Accepted"])
    topic: str = Field(description="主题 the stored topic", examples=[ex.LOG_ENTRY["topic"]])
    hash: Hash = Field(description="哈希 the chain hash recomputed from the stored bytes, hex", examples=[ex.HASH])
    prev_hash: Hash | None = Field(description="前一哈希 the prev_hash the stored bytes record; null when "
                                               "unreadable", examples=[ex.PREV_HASH])
    leaf_hash: Hash = Field(description="叶哈希 the Merkle leaf hash (the chain hash), hex", examples=[ex.HASH])


class LogEntry(LogRow):
    """One event of the global log (日志条目), decoded."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.LOG_ENTRY))

    recorded_at: Instant | None = Field(description="记录时间 when it was recorded (the event's timestamp)",
                                        examples=[ex.LOG_ENTRY["recorded_at"]])
    business_date: date | None = Field(description="业务日期 the act's business date (Asia/Shanghai)",
                                       examples=["2021-12-20"])
    actor: str | None = Field(description="行为人 who acted", examples=["agency"])
    role: str | None = Field(description="角色 the actor's role", examples=["service_agency"])
    recorded_by: RecordedBy | None = Field(description="录入人 the clerk who recorded it on the actor's "
                                                       "behalf; null when the actor did", examples=[ex.RECORDED_BY])
    document_refs: list[str] = Field(description="文号 the documents backing the act", examples=[["收件〔2022〕017号"]])
    data: dict[str, Any] = Field(description="数据 the event's own fields, typed values in their stored text form",
                                 examples=[ex.LOG_ENTRY["data"]])


class UndecodableLogEntry(LogRow):
    """A stored row that cannot be decoded (无法解码的条目): listed all the same, never hidden."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.UNDECODABLE_LOG_ENTRY))

    error: str = Field(description="错误 why it cannot be decoded", examples=[ex.UNDECODABLE_LOG_ENTRY["error"]])


class AuditLogPage(ListEnvelope):
    """A page of the global event log (全局事件日志), in log order; ``next_after`` (kept for
    clients of ``?after=``) is the last position of this page when there may be more."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.AUDIT_LOG_PAGE))

    items: list[LogEntry | UndecodableLogEntry] = Field(description="条目 entries with `position > after`",
                                                        examples=[[ex.LOG_ENTRY, ex.UNDECODABLE_LOG_ENTRY]])
    next_after: NextAfter = Field(examples=[13])


# ---------------------------------------------------------------------------- time travel 回溯
class ValueChange(Open):
    """One summary field (字段变化) before and after."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.VALUE_CHANGE))

    before: Any = Field(alias="from", description="原值 its value at `from_version` (null when absent)",
                        examples=[ex.VALUE_CHANGE["from"]])
    after: Any = Field(alias="to", description="新值 its value at `to_version` (null when absent)",
                       examples=[ex.VALUE_CHANGE["to"]])


class VersionDiff(Open):
    """What changed (版本差异) in a platform's summary between two versions."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.VERSION_DIFF))

    platform_id: UUID = Field(description="平台 the platform's id", examples=[ex.PLATFORM_ID])
    from_version: Position = Field(description="起始版本 the earlier version", examples=[1])
    to_version: Position = Field(description="目标版本 the later version", examples=[2])
    changes: dict[str, ValueChange] = Field(description="变化 the summary fields that differ, by name "
                                                        "(as `GET /platforms/{id}` names them)",
                                            examples=[ex.VERSION_DIFF["changes"]])


class PublicityListAt(PublicityPage):
    """The publicity list (公示名单) as it stood at a log position: the first 200 batches, newest first."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PUBLICITY_LIST_AT))

    position: Count = Field(description="日志位置 the log position it was rebuilt up to", examples=[260])


class LedgerAt(Ledger):
    """The funding ledger (资金台账) as it stood at a log position."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.LEDGER_AT))

    position: Count = Field(description="日志位置 the log position it was rebuilt up to", examples=[260])
