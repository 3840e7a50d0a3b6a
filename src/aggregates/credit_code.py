"""The unified social credit code (统一社会信用代码, GB 32100-2015) that identifies a host unit.

Art. 8(1) of 长科发〔2021〕36号: the host unit (依托单位) applies in its own name; the system keys it
by its 18-character code, so a mistyped code must be refused at the door rather than create a
second, phantom host unit. Structure and what is checked:

- 1: registration authority (登记管理部门代码): one of 1–9, A, N, Y;
- 2: organisation category (机构类别代码): in the code alphabet;
- 3–8: administrative division of the registering office (登记管理机关行政区划码): six digits;
- 9–17: subject identifier (主体标识码, the former organisation code): in the code alphabet;
- 18: check character (校验码): 31 minus the weighted sum mod 31, 31 meaning "0".

The alphabet is ``0-9`` and the capitals without I, O, Z, S, V (too easily confused with 1, 0, 2, 5
and U).
"""

from __future__ import annotations

from aggregates.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# 1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会, 9 工商/市场监管,
# A 中央军委改革和编制办公室, N 农业 (农村集体经济组织), Y 其他. Not digits only: a rural
# collective or an organisation registered by "other" authorities carries a letter here.
REGISTRATION_AUTHORITIES = "123456789ANY"

_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}


def _fail(message: str, field: str) -> InvalidInput:
    return InvalidInput("invalid_credit_code", message, field=field)


def _check_character(first17: str) -> str:
    total = sum(_VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]  # 31 - 0 = 31 wraps to "0"


def _check_body(body: str, field: str) -> None:
    """Alphabet and structure of the first 17 characters, with a message saying where."""
    for position, ch in enumerate(body, start=1):
        if ch not in _VALUES:
            hint = " (I, O, Z, S and V are never used)" if ch in "IOZSV" else ""
            raise _fail(f"character {position} is {ch!r}, which is not allowed in a credit code{hint}", field)
    if body[0] not in REGISTRATION_AUTHORITIES:
        raise _fail(
            f"character 1 is {body[0]!r}, which is not a registration authority code "
            f"(one of {', '.join(REGISTRATION_AUTHORITIES)})",
            field,
        )
    if not body[2:8].isdigit():
        raise _fail(f"characters 3–8 must be the 6-digit administrative division code, got {body[2:8]!r}", field)


def normalise_credit_code(code: str) -> str:
    """The one spelling of a credit code, whitespace removed and upper case, in which codes are
    kept and compared (a host unit, an expert's affiliation, a search for a host unit's
    platforms): the same unit typed twice is one unit."""
    return "".join(code.split()).upper()


def validate_credit_code(code: str, field: str = "credit_code") -> str:
    """Return ``code`` normalised (:func:`normalise_credit_code`) if it is a valid unified social
    credit code; otherwise raise ``InvalidInput("invalid_credit_code", …, field=field)`` saying
    what is wrong, including the expected check character."""
    if not isinstance(code, str):
        raise _fail("the credit code must be text of 18 characters", field)
    normalised = normalise_credit_code(code)
    if len(normalised) != 18:
        raise _fail(f"a credit code has 18 characters, got {len(normalised)}", field)
    _check_body(normalised[:17], field)
    last = normalised[17]
    if last not in _VALUES:
        raise _fail(f"character 18 is {last!r}, which is not allowed in a credit code", field)
    expected = _check_character(normalised[:17])
    if last != expected:
        raise _fail(
            f"check character is {last!r} but {normalised[:17]} requires {expected!r}; "
            "the code is mistyped",
            field,
        )
    return normalised


def with_check_character(first17: str) -> str:
    """Complete 17 characters into a valid 18-character code (demo data and tests)."""
    body = normalise_credit_code(first17)
    if len(body) != 17:
        raise _fail(f"expected the first 17 characters of a credit code, got {len(body)}", "credit_code")
    _check_body(body, "credit_code")
    return body + _check_character(body)
