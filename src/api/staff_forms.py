"""The workbench's forms (办理表单): one for every act of the API contract, generated from the
command route itself, so the form can neither ask for other fields nor apply other rules.

For each act (:data:`ACTS`) the form reads, from the route in :mod:`api.routes_commands`, its
body model (the fields: name, type, required, description) and its role dependency (who may
make it: the same ``require_roles`` set as the API). A posted form is parsed into the body's
JSON shape and validated by building that same pydantic model (so :mod:`api.inputs` applies as
in the API), then the route function itself is called with the form's session principal, so
the act, the per-command argument mapping and the domain's answer are the API's.

Lists are entered one item per line; an item of several fields as cells separated by ``|``; a
criterion → points mapping as ``criterion=points``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import json
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError, WithJsonSchema
from pydantic.fields import FieldInfo

from aggregates.values import Role

from . import routes_commands as rc
from .inputs import clean, objection_field_problem


@dataclass(frozen=True)
class ActForm:
    """One act's form: its route, its title, the rule it applies with the article, whether it
    needs a confirmation step (irreversible), and the path parameter it names besides the
    platform (an objection's or a change's number), entered as a field."""

    key: str
    endpoint: Callable[..., Any]
    title: str
    rule: str
    on_platform: bool = True
    confirm: bool = False
    path_param: str | None = None
    roles_override: frozenset[Role] | None = None

    @cached_property
    def body(self) -> type[BaseModel]:
        annotation = inspect.signature(self.endpoint, eval_str=True).parameters["body"].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        return annotation

    @cached_property
    def roles(self) -> frozenset[Role]:
        """Who may make the act: the route's own ``require_roles`` set."""
        if self.roles_override is not None:
            return self.roles_override
        who = inspect.signature(self.endpoint, eval_str=True).parameters["who"].annotation
        depends = get_args(who)[1]
        return frozenset(depends.dependency.roles)


ACTS: dict[str, ActForm] = {a.key: a for a in (
    ActForm("apply", rc.apply, "申请认定（依托单位申请，或代为录入纸质申请）",
            "第八条（一）依托单位按细分领域提出申请；纸质申请由科技服务机构或市科技局按收件日期和受理登记号代为录入",
            on_platform=False),
    ActForm("intake", rc.intake, "形式审查（受理）",
            "第八条（二）科技服务机构对申请材料进行形式审查，决定受理或不予受理"),
    ActForm("scores", rc.score, "专家评分",
            "第八条（三）专家按评分标准评分，每位专家评分一次；与依托单位或共建单位有关联的专家应当回避"),
    ActForm("score-sheets", rc.score_sheets, "录入评审会评分表（代专家录入）",
            "第八条（三）评审会上签字的评分表按会议日期录入，每张表逐一审查回避和评分标准，全部录入或全部不录入"),
    ActForm("inspection", rc.inspection, "实地考察", "第八条（四）市科技局对通过专家评审的平台进行实地考察"),
    ActForm("approval", rc.approval, "审定", "第八条（五）经局党组会议研究、报分管副市长审批并纳入资金计划后审定；"
            "第五条 每个细分领域原则上只支持一家，例外须书面说明理由", confirm=True),
    ActForm("publicity", rc.publicize, "列入公示批次",
            "第八条（六）审定的平台在媒体上公示，公示期按工作日计算", on_platform=False),
    ActForm("objection", rc.objection, "录入书面异议（代异议人录入）",
            "第八条（六）公示期内任何单位和个人可以提出异议，书面异议以收到日期为准",
            roles_override=frozenset({Role.BUREAU})),  # the public objects on the public page
    ActForm("resolution", rc.resolution, "处理异议",
            "第八条（六）异议经调查核实，提出处理意见，报分管副市长决定", path_param="objection_id"),
    ActForm("notice", rc.notice, "联合行文下达", "第八条（六）公示期满且异议处理完毕后方可联合行文（第八条（七））",
            confirm=True),
    ActForm("task-book", rc.task_book, "签订建设任务书",
            "第八条（七）立项通知下达后，市科技局与依托单位签订建设任务书；第九条（一）执行期原则上为1年"),
    ActForm("major-change", rc.major_change, "报告重大变更", "第十一条 建设期内发生重大变更，依托单位应及时报告"),
    ActForm("change-decision", rc.change_decision, "决定重大变更", "第十一条 市科技局对报告的重大变更作出决定",
            path_param="change_id"),
    ActForm("acceptance-application", rc.acceptance_application, "申请验收", "第九条（一）建设期满后依托单位申请验收"),
    ActForm("acceptance-review", rc.acceptance_review, "验收评审",
            "第九条（二）科技服务机构组织专家验收，指标未全部完成而结论合格的，须书面说明理由"),
    ActForm("certificate", rc.certificate, "录入换发的高新技术企业证书",
            "第七条（一）认定时依托单位的高新技术企业证书须在有效期内"),
    ActForm("late-acceptance", rc.late_acceptance_admission, "准予逾期申请验收",
            "第九条（一）逾期未申请验收的，市科技局可说明理由准予逾期申请"),
    ActForm("recognition", rc.recognition, "认定授牌", "第九条（三）验收合格的平台予以认定并授牌"),
    ActForm("funding", rc.funding, "拨付建设资金", "第九条（三）认定后按联合文件拨付资金，金额须与政策规定一致",
            confirm=True),
    ActForm("recovery", rc.recovery, "追回资金", "第十三条 撤销认定的，追回已拨付的资金"),
    ActForm("revocation", rc.revocation, "撤销认定", "第十三条 不能履行职责或造成严重不良影响的，撤销认定",
            confirm=True),
    ActForm("withdrawal", rc.withdrawal, "撤回申请", "依托单位可撤回本单位的申请，撤回后程序结束", confirm=True),
    ActForm("termination", rc.termination, "终止建设", "第九条（一）按规定的终止理由并附决定文号终止建设",
            confirm=True),
    ActForm("subfield", rc.admit_subfield, "增列细分领域",
            "第四条 市科技局可决定增列细分领域，此后按第五条每个领域支持一家",
            on_platform=False),
)}


def acts_for(role: Role, on_platform: bool) -> list[ActForm]:
    """The acts ``role`` may make, on one platform or not."""
    return [a for a in ACTS.values() if a.on_platform is on_platform and role in a.roles]


# --------------------------------------------------------------------------- fields
# Input names as the form labels them; a name not listed shows its API name.
LABELS = {
    "business_date": "业务日期", "document_ref": "文号", "reasons": "理由", "name": "名称",
    "subfield": "细分领域", "host_unit": "依托单位", "host_unit.name": "依托单位名称",
    "host_unit.credit_code": "依托单位统一社会信用代码",
    "host_unit.high_tech_certificate.number": "高新技术企业证书编号",
    "host_unit.high_tech_certificate.valid_until": "高新技术企业证书有效期至", "co_builders": "共建单位",
    "credit_code": "统一社会信用代码", "commitments": "持续投入承诺", "achievements": "成果", "title": "成果名称",
    "stage": "阶段", "basic_conditions.technical_strength": "技术实力", "basic_conditions.open_sharing": "开放共享",
    "basic_conditions.service_mechanism": "服务机制", "decision": "审查结论", "scores": "评分", "comment": "意见",
    "meeting_ref": "评审会文号", "sheets": "评分表", "expert_id": "专家编号", "expert_name": "专家姓名",
    "affiliation": "专家所在单位信用代码", "passed": "考察结论", "findings": "考察意见",
    "party_group_meeting_ref": "党组会议纪要文号", "vice_mayor_approval_ref": "分管副市长审批文号",
    "funding_plan_ref": "资金计划文号", "subfield_exception": "同一细分领域第二家平台的书面理由",
    "batch_ref": "公示批次文号", "media": "公示媒体", "start_date": "公示开始日期", "platform_ids": "平台编号",
    "objector_name": "异议人姓名或单位", "contact": "联系方式", "content": "异议内容", "outcome": "处理结果",
    "handling_opinion": "处理意见", "vice_mayor_decision_ref": "分管副市长决定文号", "task_book_ref": "任务书编号",
    "indicators": "考核指标", "target": "目标", "period_start": "执行期开始", "period_end": "执行期结束",
    "period_reason": "执行期不为一年的理由", "kind": "变更类型", "description": "变更说明", "new_value": "变更后内容",
    "approved": "决定", "summary": "验收申请摘要", "panel": "验收专家组", "indicator_results": "指标完成情况",
    "achieved": "是否完成", "funds_use_compliant": "资金使用是否合规", "conclusion": "验收结论",
    "justification": "理由说明", "number": "证书编号", "valid_until": "有效期至", "policy": "政策文号",
    "plaque_no": "牌匾编号", "joint_document_ref": "联合文件文号", "amount": "金额（元）", "ground": "理由类别",
    "objection_id": "异议编号", "change_id": "重大变更编号",
}
CHOICES = {
    "accepted": "受理", "not_accepted": "不予受理", "pilot": "中试", "industrial": "产业化", "upheld": "异议成立",
    "dismissed": "异议不成立", "qualified": "合格", "unqualified": "不合格", "unit_name": "依托单位名称",
    "principal": "负责人", "goals": "建设目标", "indicators": "考核指标",
    "budget": "经费预算", "cannot_fulfil_duties": "不能履行职责",
    "serious_adverse_impact": "造成严重不良影响", "acceptance_deadline_missed": "逾期未申请验收",
    "task_book_not_signed": "未签订任务书", "conditions_lost": "不再具备条件", "host_unit_request": "依托单位申请",
    "force_majeure": "不可抗力",
}
# What a field asks for, where its label does not say it all (the API's descriptions are English).
HINTS = {
    "business_date": "办理之日（北京时间），不填为今天；补录纸质材料时填原件日期，不得晚于今天，"
                     "也不得早于该平台上一项办理的日期。",
    "document_ref": "办理所依据的文件文号。", "subfield": "现行政策所列或市科技局已增列的细分领域。",
    "credit_code": "18 位统一社会信用代码（含校验码）。", "policy": "不填为业务日期当天有效的政策。",
    "subfield_exception": "该细分领域已有平台时必填（第五条“原则上”）；否则不填。",
    "period_end": "不填为开始日期起一年。", "period_reason": "执行期不是一年时必填；一年时不填（第九条（一））。",
    "justification": "验收结论合格但有指标未完成时必填（第九条（三））；逾期申请验收须说明准予理由。",
    "amount": "以元为单位，最多两位小数（如 1000000.00）；不填按政策规定的金额，填写时须与之一致。",
    "platform_ids": "每行一个平台编号（可从平台档案的地址中复制）。", "meeting_ref": "评审会纪要文号。",
    "new_value": "变更后的内容；变更考核指标时每行一项：名称 | 目标。",
    "start_date": "公示开始日期，公示期按工作日计算。",
    "ground": "终止理由限于所列情形；“验收不合格”由验收评审记录，不在此办理。",
}
BOOL_CHOICES = {"passed": ("通过", "未通过"), "approved": ("批准", "不予批准")}


def label(name: str) -> str:
    return LABELS.get(name) or LABELS.get(name.rsplit(".", 1)[-1]) or name


@dataclass(frozen=True)
class Field:
    """One input of a form. ``kind``: line, text (a textarea), date, bool, choice, lines (a
    list, one per line), rows (a list of items, one per line, cells separated by ``|``), pairs
    (``key=value`` per line), text_or_rows (a text, or rows)."""

    name: str
    label: str
    kind: str
    required: bool
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    columns: tuple[str, ...] = ()

    @property
    def multiline(self) -> bool:
        return self.kind in {"text", "lines", "rows", "pairs", "text_or_rows"}


def _strip_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else Union[tuple(args)]  # noqa: UP007
    return annotation


def _max_length(info: FieldInfo) -> int:
    for m in info.metadata:
        if isinstance(m, WithJsonSchema) and isinstance(m.json_schema, dict):
            return int(m.json_schema.get("maxLength", 0))
    return 0


def _model_of(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _columns(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


def fields_of(model: type[BaseModel], prefix: str = "", optional: bool = False) -> list[Field]:
    """The inputs of ``model``'s form, nested models flattened into dotted names."""
    out: list[Field] = []
    for name, info in model.model_fields.items():
        full = prefix + name
        required = info.is_required() and not optional
        annotation = _strip_none(info.annotation)
        help_ = HINTS.get(full) or HINTS.get(name, "")
        if full == "business_date" and not required:
            help_ = HINTS["business_date"]
        nested = _model_of(annotation)
        origin = get_origin(annotation)
        if nested is not None:
            out.extend(fields_of(nested, full + ".", optional or not info.is_required()))
        elif annotation is bool:
            yes, no = BOOL_CHOICES.get(name, ("是", "否"))
            out.append(Field(full, label(full), "bool", required, help_, (("true", yes), ("false", no))))
        elif origin is Literal:
            out.append(Field(full, label(full), "choice", required, help_,
                             tuple((str(v), CHOICES.get(str(v), str(v))) for v in get_args(annotation))))
        elif annotation is date:
            out.append(Field(full, label(full), "date", required, help_))
        elif origin is list:
            item = get_args(annotation)[0]
            row = _model_of(item)
            if row is None:
                out.append(Field(full, label(full), "lines", required, help_ or "每行一项。"))
            else:
                cols = _columns(row)
                fmt = " | ".join(_cell_label(row, c) for c in cols)
                out.append(Field(full, label(full), "rows", required,
                                 f"每行一项，各栏用 | 分隔：{fmt}。" + _pairs_hint(row), columns=cols))
        elif origin is dict:
            out.append(Field(full, label(full), "pairs", required, "每行一项，格式为“评分项=分值”。"))
        elif get_origin(annotation) in (Union, types.UnionType) and any(
                get_origin(a) is list for a in get_args(annotation)):
            row = _model_of(next(get_args(a)[0] for a in get_args(annotation) if get_origin(a) is list))
            cols = _columns(row) if row is not None else ()
            out.append(Field(full, label(full), "text_or_rows", required, help_, columns=cols))
        else:
            kind = "text" if _max_length(info) > 200 else "line"
            out.append(Field(full, label(full), kind, required, help_))
    return out


def _cell_label(row: type[BaseModel], column: str) -> str:
    """A row's column as its hint names it, with the values it takes (是/否, a list's choices)."""
    annotation = _strip_none(row.model_fields[column].annotation)
    if annotation is bool:
        return f"{label(column)}（是/否）"
    if get_origin(annotation) is Literal:
        return f"{label(column)}（{'/'.join(CHOICES.get(str(v), str(v)) for v in get_args(annotation))}）"
    return label(column)


def _pairs_hint(row: type[BaseModel]) -> str:
    dicts = [n for n, i in row.model_fields.items() if get_origin(_strip_none(i.annotation)) is dict]
    return "".join(f"“{label(n)}”一栏写作“评分项=分值; 评分项=分值”。" for n in dicts)


def path_field(act: ActForm) -> Field | None:
    return None if act.path_param is None else Field(act.path_param, label(act.path_param), "line", True)


# --------------------------------------------------------------------------- parsing
class FormErrors(Exception):
    """Messages beside the fields (name → Chinese sentence)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


_TRUE, _FALSE = {"true", "是", "1", "yes"}, {"false", "否", "0", "no"}
_SPLIT = re.compile(r"\s*[|｜]\s*")


def _pairs(text: str, separator: str) -> dict[str, str] | None:
    out = {}
    for part in (p for p in re.split(separator, text) if p.strip()):
        key, eq, value = part.replace("＝", "=").partition("=")
        if not eq:
            return None
        out[key.strip()] = value.strip()
    return out


def _row(line: str, columns: tuple[str, ...], model: type[BaseModel], number: int, name: str) -> dict[str, Any]:
    cells = _SPLIT.split(line.strip())
    if len(cells) > len(columns):
        raise FormErrors({name: f"第 {number} 行的栏数多于 {len(columns)} 栏。"})
    item: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=False):
        if not cell:
            continue
        annotation = _strip_none(model.model_fields[column].annotation)
        if annotation is bool:
            item[column] = True if cell.lower() in _TRUE else False if cell.lower() in _FALSE else cell
        elif get_origin(annotation) is Literal:  # a choice, by its value or its Chinese name
            item[column] = next((str(v) for v in get_args(annotation) if cell == CHOICES.get(str(v))), cell)
        elif get_origin(annotation) is dict:
            pairs = _pairs(cell, r"[;；,，]")
            if pairs is None:
                raise FormErrors({name: f"第 {number} 行“{label(column)}”应写作“评分项=分值; 评分项=分值”。"})
            item[column] = pairs
        else:
            item[column] = cell
    return item


def _lines(value: str) -> list[str]:
    return [line for line in value.splitlines() if line.strip()]


def parse(model: type[BaseModel], values: dict[str, str]) -> BaseModel:
    """The posted ``values`` (field name → text) as ``model``: empty inputs are left out (the
    model's default applies, or "required"); raises :class:`FormErrors` in Chinese."""
    raw: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields_of(model):
        text = values.get(f.name, "")
        if not text.strip():
            continue
        value: Any = text
        try:
            if f.kind == "bool":
                value = text == "true" if text in ("true", "false") else text
            elif f.kind == "lines":
                value = [line.strip() for line in _lines(text)]
            elif f.kind == "pairs":
                pairs = _pairs(text, r"\n")
                if pairs is None:
                    raise FormErrors({f.name: "每行应写作“评分项=分值”。"})
                value = pairs
            elif f.kind == "rows" or (f.kind == "text_or_rows" and all("|" in ln for ln in _lines(text))):
                item = _item_model(model, f.name)
                value = [_row(line, f.columns, item, n, f.name) for n, line in enumerate(_lines(text), 1)]
        except FormErrors as exc:
            errors.update(exc.errors)
            continue
        target = raw
        *parents, leaf = f.name.split(".")
        for p in parents:
            target = target.setdefault(p, {})
        target[leaf] = value
    if errors:
        raise FormErrors(errors)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise FormErrors(messages(model, exc, values)) from None


def _item_model(model: type[BaseModel], dotted: str) -> type[BaseModel]:
    current: Any = model
    for part in dotted.split("."):
        current = _strip_none(current.model_fields[part].annotation)
        current = _model_of(current) or current
    args = get_args(current) if get_origin(current) is list else [
        a for arg in get_args(current) if get_origin(arg) is list for a in get_args(arg)]
    found = _model_of(args[0])
    assert found is not None
    return found


# --------------------------------------------------------------------------- messages
def _message(error: Any, values: dict[str, str], name: str) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind.startswith("objection_"):
        refusal = objection_field_problem(kind.removeprefix("objection_"), clean(values.get(name, "")))
        if refusal is not None:
            return refusal.zh
    if kind == "forbidden_character":
        what = str(ctx.get("what", ""))
        code = re.search(r"U\+[0-9A-F]{4,6}", what)
        return "不能换行或含制表符。" if "line break" in what else \
            f"含有不允许的不可见字符（{code.group(0) if code else what}），请删除后再提交。"
    n = ctx.get("n", ctx.get("min_length", ctx.get("max_length")))
    sentences = {
        "missing": "必须填写。", "string_too_short": "不能为空。" if n in (None, 1) else f"至少 {n} 个字符。",
        "string_too_long": f"最多 {n} 个字符。", "too_short": f"至少填写 {n} 项。", "too_long": f"最多填写 {n} 项。",
        "date_only": "应为日期（年-月-日，如 2022-10-08）。", "date_parsing": "应为有效的日期（年-月-日）。",
        "date_from_datetime_parsing": "应为有效的日期（年-月-日）。", "literal_error": "请从列表中选择。",
        "bool_parsing": "请选择“是”或“否”。", "bool_type": "请选择“是”或“否”。",
        "uuid_parsing": "应为平台编号（形如 xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx）。",
        "string_pattern_mismatch": "格式不正确：金额以元为单位，用阿拉伯数字，最多两位小数（如 1000000.00）。",
        "ascii_number": "应为阿拉伯数字（0-9）。", "float_parsing": "应为数字。", "int_parsing": "应为整数。",
        "extra_forbidden": "不是本表单的栏目。", "dict_type": "格式不正确。", "list_type": "格式不正确。",
    }
    return sentences.get(kind, "输入有误。")


def messages(model: type[BaseModel], exc: ValidationError, values: dict[str, str]) -> dict[str, str]:
    """Each pydantic error in Chinese, beside the form field it concerns (a list's row named)."""
    names = {f.name for f in fields_of(model)}
    out: dict[str, str] = {}
    for error in exc.errors():
        rest = list(error["loc"])
        name = ""
        while rest and not isinstance(rest[0], int) and name not in names:
            part = str(rest.pop(0))
            name = f"{name}.{part}" if name else part
        if name not in names:  # a whole nested model missing: name its first field
            name = next((n for n in names if n.startswith(name + ".")), name)
        where = "".join(f"第 {p + 1} 行" if isinstance(p, int) else f"“{label(str(p))}”" for p in rest)
        text = (where + "：" if where else "") + _message(error, values, name)
        out[name] = f"{out[name]} {text}" if name in out else text
    return out


# --------------------------------------------------------------------------- the confirmation step
class Signer:
    """Signs the values shown on a confirmation page, so the confirm button records exactly
    what was reviewed (HMAC-SHA256 under a key of its own derived from the secret key; values
    signed under the previous key, while one is configured, are still read)."""

    def __init__(self, secret_key: str, previous: str = "") -> None:
        self._keys = [hmac.new(secret.encode("utf-8"), b"platform-registry staff form v1", hashlib.sha256).digest()
                      for secret in (secret_key, previous) if secret]

    def _sign(self, payload: str, key: bytes | None = None) -> str:
        return hmac.new(key or self._keys[0], payload.encode("ascii"), hashlib.sha256).hexdigest()

    def dump(self, scope: str, values: dict[str, str]) -> str:
        body = json.dumps({"s": scope, "v": values}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        payload = base64.urlsafe_b64encode(body.encode("utf-8")).decode("ascii")
        return f"{payload}.{self._sign(payload)}"

    def load(self, scope: str, signed: str) -> dict[str, str] | None:
        """The values, or None when the signature, or the form they were signed for, differs."""
        payload, _, signature = signed.partition(".")
        if not signature or not any(hmac.compare_digest(signature, self._sign(payload, key)) for key in self._keys):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload))
        except ValueError:
            return None
        values = data.get("v") if data.get("s") == scope else None
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return None
        return values


__all__ = ["ACTS", "ActForm", "Field", "FormErrors", "Signer", "acts_for", "fields_of", "label", "parse", "path_field"]
