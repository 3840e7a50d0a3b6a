"""The form of a policy file (政策版本), as a pydantic model: what :class:`~aggregates.policy.Policy`
is read from.

Every setting is an object carrying its value and the article it restates (Art. 15: the numbers
of a regulation are data, each traceable to its article); nothing is coerced (a funding amount
is text, never a JSON number a float could round; a flag is ``true`` or ``false``, never
``"yes"``), and no field may be missing or unknown, so a typo in an operator's file stops the
service at start-up instead of deciding applications under a default. A refusal names the file
and the field (``publicity.working_days``, ``rubric[0].criterion``). Rules across fields (a
rubric summing to 100, windows in order) are the :class:`~aggregates.policy.Policy`'s own.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

_CENT = Decimal("0.01")
_ARTICLE = re.compile(r"^Art\. \d+")
_CRITERION_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("expected non-empty text")
    return value.strip()


def _article(value: str) -> str:
    if not _ARTICLE.match(value):
        raise ValueError(f"expected an article such as 'Art. 8(6)', got {value!r}")
    return value


def _date(value: object) -> date:
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("expected YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a calendar date") from None


def _money(value: object) -> Decimal:
    if not isinstance(value, str):
        raise ValueError('expected an amount in yuan as text, e.g. "1000000.00"')
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number <= 0:
        raise ValueError(f"expected a positive amount, got {value!r}")
    if number != number.quantize(_CENT):
        raise ValueError(f"at most 2 decimal places (fen), got {value!r}")
    return number.quantize(_CENT)


def _criterion_id(value: str) -> str:
    if not _CRITERION_ID.match(value):
        raise ValueError("expected a snake_case id")
    return value


Text = Annotated[str, AfterValidator(_text)]
Article = Annotated[Text, AfterValidator(_article)]
IsoDate = Annotated[date, BeforeValidator(_date)]
PositiveInt = Annotated[int, Field(ge=1)]
# Text, never a JSON number: binary floats cannot hold every amount to the fen.
Money = Annotated[Decimal, BeforeValidator(_money)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Setting(_Strict):
    """A setting's article, and an optional note quoting the regulation."""

    article: Article
    note: Text | None = None


class DateSetting(Setting):
    value: IsoDate


class OpenDateSetting(Setting):
    value: IsoDate | None  # present, null: in force until a successor is loaded


class SubfieldsSetting(Setting):
    value: Annotated[list[Text], Field(min_length=1)]


class PublicitySetting(Setting):
    working_days: PositiveInt
    start_day_counts: bool


class CountSetting(Setting):
    value: PositiveInt


class MoneySetting(Setting):
    value: Money


class MethodSetting(Setting):
    value: Literal["mean", "trimmed_mean"]


class CriterionEntry(_Strict):
    criterion: Annotated[Text, AfterValidator(_criterion_id)]
    title: Text
    max_points: PositiveInt
    article: Article


class PolicyFile(_Strict):
    """One policy file, field by field (see ``aggregates/policies/changkefa-2021-36.json``)."""

    policy: Text
    title: Text
    demonstration: bool
    effective_from: DateSetting
    effective_to: OpenDateSetting
    subfields: SubfieldsSetting
    publicity: PublicitySetting
    execution_period_months: CountSetting
    acceptance_window_months: CountSetting
    funding_amount: MoneySetting
    rubric: Annotated[list[CriterionEntry], Field(min_length=1)]
    min_experts: CountSetting
    scoring_method: MethodSetting

    def articles(self) -> dict[str, str]:
        """The article of each setting (the rubric's: its criteria's, in order), for refusals."""
        settings = ("effective_from", "effective_to", "subfields", "publicity", "scoring_method",
                    "execution_period_months", "acceptance_window_months", "funding_amount", "min_experts")
        articles = {name: getattr(self, name).article for name in settings}
        articles["rubric"] = ", ".join(dict.fromkeys(c.article for c in self.rubric))
        return articles


def first_problem(exc: ValidationError) -> tuple[str | None, str]:
    """The field (``publicity.working_days``, ``rubric[0].criterion``; None for the document
    itself) and the problem of the first error pydantic found, in the words of an operator."""
    error = exc.errors(include_url=False)[0]
    field = ""
    for part in error["loc"]:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    kind = error["type"]
    if kind == "missing":
        problem = "is missing"
    elif kind == "extra_forbidden":
        problem = "is not a known field"
    elif kind == "model_type":
        problem = "expected a JSON object"
    elif kind == "value_error":
        problem = str(error["ctx"]["error"])
    else:
        problem = f"{error['msg'][0].lower()}{error['msg'][1:]}, got {error['input']!r}"
    return field or None, problem
