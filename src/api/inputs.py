"""The one validation of input at the edge (入口校验): every text, number and date a command takes.

Names, refs, reasons and objections end up in the permanent log, on the public page, in
exports and in PostgreSQL ``text`` columns. So every free-text field of every command body
(:mod:`api.schemas`) and of the public objection form is checked here, once, by the same rules:

* no NUL, no C0 control but newline and tab (a CR LF or lone CR is read as a newline), no DEL
  or C1 control, no bidi embedding, override or isolate (U+202A–202E, U+2066–2069: they make a
  name read differently from what it is), no lone surrogate (it cannot be written as UTF-8);
* one-line fields (names, refs) take no newline or tab either;
* numbers in ASCII digits only: Python and pydantic read ``"٣.00"`` or ``"３"`` as 3;
* dates as ``YYYY-MM-DD`` strings only, not a date-time nor a timestamp.

A refusal is a pydantic error, so the API answers 422 naming the field (:mod:`api.errors`).
The objection's own rules (a real text, a phone number or an e-mail address) are here too,
shared by the JSON command and the form: :func:`objection_problems`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\n\t]")
_NAMES = {0: "NUL", 0x7F: "DEL", 0x202A: "LRE", 0x202B: "RLE", 0x202C: "PDF", 0x202D: "LRO",
          0x202E: "RLO", 0x2066: "LRI", 0x2067: "RLI", 0x2068: "FSI", 0x2069: "PDI"}
ASCII_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ASCII_DECIMAL = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"


def _describe(char: str) -> str:
    code = ord(char)
    return f"U+{code:04X}" + (f" ({_NAMES[code]})" if code in _NAMES else "")


def normalize_newlines(text: str) -> str:
    """CR LF and lone CR as LF, as a browser's form and a Windows client send them."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def forbidden_character(text: str, one_line: bool = False) -> str | None:
    """The first character the rules refuse in ``text`` (described), or None."""
    found = _FORBIDDEN.search(text) or (_LINE_BREAKS.search(text) if one_line else None)
    return _describe(found.group(0)) if found else None


def _checker(one_line: bool, min_length: int, max_length: int) -> Any:
    def check(value: str) -> str:
        value = normalize_newlines(value)
        bad = forbidden_character(value, one_line)
        if bad is not None:
            raise PydanticCustomError("forbidden_character", "{what} is not allowed here",
                                      {"what": _what(bad)})
        if one_line:
            value = value.strip()
        # A free text kept as typed, but one made only of spaces and newlines says nothing.
        if len(value if one_line else value.strip()) < min_length:
            raise PydanticCustomError("string_too_short", "at least {n} character(s) of text, not only spaces"
                                      if one_line else "at least {n} character(s)", {"n": min_length})
        if len(value) > max_length:
            raise PydanticCustomError("string_too_long", "at most {n} characters", {"n": max_length})
        return value
    return check


def _what(described: str) -> str:
    return "a line break or tab" if described in {"U+000A", "U+0009"} else f"the control character {described}"


class _Rules(GroupedMetadata):
    """A check and its JSON schema as one annotation (``Annotated[str, line(200)]``), so that the
    field's type stays ``str`` for the type checker; pydantic takes the two in turn."""

    def __init__(self, *rules: Any) -> None:
        self.rules = rules

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rules)


def line(max_length: int, min_length: int = 0) -> _Rules:
    """A one-line text (name, ref), trimmed, within the bounds, by the rules above."""
    return _Rules(AfterValidator(_checker(True, min_length, max_length)),
                  WithJsonSchema(_schema(min_length, max_length, "one line: no line break, tab, control")))


def text(max_length: int, min_length: int = 0) -> _Rules:
    """A free text (reasons, findings, objections) that may span lines."""
    return _Rules(AfterValidator(_checker(False, min_length, max_length)),
                  WithJsonSchema(_schema(min_length, max_length, "no control character but newline and tab")))


def _schema(min_length: int, max_length: int, note: str) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": max_length,
            "description": f"{note}, no NUL, no bidi override"}


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and ASCII_DATE.fullmatch(value)):
        return value
    raise PydanticCustomError("date_only", "a date as YYYY-MM-DD (ASCII digits), not a date-time or a number")


def _ascii_number(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value.strip()):
        raise PydanticCustomError("ascii_number", "a number in ASCII digits (0-9)")
    return value


def ascii_int(text: str, max_digits: int) -> int | None:
    """The whole number ``text`` spells in 1 to ``max_digits`` ASCII digits, else None.

    Headers, tokens and form fields are read with this, never ``str.isdigit()`` then ``int()``:
    ``isdigit`` accepts ``"²"`` (which ``int`` then refuses, a 500) and ``int`` reads ``"３"``,
    ``"٣"``, ``" 7 "`` and ``"1_0"``."""
    return int(text) if re.fullmatch(f"[0-9]{{1,{max_digits}}}", text) else None


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
AsciiNumber = BeforeValidator(_ascii_number)


# ------------------------------------------------------------------------- objections (Art. 8(6))
NAME_MAX = 50
CONTACT_MAX = 100
CONTENT_MIN, CONTENT_MAX = 10, 2000

_MOBILE = re.compile(r"^(?:\+?86)?1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^(?:\+?86)?0[0-9]{2,3}[0-9]{7,8}(?:(?:转|ext\.?|x)[0-9]{1,6})?$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9\u00a0-\uffff](?:[A-Za-z0-9\u00a0-\uffff-]*[A-Za-z0-9\u00a0-\uffff])?"
                    r"(?:\.[A-Za-z0-9\u00a0-\uffff](?:[A-Za-z0-9\u00a0-\uffff-]*[A-Za-z0-9\u00a0-\uffff])?)+$")


def valid_contact(contact: str) -> bool:
    """A mobile number, a landline with its area code (0731-88888888), or an e-mail address."""
    phone = re.sub(r"[\s\-()（）]", "", contact)
    return bool(_MOBILE.match(phone) or _LANDLINE.match(phone) or _EMAIL.match(contact))


@dataclass(frozen=True)
class Refusal:
    """Why a field of an objection is refused: in Chinese for the form, in English for the API."""

    zh: str
    en: str


def _name_problem(name: str) -> Refusal | None:
    if not name:
        return Refusal("请填写姓名或单位名称。", "a name is required")
    if len(name) > NAME_MAX:
        return Refusal(f"姓名或单位名称不能超过 {NAME_MAX} 个字（现为 {len(name)} 个字）。",
                       f"at most {NAME_MAX} characters")
    return None


def _contact_problem(contact: str) -> Refusal | None:
    if not contact:
        return Refusal("请填写联系电话或电子邮箱，以便核实异议。", "a phone number or e-mail address is required")
    if len(contact) > CONTACT_MAX:
        return Refusal(f"联系方式不能超过 {CONTACT_MAX} 个字符。", f"at most {CONTACT_MAX} characters")
    if not valid_contact(contact):
        return Refusal("请填写有效的手机号码、带区号的固定电话（如 0731-88888888）或电子邮箱。",
                       "a mobile number, a landline with its area code, or an e-mail address")
    return None


def _content_problem(content: str) -> Refusal | None:
    if not content:
        return Refusal("请填写异议内容。", "the objection's content is required")
    if len(content) < CONTENT_MIN:
        return Refusal(f"异议内容至少 {CONTENT_MIN} 个字，请写明具体事实和理由（现为 {len(content)} 个字）。",
                       f"at least {CONTENT_MIN} characters stating the facts and reasons, not only spaces")
    if len(content) > CONTENT_MAX:
        return Refusal(f"异议内容不能超过 {CONTENT_MAX} 个字（现为 {len(content)} 个字）。",
                       f"at most {CONTENT_MAX} characters")
    return None


# field -> (one line?, its own rule)
_OBJECTION_RULES = {"objector_name": (True, _name_problem), "contact": (True, _contact_problem),
                    "content": (False, _content_problem)}


def objection_field_problem(field: str, value: str) -> Refusal | None:
    """What is wrong with one field of an objection (trimmed value), or None."""
    one_line, rule = _OBJECTION_RULES[field]
    bad = forbidden_character(value, one_line)
    if bad is not None:
        return Refusal(f"请删除不可见的控制字符（{bad}）或多余的换行。", f"{_what(bad)} is not allowed here")
    return rule(value)


def objection_problems(values: dict[str, str]) -> dict[str, Refusal]:
    """The objection's rules on trimmed values: a name, a contact that can be reached (phone or
    e-mail), and a content of real text. Empty when the objection may be filed."""
    found = {f: objection_field_problem(f, values[f]) for f in _OBJECTION_RULES}
    return {f: r for f, r in found.items() if r is not None}


def clean(value: str) -> str:
    """As the objection's rules read a field: newlines normalised, surrounding spaces trimmed."""
    return normalize_newlines(value).strip()


def objection_field(field: str) -> AfterValidator:
    """The check of one field of the JSON objection (``Annotated[str, objection_field(...)]``):
    the same rules as the form."""
    def check(value: str) -> str:
        value = clean(value)
        refusal = objection_field_problem(field, value)
        if refusal is not None:
            # The form's Chinese sentence travels in the context, for the problem's Chinese detail.
            raise PydanticCustomError("objection_" + field, refusal.en, {"zh": refusal.zh})
        return value
    return AfterValidator(check)


__all__ = ["line", "text", "IsoDate", "ascii_int", "AsciiNumber", "ASCII_DECIMAL", "objection_problems",
           "objection_field", "valid_contact", "clean", "normalize_newlines", "forbidden_character",
           "Refusal", "NAME_MAX", "CONTACT_MAX", "CONTENT_MIN", "CONTENT_MAX"]
