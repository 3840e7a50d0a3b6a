"""The catalogue of problem codes (问题代码目录): every ``code`` a refusal can carry, once.

Each code has its usual HTTP status, the article of 长科发〔2021〕36号 that makes the rule (None
for a refusal of the service itself: a token, a malformed request), a title and an explanation
in Chinese and English, and what to do about it. The API's problem+json (:mod:`api.errors`),
its ``type`` pages (:mod:`api.routes_problems`), the staff forms' refusal pages, the archive
import's refusals and the command line all read their words here, so a code means the same
thing wherever it shows. ``tests/test_problem_catalogue.py`` fails when a code is raised that
is not listed.

``detail_zh`` is the Chinese ``detail``: a template over the same parameters the English message
carries (``DomainError.params``), e.g. ``{valid_until}``. A refusal raised without them, or a
code without a template, answers the Chinese explanation instead: never an English sentence
under a Chinese title.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Language = Literal["zh", "en"]
POLICY = "长科发〔2021〕36号"


@dataclass(frozen=True)
class ProblemType:
    """One problem code: what it means, the article behind it, what to do."""

    code: str
    status: int
    article: str | None
    title_zh: str
    title_en: str
    meaning_zh: str
    meaning_en: str
    remedy_zh: str
    remedy_en: str
    detail_zh: str = ""

    def title(self, language: Language) -> str:
        return self.title_zh if language == "zh" else self.title_en

    def meaning(self, language: Language) -> str:
        return self.meaning_zh if language == "zh" else self.meaning_en

    def remedy(self, language: Language) -> str:
        return self.remedy_zh if language == "zh" else self.remedy_en

    @property
    def parameters(self) -> frozenset[str]:
        """The names ``detail_zh`` takes from the refusal's parameters."""
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.detail_zh) if name)

    def chinese_detail(self, params: Mapping[str, object] | None) -> str:
        """``detail_zh`` filled with ``params``; the explanation when a parameter is missing."""
        if not self.detail_zh:
            return self.meaning_zh
        values = dict(params or {})
        if not self.parameters <= values.keys():
            return self.meaning_zh
        return self.detail_zh.format_map({k: _text(v) for k, v in values.items()})

    def as_dict(self, language: Language) -> dict[str, object]:
        """The entry as its JSON type page gives it."""
        return {"code": self.code, "status": self.status, "article": self.article,
                "article_zh": article_zh(self.article), "policy": POLICY if self.article else None,
                "title": self.title(language), "meaning": self.meaning(language),
                "what_to_do": self.remedy(language),
                "title_zh": self.title_zh, "title_en": self.title_en}


def _text(value: object) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return "、".join(str(v) for v in value) or "无"
    return str(value)


_NUMERALS = "零一二三四五六七八九十"


def _number_zh(n: int) -> str:
    if n <= 10:
        return _NUMERALS[n]
    return ("十" if n < 20 else _NUMERALS[n // 10] + "十") + (_NUMERALS[n % 10] if n % 10 else "")


def article_zh(article: str | None) -> str | None:
    """``Art. 8(6)`` → ``第八条第（六）项``, ``Art. 6, 7`` → ``第六条、第七条``; as given otherwise."""
    if not article:
        return None
    parts = []
    for one in re.split(r",\s*", article.removeprefix("Art. ")):
        m = re.fullmatch(r"(?:Art\. )?(\d+)(?:\((\d+)\))?", one.strip())
        if m is None:
            return article
        text = f"第{_number_zh(int(m.group(1)))}条"
        if m.group(2):
            text += f"第（{_number_zh(int(m.group(2)))}）项"
        parts.append(text)
    return "、".join(parts)


_ENTRIES: list[ProblemType] = []


def _p(code: str, status: int, article: str | None, title_zh: str, title_en: str, meaning_zh: str,
       meaning_en: str, remedy_zh: str, remedy_en: str, detail_zh: str = "") -> None:
    _ENTRIES.append(ProblemType(code, status, article, title_zh, title_en, meaning_zh, meaning_en,
                                remedy_zh, remedy_en, detail_zh))


_RELOAD_ZH = "刷新平台当前状态，按办理顺序先完成前一环节。"
_RELOAD_EN = "Reload the platform and complete the step before this one first."
_FIX_ZH = "按提示修改该字段后重新提交。"
_FIX_EN = "Correct the named field and send the request again."

# --------------------------------------------------------------- the request itself (no article)
_p("invalid_input", 422, None, "输入不符合要求", "Invalid input",
   "请求中的某个字段缺失、类型不对或超出允许范围；field 指出第一处，errors 列出全部。",
   "A field of the request is missing, of the wrong type or out of range; field names the first, "
   "errors lists them all.", _FIX_ZH, _FIX_EN, "字段 {field}：{message}")
_p("malformed_json", 400, None, "请求体不是有效的 JSON", "Malformed JSON",
   "请求体（或导入档案的某一行）不是有效的 UTF-8 JSON。",
   "The body (or a line of an archive) is not valid JSON in UTF-8.",
   "检查请求体的 JSON 语法和编码。", "Check the body's JSON syntax and encoding.")
_p("bad_content_length", 400, None, "Content-Length 无效", "Bad Content-Length",
   "请求头 Content-Length 不是数字。", "The Content-Length header is not a number.",
   "让客户端发送正确的 Content-Length，或改用分块传输。", "Send a correct Content-Length or use chunked transfer.")
_p("payload_too_large", 413, None, "请求体过大", "Payload too large",
   "请求体超过了系统允许的大小。", "The request body exceeds the size the service accepts.",
   "缩小请求体；大批档案请分文件导入。", "Send a smaller body; split a large archive.",
   "请求体超过 {limit} 字节。")
_p("number_out_of_range", 422, None, "数值超出范围", "Number out of range",
   "请求中的某个数字或日期超出了系统能表示的范围。",
   "A number or date in the request is out of the range the service can represent.",
   "检查请求中的数字和日期。", "Check the numbers and dates in the request.")
_p("invalid_cursor", 400, None, "分页游标无效", "Invalid cursor",
   "cursor 参数不是本系统给出的分页游标。", "The cursor is not one this service handed out.",
   "从第一页重新读取，并使用响应中的 next_cursor。",
   "Start again from the first page and use the next_cursor answered.")
_p("invalid_idempotency_key", 422, None, "幂等键无效", "Invalid Idempotency-Key",
   "Idempotency-Key 请求头须为 1 至 200 个可打印 ASCII 字符。",
   "Idempotency-Key must be 1 to 200 printable ASCII characters.",
   "改用一个较短的 ASCII 幂等键（如 UUID）。", "Use a shorter ASCII key, such as a UUID.")
_p("idempotency_key_reused", 422, None, "幂等键已用于其他请求", "Idempotency-Key reused",
   "同一个 Idempotency-Key 已经用于内容不同的另一个请求。",
   "This Idempotency-Key was already used for a different request.",
   "每个新的办理事项使用新的幂等键；重试时请求内容须与首次完全相同。",
   "Use a new key for each new act; a retry must send the very same request.")
_p("invalid_if_match", 422, None, "If-Match 无效", "Invalid If-Match",
   "If-Match 请求头应为平台的版本号，如 \"7\"。", "If-Match must be the platform's version, e.g. \"7\".",
   "使用 GET /platforms/{id} 返回的 version。", "Send the version GET /platforms/{id} answered.")
_p("stale_version", 412, None, "版本已过期", "Stale version",
   "平台在您读取之后已被修改，If-Match 中的版本不是当前版本。",
   "The platform changed since you read it: the If-Match version is not the current one.",
   "重新读取平台，确认后再办理。", "Reload the platform, check it, and retry.",
   "平台当前为第 {actual} 版，而不是第 {expected} 版；请刷新后重试。")
_p("concurrent_modification", 409, None, "并发修改冲突", "Concurrent modification",
   "另一个请求同时修改了同一平台，本次未能保存。", "Another request changed the same platform at the same time.",
   "刷新后重试。", "Reload and retry.")
_p("store_unavailable", 503, None, "数据库暂不可用", "Store unavailable",
   "暂时无法连接数据库。", "The database cannot be reached just now.",
   "按 Retry-After 等待后重试；持续出现请联系运维。",
   "Retry after Retry-After seconds; tell the operator if it persists.")
_p("read_models_lagging", 503, None, "查询数据尚未更新", "Read models lagging",
   "查询数据尚未跟上 min_position 指定的日志位置。", "The read models have not reached the min_position asked for yet.",
   "稍后重试。", "Retry shortly.", "查询数据尚未更新到日志位置 {position}，请稍后重试。")
_p("position_not_recorded", 422, None, "日志位置不存在", "Position not recorded",
   "min_position 超出了事件日志的末尾。", "min_position is beyond the end of the event log.",
   "使用办理命令返回的 position。", "Use the position a command answered.",
   "日志位置 {position} 超出了事件日志的末尾（{head}）。")
_p("internal_error", 500, None, "系统内部错误", "Internal error",
   "发生了意外错误，已记入系统日志；本次请求没有写入任何内容。",
   "An unexpected error occurred and has been logged; the request wrote nothing.",
   "稍后重试；持续出现请把发生时间告知运维。", "Retry later; tell the operator the time if it persists.")
_p("not_found", 404, None, "地址不存在", "Not found",
   "请求的地址不存在。", "There is nothing at this address.",
   "检查地址；接口列表见 /docs。", "Check the address; /docs lists the routes.")
_p("method_not_allowed", 405, None, "不支持该请求方法", "Method not allowed",
   "该地址不接受此 HTTP 方法。", "This address does not take this HTTP method.",
   "按 /docs 使用正确的方法。", "Use the method /docs gives.")
_p("http_error", 400, None, "请求无法处理", "Request not handled",
   "请求在 HTTP 层面无法处理。", "The request cannot be handled at the HTTP level.",
   "检查请求的方法、地址和请求头。", "Check the request's method, address and headers.")
_p("unsupported_media_type", 415, None, "不支持的内容类型", "Unsupported media type",
   "档案须以 application/x-ndjson（每行一个 JSON）发送。",
   "The archive must be sent as application/x-ndjson (one JSON a line).",
   "把 Content-Type 设为 application/x-ndjson。", "Set Content-Type to application/x-ndjson.")
_p("rate_limited", 429, None, "提交过于频繁", "Too many requests",
   "同一地址在短时间内提交的异议过多。", "Too many objections from this address in a short time.",
   "按 Retry-After 等待后再提交。", "Wait for Retry-After seconds before filing again.",
   "同一地址提交的异议过多，请 {seconds} 秒后再试。")

# --------------------------------------------------------------- accounts and access
_p("unauthorized", 401, None, "未登录或令牌无效", "Not signed in",
   "该请求需要有效的访问令牌，但没有提供，或令牌已过期、被撤销。",
   "The request needs a valid access token; none was sent, or it expired or was revoked.",
   "通过 POST /api/v1/auth/token 重新获取令牌。", "Get a new token with POST /api/v1/auth/token.", "{reason}。")
_p("invalid_credentials", 401, None, "用户名或密码错误", "Wrong username or password",
   "用户名或密码不正确。", "The username or the password is wrong.",
   "核对后重试；多次错误会暂时锁定。", "Check them and retry; repeated failures lock sign-in for a while.")
_p("too_many_login_attempts", 429, None, "登录尝试过多", "Too many sign-in attempts",
   "该账号或该地址输错密码次数过多，登录已暂时锁定。",
   "Too many wrong passwords for this account or from this address: sign-in is locked for a while.",
   "按 Retry-After 等待后再试。", "Wait for Retry-After seconds.", "密码错误次数过多，请 {seconds} 秒后再试。")
_p("forbidden", 403, None, "无权办理", "Forbidden",
   "当前角色无权发出该请求。", "The caller's role may not make this request.",
   "以有权办理的角色登录（见 docs/API.md 的命令表）。", "Sign in with a role that may (docs/API.md lists them).",
   "该请求须由以下角色办理：{roles}；当前登录的角色是 {role}。")
_p("not_your_host_unit", 403, "Art. 8(1)", "不是本单位", "Not your host unit",
   "依托单位只能为本单位（以统一社会信用代码识别）申请或查询。",
   "An applicant applies for and lists only its own host unit (identified by its credit code).",
   "使用与账号绑定的统一社会信用代码。", "Use the credit code the account is bound to.")
_p("not_your_platform", 403, None, "不是本单位的平台", "Not your platform",
   "依托单位只能办理或查看本单位的平台。", "An applicant acts on and reads only its own host unit's platforms.",
   "确认平台编号。", "Check the platform's id.")
_p("invalid_username", 422, None, "用户名无效", "Invalid username",
   "用户名为 2 至 64 个字母、数字或 . _ @ -。", "A username is 2 to 64 letters, digits or . _ @ -.", _FIX_ZH, _FIX_EN)
_p("reserved_username", 422, None, "用户名已保留", "Reserved username",
   "该用户名留作系统使用。", "The username is reserved for the system.", "换一个用户名。", "Choose another username.")
_p("invalid_role", 422, None, "角色无效", "Invalid role",
   "角色须为 applicant、service_agency、expert、bureau、finance 或 auditor。",
   "The role must be applicant, service_agency, expert, bureau, finance or auditor.", _FIX_ZH, _FIX_EN)
_p("credit_code_required", 422, "Art. 8(3)", "须提供统一社会信用代码", "Credit code required",
   "依托单位账号须绑定本单位的统一社会信用代码；专家账号须填写所在单位的代码，用于回避。",
   "An applicant account is bound to its host unit's credit code; an expert's affiliation is needed for recusal.",
   "用 --credit-code 提供代码。", "Give the code with --credit-code.")
_p("password_too_short", 422, None, "密码太短", "Password too short",
   "密码至少 12 个字符。", "A password has at least 12 characters.", "使用更长的密码或短语。",
   "Use a longer password or a passphrase.")
_p("password_blank", 422, None, "密码不能全为空格", "Blank password",
   "密码不能只由空格组成。", "A password cannot be only spaces.", "换一个密码。", "Choose another password.")
_p("password_common", 422, None, "密码过于常见", "Common password",
   "该密码属于最常见的密码之一，容易被猜中。", "The password is among the most common ones.",
   "换一个不常见的密码。", "Choose a password that is not common.")
_p("password_trivial", 422, None, "密码规律过于简单", "Trivial password",
   "由重复或连续字符构成的密码容易被猜中。", "A password made of one repeated or sequential pattern is easy to guess.",
   "换一个没有简单规律的密码。", "Choose a password without a simple pattern.")
_p("recording_on_behalf_not_allowed", 422, "Art. 8", "不能代为录入", "Recording on behalf not allowed",
   "只有服务机构和市科技局可以代为录入他人的纸质办理事项。",
   "Only the service agency and the bureau record another's paper act on its behalf.",
   "由服务机构或市科技局录入。", "Have the service agency or the bureau record it.")

# --------------------------------------------------------------- dates and references
_p("business_date_in_future", 422, None, "业务日期在未来", "Business date in the future",
   "业务日期（北京时间）不能晚于今天。", "A business date (Asia/Shanghai) is never after today.",
   "填写事项实际发生的日期。", "Give the day the act happened.",
   "业务日期 {business_date} 晚于今天（北京时间 {today}）。")
_p("business_date_not_today", 422, None, "只能以今天为业务日期", "Business date must be today",
   "依托单位、专家和公众在线办理的事项以今天（北京时间）为业务日期；过去的纸质事项由服务机构或市科技局代为录入。",
   "Applicants, experts and the public acting online act today (Asia/Shanghai); a past paper act is "
   "recorded on their behalf by the service agency or the bureau.",
   "去掉 business_date，或请服务机构、市科技局代为录入。",
   "Omit business_date, or have the agency or the bureau record it.",
   "在线办理以今天（北京时间 {today}）为业务日期。")
_p("business_date_required", 422, "Art. 8(1)", "须填写收件日期", "Business date required",
   "代为录入的纸质申请须以收件日期为业务日期（它决定适用的政策，第十五条）。",
   "A paper application is recorded with the day it was received (it binds the policy, Art. 15).",
   "填写 business_date。", "Give business_date.")
_p("business_date_before_previous", 409, "Art. 8", "日期早于前一决定", "Date before the previous decision",
   "决定的业务日期不能早于它所依据的前一项已记录决定。",
   "A decision is never dated before a decision recorded before it.",
   "核对日期；若前一决定的日期有误，先更正。", "Check the date; correct the earlier decision first if it is wrong.",
   "业务日期 {business_date} 早于前一项已记录决定（{previous}）。")
_p("invalid_date", 422, None, "日期格式错误", "Invalid date",
   "日期格式应为 YYYY-MM-DD。", "A date is written YYYY-MM-DD.", _FIX_ZH, _FIX_EN)
_p("date_out_of_range", 422, "Art. 9(1)", "日期不合理", "Date out of range",
   "实施期的日期超出合理范围。", "A date of the execution period is not plausible.", _FIX_ZH, _FIX_EN)
_p("reference_required", 422, "Art. 8", "须填写文号", "Document reference required",
   "该事项须有支撑它的文件编号（文号）。", "The act needs the reference (文号) of the document that backs it.",
   "在 field 所指字段填写文号。", "Give the reference in the named field.")
_p("reasons_required", 422, None, "须说明理由", "Reasons required",
   "不予受理、终止或放弃导入须写明理由。", "A refusal, a termination or an abandoned import gives its reasons.",
   "填写 reasons。", "Give reasons.")
_p("justification_required", 409, "Art. 9(1)", "须说明理由", "Justification required",
   "该决定偏离一般规定（验收合格但有未完成指标，或受理逾期的验收申请），须附书面说明。",
   "The decision departs from the rule (qualified with indicators not achieved, or admitting a late "
   "application) and needs its written justification.", "填写 justification。", "Give justification.",
   "验收结论为合格但指标 {indicators} 未完成，须附专家组书面说明。")
_p("justification_not_needed", 409, "Art. 9(1)", "无须说明理由", "Justification not needed",
   "只有指标未全部完成而结论为合格时才记录书面说明。",
   "A justification is recorded only for a qualified conclusion with indicators not achieved.",
   "去掉 justification。", "Omit justification.")
_p("naive_instant", 422, None, "时刻缺少时区", "Instant without offset",
   "as_of 须带时区偏移，如 2022-10-01T12:00:00+08:00。", "as_of needs an offset, e.g. 2022-10-01T12:00:00+08:00.",
   _FIX_ZH, _FIX_EN)
_p("one_as_of", 422, None, "只能指定一个历史时点", "One point in history",
   "as_of、as_of_version、as_of_date 只能给出其一。", "Give one of as_of, as_of_version, as_of_date.",
   "只保留一个参数。", "Keep one of them.")
_p("invalid_version", 422, None, "版本号无效", "Invalid version",
   "版本号为从 1 开始的正整数。", "Versions are whole numbers from 1.", _FIX_ZH, _FIX_EN)
_p("version_not_found", 404, None, "版本不存在", "Version not found",
   "该平台没有这么多个版本。", "The platform has fewer versions.", "使用不超过当前版本号的版本。",
   "Ask for a version up to the current one.", "该平台只有 {versions} 个版本，没有第 {version} 版。")
_p("not_yet_recorded", 404, None, "当时尚无记录", "Not yet recorded",
   "在指定的时点，该平台尚未申请或尚未记录。", "At the time asked for, the platform had not applied or been recorded.",
   "选择更晚的时点。", "Ask for a later time.")

# --------------------------------------------------------------- unknown ids
_p("platform_not_found", 404, None, "平台不存在", "Platform not found",
   "没有该编号的平台。", "There is no platform with this id.", "核对平台编号（GET /platforms 列出全部）。",
   "Check the id (GET /platforms lists them).", "没有编号为 {platform_id} 的平台。")
_p("batch_not_found", 404, "Art. 8(6)", "公示批次不存在", "Publicity batch not found",
   "没有该编号的公示批次。", "There is no publicity batch with this id.", "核对批次编号。", "Check the batch's id.")
_p("objection_not_found", 404, "Art. 8(6)", "异议不存在", "Objection not found",
   "该平台没有这个编号的异议。", "The platform has no objection with this id.", "核对异议编号。",
   "Check the objection's id.",
   "该平台没有编号为 {objection_id} 的异议。")
_p("change_not_found", 404, "Art. 11", "重大事项变更不存在", "Major change not found",
   "该平台没有这个编号的重大事项变更。", "The platform has no major change with this id.", "核对变更编号。",
   "Check the change's id.", "该平台没有编号为 {change_id} 的重大事项变更。")
_p("subfield_not_found", 404, "Art. 4", "细分领域不存在", "Subfield not found",
   "该政策下没有经决定增列的这一细分领域。", "No such subfield was admitted under the policy.",
   "核对细分领域名称和政策文号。", "Check the subfield's name and the policy.",
   "{policy}下没有经决定增列的细分领域“{subfield}”。")
_p("policy_not_found", 404, "Art. 15", "政策版本不存在", "Policy version not found",
   "没有加载这一文号的政策版本。", "No policy version with this reference is loaded.",
   "GET /policies 列出已加载的版本。", "GET /policies lists those loaded.",
   "没有加载文号为 {policy} 的政策版本。")
_p("position_not_found", 404, None, "日志位置不存在", "Position not found",
   "在该日志大小内没有这个位置的事件。", "There is no event at this position within the size.",
   "使用 0 到日志大小减 1 之间的位置。", "Use a position from 0 to the size minus one.")
_p("size_not_found", 404, None, "日志大小不存在", "Size not found",
   "事件日志还没有这么多条记录。", "The log holds fewer events.", "使用不超过日志大小的值。",
   "Use a size up to the log's.")
_p("invalid_position", 422, None, "日志位置无效", "Invalid position",
   "日志位置从 0 开始。", "Positions start at 0.", _FIX_ZH, _FIX_EN)
_p("invalid_size", 422, None, "旧日志大小无效", "Invalid size",
   "old_size 须在 0 与当前日志大小之间。", "old_size must be between 0 and the log's size.", _FIX_ZH, _FIX_EN)

# --------------------------------------------------------------- Art. 4, 5, 15: subfields and policy
_p("unknown_subfield", 422, "Art. 4", "不是本办法的细分领域", "Unknown subfield",
   "该名称不是政策列出的、也不是市科技局决定增列的细分领域。",
   "The name is not a subfield of the policy nor one the bureau admitted.",
   "从 GET /subfields 中选择；新领域须先由市科技局决定增列。",
   "Choose one from GET /subfields; a new one is first admitted by the bureau.",
   "“{name}”不是{policy}的细分领域（第四条）。")
_p("subfield_already_listed", 409, "Art. 4", "细分领域已列入", "Subfield already listed",
   "该细分领域已在政策所列或已增列的领域中。", "The subfield is already listed or admitted.",
   "直接使用该细分领域。", "Use the subfield as it is.",
   "细分领域“{subfield}”已是{policy}的细分领域。")
_p("subfield_name_required", 422, "Art. 4", "须填写细分领域名称", "Subfield name required",
   "增列细分领域须写明名称。", "Admitting a subfield names it.", "填写 name。", "Give name.")
_p("subfield_taken", 409, "Art. 5", "该细分领域已有平台", "Subfield already held",
   "第五条：原则上每个细分领域只认定一个平台；该领域已有平台自审定起占用。",
   "Art. 5: one platform per subfield in principle, and the subfield is held from an earlier approval.",
   "如确需例外，市科技局在审定时记录书面理由（subfield_exception）。",
   "For an exception the bureau records its written justification with the approval (subfield_exception).",
   "细分领域“{subfield}”已由平台 {holder} 承建；原则上每个细分领域只认定一个平台。")
_p("exception_not_needed", 409, "Art. 5", "无须例外批准", "Exception not needed",
   "该细分领域空闲，审定时无须记录例外。", "The subfield is free: approve without an exception.",
   "去掉 subfield_exception。", "Omit subfield_exception.", "细分领域“{subfield}”空闲，无须例外批准。")
_p("no_policy_in_force", 409, "Art. 15", "申请日无有效政策", "No policy in force",
   "第十五条：申请适用申请日有效的政策版本；该日期没有有效版本（长科发〔2021〕36号自 2021-11-12 起施行两年）。",
   "Art. 15: an application is governed by the policy in force on its date, and none is on that date.",
   "核对申请日期；后续政策由运维用 PLATFORMS_POLICY_DIR 加载。",
   "Check the date; the operator loads a successor policy with PLATFORMS_POLICY_DIR.",
   "{date} 没有有效的政策版本，请加载后续政策。")
_p("calendar_not_loaded", 409, "Art. 8(6)", "工作日安排未加载", "Working-day schedule not loaded",
   "计算公示期或期限需要该年度的国务院节假日安排，而它尚未加载；系统从不按周末推测。",
   "The rule needs that year's official working-day schedule, which is not loaded; weekends are never guessed.",
   "运维用 PLATFORMS_CALENDAR_FILE 加载该年度的放假安排。",
   "The operator loads that year's holiday notice with PLATFORMS_CALENDAR_FILE.",
   "{year} 年的法定工作日安排尚未加载，请用 PLATFORMS_CALENDAR_FILE 加载国务院当年放假通知。")

# --------------------------------------------------------------- Art. 6, 7: conditions
_p("basic_conditions_missing", 409, "Art. 6", "缺少基本条件", "Basic conditions missing",
   "第六条：申请须载明技术实力与影响力、开放共享能力、可考核的开放服务机制与组织；形式审查时缺少任一项不予受理。",
   "Art. 6: the application states technical strength, open sharing and an assessable open-service "
   "mechanism; formal review cannot accept it without them.",
   "补充申请材料后重新申请（现在申请时即须填写这三项）。",
   "Apply again with the three conditions (they are now required when applying).",
   "申请缺少基本条件：{missing}。")
_p("high_tech_certificate_missing", 409, "Art. 7(1)", "缺少高新技术企业证书", "High-tech certificate missing",
   "第七条：依托单位须为持证的高新技术企业。", "Art. 7: the host unit is a high-tech enterprise with a certificate.",
   "填写 host_unit.high_tech_certificate 的证书编号和有效期。", "Give the certificate's number and valid_until.")
_p("high_tech_certificate_expired", 409, "Art. 7(1)", "高新技术企业证书已过期", "High-tech certificate expired",
   "第七条：依托单位的高新技术企业证书须在申请日和认定日有效。",
   "Art. 7: the host unit's certificate is valid on the application date and again at recognition.",
   "由市科技局记录续期后的证书（POST /platforms/{id}/high-tech-certificate）。",
   "Have the bureau record the renewed certificate (POST /platforms/{id}/high-tech-certificate).",
   "高新技术企业证书已于 {valid_until} 到期，早于 {business_date}。")
_p("certificate_not_renewed", 409, "Art. 7(1)", "不是续期证书", "Certificate not renewed",
   "记录的新证书有效期须晚于现有证书。", "A renewed certificate runs beyond the one on file.",
   "核对证书有效期。", "Check the certificate's valid_until.", "现有证书有效期至 {current}，续期证书须晚于此日。")
_p("certificate_number_required", 422, "Art. 7(1)", "须填写证书编号", "Certificate number required",
   "须填写高新技术企业证书编号。", "The certificate's number is required.", "填写 number。", "Give number.")
_p("commitments_missing", 409, "Art. 7(1)", "缺少持续投入承诺", "Commitments missing",
   "第七条：依托单位须承诺持续投入资金、人才和基础设施。",
   "Art. 7: the host unit commits continuous funding, talent and infrastructure.", "填写 commitments。",
   "Give commitments.")
_p("achievement_missing", 409, "Art. 7(2)", "缺少中试或产业化成果", "Achievement missing",
   "第七条：依托单位须有处于中试或产业化阶段的人工智能成果。",
   "Art. 7: the host unit has an AI achievement at pilot or industrial stage.",
   "在 achievements 中列出 stage 为 pilot 或 industrial 的成果。",
   "List an achievement with stage pilot or industrial.")
_p("invalid_credit_code", 422, "Art. 8(1)", "统一社会信用代码有误", "Invalid credit code",
   "统一社会信用代码须为 18 位，且校验码正确（GB 32100-2015）。",
   "A unified social credit code has 18 characters and a correct check character (GB 32100-2015).",
   "对照营业执照核对代码。", "Check the code against the business licence.")

# --------------------------------------------------------------- Art. 8: the procedure
_p("wrong_stage", 409, "Art. 8", "当前阶段不能办理", "Wrong stage",
   "该事项只能在平台处于特定阶段时办理（第八条至第十三条的顺序）；article 指出具体条款。",
   "The act is made only at certain stages of the procedure (Art. 8–13); article names the one.",
   _RELOAD_ZH, _RELOAD_EN, "平台当前状态为 {status}，不能办理该事项。")
_p("already_scored", 409, "Art. 8(3)", "专家已评分", "Already scored",
   "第八条：每位专家只评分一次。", "Art. 8: each expert scores once.", "无须重复评分。",
   "Nothing to do: the score stands.",
   "专家 {expert} 已对该申请评分。")
_p("expert_conflict_of_interest", 409, "Art. 8(3)", "专家须回避", "Expert must recuse",
   "第八条：与依托单位或共建单位有关联的专家须回避，不得评分。",
   "Art. 8: an expert affiliated with the host unit or a co-builder may not score.",
   "由其他专家评分。", "Have another expert score.", "专家 {expert} 与依托单位或共建单位有关联，须回避。")
_p("expert_name_required", 422, "Art. 8(3)", "须填写专家姓名", "Expert name required",
   "纸质评分表须写明专家姓名。", "A paper score sheet names its expert.", "填写 expert_name。", "Give expert_name.")
_p("sheets_required", 422, "Art. 8(3)", "须有评分表", "Score sheets required",
   "评审会至少录入一张评分表。", "A review meeting records at least one score sheet.", "填写 sheets。", "Give sheets.")
_p("invalid_scores", 422, "Art. 8(3)", "评分格式错误", "Invalid scores",
   "scores 须为“评分项 → 分数”的对象。", "scores is an object of criterion → points.", _FIX_ZH, _FIX_EN)
_p("unknown_criterion", 422, "Art. 8(3)", "不是评分项", "Unknown criterion",
   "该项不在政策的评分细则中。", "The criterion is not in the policy's rubric.", "只填写评分细则列出的项。",
   "Score only the rubric's criteria.", "“{criterion}”不是评分细则中的评分项。")
_p("missing_score", 422, "Art. 8(3)", "缺少评分项", "Missing score",
   "评分细则的每一项都须评分。", "Every criterion of the rubric is scored.", "补全缺少的评分项。",
   "Score the missing criterion.",
   "缺少评分项 {criterion}（{title}）。")
_p("invalid_score", 422, "Art. 8(3)", "分数无效", "Invalid score",
   "分数须在 0 至该项满分之间，最多一位小数。", "A score is from 0 to the criterion's maximum, at most one decimal.",
   _FIX_ZH, _FIX_EN, "{criterion} 的分数须在 0 至 {max_points} 之间，最多一位小数。")
_p("not_enough_scores", 409, "Art. 8(3)", "评分专家不足", "Not enough scores",
   "按政策的计分方法，评分专家人数不足以计算结果。", "The scoring method needs more expert totals.",
   "待更多专家评分后再计算。", "Wait for more experts to score.",
   "计分方法至少需要 {needed} 位专家的评分，现有 {got} 位。")
_p("publicity_before_approval", 409, "Art. 8(6)", "公示早于审定", "Publicity before approval",
   "公示不能早于审定日期。", "Publicity cannot start before the approval date.", "核对公示开始日期。",
   "Check the start date.")
_p("not_publicized", 409, "Art. 8(6)", "平台尚未公示", "Not publicized",
   "该平台尚未公示，无从提出异议或办理后续事项。", "The platform has not been publicized yet.",
   _RELOAD_ZH, _RELOAD_EN)
_p("publicity_window_open", 409, "Art. 8(6)", "公示期未结束", "Publicity window open",
   "第八条：公示期（5 个工作日）结束后才能行文下达。",
   "Art. 8: the joint notice follows the close of the 5-working-day publicity window.",
   "公示期结束后再办理。", "Issue the notice after the window closes.", "公示期至 {last_day} 结束，之后才能行文下达。")
_p("objections_unresolved", 409, "Art. 8(6)", "异议尚未处理完毕", "Objections unresolved",
   "第八条：所有有效异议处理完毕后才能行文下达、认定或拨付。",
   "Art. 8: every admissible objection is resolved before the notice, recognition or funding.",
   "先处理这些异议（POST /platforms/{id}/objections/{n}/resolution）。",
   "Resolve them first (POST /platforms/{id}/objections/{n}/resolution).", "异议 {objections} 尚未处理完毕。")
_p("objection_already_resolved", 409, "Art. 8(6)", "异议已处理", "Objection already resolved",
   "该异议已有处理结果。", "The objection was already resolved.", "无须重复处理。", "Nothing to do.",
   "异议 {objection_id} 已有处理结果。")
_p("resolution_before_objection", 409, "Art. 8(6)", "处理日期早于收到异议", "Resolution before objection",
   "异议的处理日期不能早于收到异议的日期。", "A resolution is never dated before the objection was received.",
   "核对处理日期。", "Check the date.", "处理日期 {business_date} 早于收到异议的日期 {received_on}。")
_p("objection_upheld_after_publicity", 409, "Art. 8(6)", "公示后不能撤销审定", "Upheld after publicity",
   "只有在公示期内，或针对公示期内收到、行文后才录入的异议，才能以异议成立撤销审定。",
   "Only during publicity, or on an admissible objection recorded after the notice, can an upheld "
   "objection rescind the approval.", "核对异议的收到日期。", "Check the objection's receipt date.")
_p("batch_ref_taken", 409, "Art. 8(6)", "公示批次编号已存在", "Batch reference taken",
   "已有同一编号的公示批次。", "A publicity batch with this reference exists.", "换一个批次编号。",
   "Use another reference.",
   "公示批次 {batch_ref} 已存在。")
_p("batch_ref_not_a_path_segment", 422, "Art. 8(6)", "批次编号不可用", "Batch reference not usable",
   "批次编号会出现在公开网址中，不能含“/”，也不能是“.”或“..”。",
   "A batch reference appears in public addresses: no '/', and not '.' or '..'.", _FIX_ZH, _FIX_EN)
_p("platform_ids_required", 422, "Art. 8(6)", "须列出平台", "Platforms required",
   "公示批次至少列出一个平台。", "A batch lists at least one platform.", "填写 platform_ids。", "Give platform_ids.")
_p("duplicate_platform", 422, "Art. 8(6)", "平台重复", "Duplicate platform",
   "同一平台在批次中列了两次。", "A platform is listed twice.", "去掉重复的平台。", "Remove the duplicate.")
_p("mixed_publicity_rules", 409, "Art. 8(6)", "公示规则不同", "Mixed publicity rules",
   "适用不同公示规则的平台须分批公示。",
   "Platforms under policies with different publicity rules need separate batches.",
   "按政策版本分批。", "Publicize them in separate batches.")

# --------------------------------------------------------------- Art. 8(7), 9: task book and acceptance
_p("task_book_not_signed", 409, "Art. 9(1)", "尚未签订任务书", "Task book not signed",
   "该平台尚未签订建设任务书。", "The platform has no signed task book.", "先签订任务书。", "Sign the task book first.")
_p("indicators_required", 422, "Art. 8(7)", "须列出考核指标", "Indicators required",
   "建设任务书须列出考核指标。", "The task book lists its indicators.", "填写 indicators。", "Give indicators.")
_p("indicators_invalid", 422, "Art. 11", "考核指标格式错误", "Invalid indicators",
   "考核指标变更的新值须为非空的 {name, target} 列表。",
   "A change of indicators is a non-empty list of {name, target}.",
   _FIX_ZH, _FIX_EN)
_p("period_before_notice", 422, "Art. 9(1)", "实施期早于行文", "Period before notice",
   "实施期不能早于行文下达。", "The execution period cannot start before the notice.", "核对 period_start。",
   "Check period_start.")
_p("period_end_before_start", 422, "Art. 9(1)", "实施期结束早于开始", "Period ends before it starts",
   "period_end 早于 period_start。", "period_end is before period_start.", "核对实施期。", "Check the period.")
_p("period_reason_required", 409, "Art. 9(1)", "须说明实施期理由", "Period reason required",
   "第九条：实施期原则上为一年；其他期限须记录理由。",
   "Art. 9: the execution period is one year in principle; another needs its recorded reason.",
   "填写 period_reason，或改为一年。", "Give period_reason, or make it one year.",
   "实施期 {period_start} 至 {period_end} 不是原则上的一年，须说明理由。")
_p("period_reason_not_needed", 409, "Art. 9(1)", "无须说明实施期理由", "Period reason not needed",
   "实施期为一年时无须说明理由。", "A one-year period needs no reason.", "去掉 period_reason。", "Omit period_reason.",
   "实施期 {period_start} 至 {period_end} 为一年，无须说明理由。")
_p("task_book_judged", 409, "Art. 11", "任务书版本已验收", "Task book version judged",
   "已经验收评审的任务书版本不能再变更。", "No change rewrites a task book version already judged.",
   "无须再报告该变更。", "The judged version stands.",
   "{reviewed_on} 的验收评审已评定任务书第 {version} 版，其考核指标不能再变更。")
_p("new_value_required", 422, "Art. 10", "须填写变更后的内容", "New value required",
   "重大事项变更须写明变更后的内容。", "A major change states its new value.", "填写 new_value。", "Give new_value.")
_p("change_pending", 409, "Art. 11", "重大事项变更待决定", "Major change pending",
   "第十一条：重大事项变更未经市科技局决定前，暂停验收评审、认定和拨付。",
   "Art. 11: an undecided major change holds up the acceptance review, recognition and funding.",
   "由市科技局先决定该变更。", "Have the bureau decide the change first.",
   "重大事项变更 {changes} 尚未决定，须先由市科技局决定。")
_p("change_already_decided", 409, "Art. 11", "变更已决定", "Change already decided",
   "该重大事项变更已有决定。", "The major change was already decided.", "无须重复决定。", "Nothing to do.",
   "重大事项变更 {change_id} 已有决定。")
_p("acceptance_deadline_passed", 409, "Art. 9(1)", "验收申请已逾期", "Acceptance deadline passed",
   "第九条：实施期满后一个月内申请验收；逾期须由市科技局记录后决定终止或受理。",
   "Art. 9: acceptance is applied for within one month of the period's end; after that the bureau "
   "terminates or admits a late application.",
   "请市科技局受理逾期申请（late-acceptance-admission）。", "Ask the bureau to admit a late application.",
   "验收申请应于 {acceptance_due} 前提出。")
_p("acceptance_deadline_not_passed", 409, "Art. 9(1)", "验收申请未逾期", "Deadline not passed",
   "验收申请期限尚未届满，不能记录逾期。", "The acceptance deadline has not passed.", "期限届满次日再记录。",
   "Record the miss the day after the deadline.",
   "验收申请期限为 {acceptance_due}，{business_date} 尚未逾期。")
_p("acceptance_deadline_miss_recorded", 409, "Art. 9(1)", "逾期已记录", "Miss already recorded",
   "该平台的验收申请逾期已经记录。", "The missed deadline was already recorded.", "无须重复记录。", "Nothing to do.",
   "验收申请逾期已于 {missed_on} 记录。")
_p("acceptance_deadline_not_missed", 409, "Art. 9(1)", "未记录逾期", "Deadline not missed",
   "该平台没有记录验收申请逾期（逾期次日由系统记录）。",
   "No missed acceptance deadline is recorded for this platform (the deadline watch records it the day after).",
   "按时申请验收无须受理逾期；终止请选择其他理由。",
   "An application in time needs no admission; terminate on another ground.")
_p("late_acceptance_already_admitted", 409, "Art. 9(1)", "已受理逾期申请", "Late application already admitted",
   "逾期验收申请已经受理过。", "A late acceptance application was already admitted.", "无须重复受理。",
   "Nothing to do.",
   "逾期验收申请已于 {admitted_on} 受理。")
_p("panel_required", 422, "Art. 9(2)", "须列出验收专家", "Panel required",
   "验收专家组须写明专家。", "The acceptance panel names its experts.", "填写 panel。", "Give panel.")
_p("indicator_results_mismatch", 409, "Art. 9(2)", "指标结果不对应", "Indicator results mismatch",
   "验收结果须逐一对应任务书的考核指标，不多不少。", "The results cover exactly the task book's indicators.",
   "按任务书当前版本的指标填写。", "Give one result per indicator of the task book.",
   "验收结果须逐一对应任务书的考核指标（缺少：{missing}；多出：{unknown}）。")
_p("qualified_contradicts_results", 409, "Art. 9(2)", "合格结论与经费使用不符", "Qualified contradicts results",
   "建设经费使用不合规时不能得出合格结论。", "A qualified conclusion needs compliant use of the construction funds.",
   "核对结论和经费使用情况。", "Check the conclusion and the funds' use.")
_p("ground_not_available", 409, "Art. 9(1)", "不能以此理由终止", "Ground not available",
   "该终止理由在平台当前阶段不适用。", "The termination ground does not apply at the platform's stage.",
   "选择适用的终止理由（见 docs/API.md）。", "Choose a ground that applies (docs/API.md).")

# --------------------------------------------------------------- Art. 9(3), 13: recognition, funding, recovery
_p("plaque_no_required", 422, "Art. 9(3)", "须填写牌匾编号", "Plaque number required",
   "认定授牌须填写牌匾编号。", "Recognition records the plaque's number.", "填写 plaque_no。", "Give plaque_no.")
_p("already_funded", 409, "Art. 9(3)", "已拨付", "Already funded",
   "第九条：建设资金一次性拨付，已经拨付过。", "Art. 9: the grant is paid once, and it has been.", "无须重复拨付。",
   "Nothing to do.")
_p("funding_amount_mismatch", 409, "Art. 9(3)", "拨付金额不符", "Funding amount mismatch",
   "拨付金额须等于政策规定的金额（100 万元）。", "The grant is the policy's amount (1,000,000.00 yuan).",
   "按政策金额拨付。", "Pay the policy's amount.", "按{policy}应拨付 {due} 元，而不是 {amount} 元。")
_p("amount_not_positive", 422, "Art. 13", "金额须为正数", "Amount not positive",
   "追回金额须大于零。", "The amount must be positive.", _FIX_ZH, _FIX_EN)
_p("recovery_exceeds_disbursed", 409, "Art. 13", "追回超过已拨付", "Recovery exceeds disbursement",
   "追回金额不能超过尚未追回的已拨付金额。", "A recovery cannot exceed the unrecovered grant.",
   "核对金额。", "Check the amount.", "已拨付资金中尚未追回的只有 {remaining} 元。")

# --------------------------------------------------------------- archive import (档案导入)
_p("archive_refused", 422, None, "档案未能导入", "Archive refused",
   "档案中有不能记录的行，整份档案未记录任何内容；refusals 列出每一行的原因。",
   "Lines of the archive were refused and nothing was recorded; refusals lists each line's reason.",
   "按 refusals 修改档案后重新导入（可先用 dry_run）。",
   "Fix the lines refusals lists and import again (dry_run first).",
   "{count} 行未通过，未记录任何内容。")
_p("archive_import_interrupted", 409, None, "档案导入中断", "Archive import interrupted",
   "验证后系统数据发生变化，导入在中途被拒绝；已记录的部分保留，导入保持打开。",
   "The store changed between validation and recording; what was recorded stands and the import stays open.",
   "解决冲突后再次发送同一文件以继续导入。", "Settle the conflict and send the same file again to resume.")
_p("archive_import_of_another_clerk", 409, None, "由其他经办人继续", "Import of another clerk",
   "中断的导入须由开始它的经办人继续。", "An interrupted import is resumed by the clerk who started it.",
   "由原经办人继续导入。", "Have the same clerk resume it.")
_p("archive_already_imported", 409, None, "档案已导入", "Archive already imported",
   "同一文件（按 SHA-256）已经导入过。", "The same file (by its SHA-256) was imported before.", "无须重复导入。",
   "Nothing to do.",
   "该档案已于 {completed_on} 导入。")
_p("archive_import_abandoned", 409, None, "档案导入已放弃", "Archive import abandoned",
   "该档案的导入已被放弃，已记录的部分保留。", "The import of this archive was abandoned; what it recorded stands.",
   "修改档案后作为新文件导入。", "Import a corrected archive as a new file.")
_p("archive_import_not_running", 409, None, "没有进行中的导入", "No import running",
   "该档案没有正在进行的导入。", "No import of this archive is running.", "无须放弃。", "Nothing to abandon.")
_p("archive_empty", 422, None, "档案为空", "Empty archive",
   "档案中没有任何办理事项。", "The archive holds no act.", "检查文件。", "Check the file.")
_p("line_too_long", 422, None, "档案行过长", "Line too long",
   "档案每行一个事项，长度有上限。", "A line holds one act, within a size limit.", "检查该行。", "Check the line.")
_p("unknown_act", 422, None, "未知的事项", "Unknown act",
   "该行的 act 不是可导入的事项。", "The line's act is not one an archive may hold.", "见 docs/IMPORT.md 的事项列表。",
   "docs/IMPORT.md lists the acts.")
_p("clerk_role_not_allowed", 422, None, "经办人须为市科技局", "Clerk must be of the bureau",
   "档案由市科技局的经办人导入。", "Archives are imported by a clerk of the bureau.", "以市科技局账号导入。",
   "Import as a bureau account.")
_p("role_not_allowed", 422, None, "角色不能办理该事项", "Role not allowed",
   "档案中该事项的办理人角色不对。", "The act is not one of this actor's role.", "核对该行的 actor.role。",
   "Check actor.role.")
_p("too_many_documents", 422, None, "文件过多", "Too many documents",
   "该事项的 documents 多于它的文号字段。", "The act names more documents than it has reference fields.",
   "核对 documents。", "Check documents.")
_p("field_of_the_line", 422, None, "字段应写在行上", "Field of the line",
   "业务日期和文号由行的 business_date、documents 给出，不写在 data 中。",
   "The business date and the documents are given by the line, not in data.", "移到行上。", "Move it to the line.")
_p("platform_required", 422, None, "须写明平台", "Platform required",
   "该事项须写明其平台在档案中的键。", "The act names its platform's key in the archive.", "填写 platform。",
   "Give platform.")
_p("platform_key_taken", 422, None, "平台键重复", "Platform key taken",
   "档案中已有同一键的申请。", "The archive applied for this key already.", "换一个键。", "Use another key.")
_p("unknown_platform", 422, None, "档案中没有该平台", "Unknown platform",
   "档案前文没有该平台的申请。", "No platform with this key applied earlier in the archive.",
   "核对 platform 键与申请行的顺序。", "Check the key and the order of the lines.")
_p("unknown_objection", 422, None, "档案中没有该异议", "Unknown objection",
   "档案前文没有该异议。", "No such objection was recorded earlier in the archive.", "核对 ref。", "Check ref.")
_p("unknown_change", 422, None, "档案中没有该变更", "Unknown change",
   "档案前文没有该重大事项变更。", "No such major change was recorded earlier in the archive.", "核对 ref。",
   "Check ref.")
_p("public_actor", 422, None, "异议人为公众", "Public actor",
   "异议是公众的事项，异议人姓名写在 data.objector_name。",
   "An objection is the act of 'public'; its objector is named in data.",
   "把 actor 设为 public。", "Set actor to public.")

# --------------------------------------------------------------- audit (审计)
_p("log_not_intact", 409, None, "日志未通过核验", "Log not intact",
   "事件日志核验未通过，不能签名检查点。", "The log did not verify: no checkpoint is signed.",
   "运行 platforms audit verify 查明原因，告知审计。", "Run platforms audit verify and tell the auditors.")
_p("no_checkpoint", 404, None, "尚无检查点", "No checkpoint",
   "系统尚未签名任何检查点。", "No checkpoint has been signed yet.", "稍后再试。", "Try later.")
_p("no_signed_note", 406, None, "检查点无签名文本", "No signed note",
   "最新检查点签于系统提供签名文本之前。", "The latest checkpoint predates the signed notes.",
   "改为请求 JSON，或等待下一个检查点。", "Ask for JSON, or wait for the next checkpoint.")
_p("witness_config_invalid", 503, None, "见证方配置无法读取", "Witness configuration invalid",
   "见证方列表无法读取，已告知运维。", "The list of witnesses cannot be read; the operator has been told.",
   "稍后重试。", "Retry later.")
_p("unknown_witness", 403, None, "未知见证方", "Unknown witness",
   "该联署签名的密钥不是已配置的见证方。", "The cosignature's key is not a configured witness.",
   "请运维把见证方加入 PLATFORMS_WITNESS_KEYS。",
   "Ask the operator to list the witness in PLATFORMS_WITNESS_KEYS.")
_p("malformed_checkpoint", 422, None, "检查点文本格式错误", "Malformed checkpoint",
   "不是检查点文本。", "Not a checkpoint text.", "发送系统签名的检查点原文。", "Send the checkpoint text as signed.")
_p("malformed_cosignature", 422, None, "联署签名格式错误", "Malformed cosignature",
   "不是签名行。", "Not a note signature line.", "发送一行签名。", "Send one signature line.")
_p("bad_cosignature", 422, None, "联署签名无法验证", "Bad cosignature",
   "联署签名与该检查点不符。", "The cosignature does not verify over this checkpoint.", "核对签名。",
   "Check the signature.")
_p("cosignature_in_future", 422, None, "联署签名时间在未来", "Cosignature in the future",
   "联署签名的时间晚于现在。", "The cosignature is dated after now.", "校准见证方时钟。", "Fix the witness's clock.")
_p("unknown_checkpoint", 404, None, "检查点不存在", "Unknown checkpoint",
   "本系统没有签名过这一检查点。", "No such checkpoint was signed here.", "联署本系统签名的检查点。",
   "Cosign a checkpoint signed here.")


CATALOGUE: dict[str, ProblemType] = {p.code: p for p in _ENTRIES}
if len(CATALOGUE) != len(_ENTRIES):  # a code listed twice would silently hide one of its texts
    raise RuntimeError("a problem code is listed twice in the catalogue")

_UNLISTED = ProblemType("unlisted", 400, None, "请求被拒绝", "Request refused", "请求被拒绝。",
   "The request was refused.",
                        "查看 detail。", "Read the detail.")


def headline(code: str) -> str:
    """``code`` with its titles, as the command line names a refusal:
    ``subfield_taken (该细分领域已有平台 / Subfield already held)``."""
    kind = problem_type(code)
    return f"{code} ({kind.title_zh} / {kind.title_en})"


def problem_type(code: str) -> ProblemType:
    """The catalogue's entry for ``code`` (a generic one for a code missing from it, which the
    catalogue test forbids: the service still answers rather than fail on its own refusal)."""
    return CATALOGUE.get(code, _UNLISTED)


__all__ = ["ProblemType", "CATALOGUE", "problem_type", "headline", "article_zh", "Language", "POLICY"]
