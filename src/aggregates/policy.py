"""Policy versions (政策版本): the regulation's numbers as data, not code.

A policy file restates one regulation — for 长科发〔2021〕36号 the validity window (Art. 15), the
18 subfields (细分领域, Art. 4), the publicity period (公示, Art. 8(6)), the execution period and
acceptance window (执行期/验收申请, Art. 9(1)), the funding amount (建设经费, Art. 9(3)) and the
expert-review rubric and method (专家评审, Art. 8(3), scoring Art. 6 and Art. 7) — with the article
beside each value, so a refusal can cite it and a successor regulation is loaded as a new file
(Art. 15: an application is governed by the version in force on its application date).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aggregates.datafile import read_json_file
from aggregates.errors import InvalidInput, NotFound, RuleViolation
from aggregates.policy_file import PolicyFile, first_problem

BUNDLED_DIR = Path(__file__).parent / "policies"
SCORING_METHODS = ("mean", "trimmed_mean")

_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


class PolicyDataError(ValueError):
    """A policy file that cannot be trusted, naming the offending ``field``. Raised at load time:
    a wrong number here would silently decide applications under the wrong rule."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Criterion:
    """One line of the expert rubric (评审指标), scoring a condition of Art. 6 or Art. 7."""

    criterion: str
    title: str
    max_points: int
    article: str


@dataclass(frozen=True)
class Policy:
    """One version of the regulation's settings; see the module docstring for the articles.

    ``demonstration`` marks an illustrative version shipped for demos and training, never a
    regulation in force; ``articles`` maps each setting to the article it comes from.
    """

    policy: str
    title: str
    demonstration: bool
    effective_from: date
    effective_to: date | None  # None: in force until a successor is loaded
    subfields: tuple[str, ...]
    publicity_working_days: int
    publicity_start_day_counts: bool
    execution_period_months: int
    acceptance_window_months: int
    funding_amount: Decimal
    rubric: tuple[Criterion, ...]
    min_experts: int
    scoring_method: str
    articles: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Cross-field invariants live here so a Policy built in code is as safe as a loaded one.
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise PolicyDataError(
                f"{self.policy}: effective_to {self.effective_to} is before effective_from "
                f"{self.effective_from}",
                "effective_to",
            )
        if len(set(self.subfields)) != len(self.subfields):
            raise PolicyDataError(f"{self.policy}: a subfield is listed twice", "subfields")
        if self.funding_amount != self.funding_amount.quantize(_CENT):
            raise PolicyDataError(f"{self.policy}: funding_amount has more than 2 decimals", "funding_amount")
        ids = [c.criterion for c in self.rubric]
        if len(set(ids)) != len(ids):
            raise PolicyDataError(f"{self.policy}: a rubric criterion id is used twice", "rubric")
        if sum(c.max_points for c in self.rubric) != 100:
            raise PolicyDataError(
                f"{self.policy}: rubric max_points sum to {sum(c.max_points for c in self.rubric)}, "
                "not 100",
                "rubric",
            )
        if self.scoring_method not in SCORING_METHODS:
            raise PolicyDataError(
                f"{self.policy}: scoring_method must be one of {', '.join(SCORING_METHODS)}",
                "scoring_method",
            )
        if self.scoring_method == "trimmed_mean" and self.min_experts < 3:
            # Dropping the highest and the lowest needs at least one total left to average.
            raise PolicyDataError(
                f"{self.policy}: trimmed_mean needs min_experts >= 3, got {self.min_experts}",
                "min_experts",
            )

    # --- loading --------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any, origin: str = "policy") -> Policy:
        """Build a policy from its file form (:class:`~aggregates.policy_file.PolicyFile`),
        refusing any missing, unknown or ill-typed field, naming ``origin`` and the field."""
        try:
            doc = PolicyFile.model_validate(data)
        except ValidationError as exc:
            field, problem = first_problem(exc)
            where = f"{origin}: field '{field}'" if field else origin
            raise PolicyDataError(f"{where}: {problem}", field) from None
        try:
            return cls(
                policy=doc.policy,
                title=doc.title,
                demonstration=doc.demonstration,
                effective_from=doc.effective_from.value,
                effective_to=doc.effective_to.value,
                subfields=tuple(doc.subfields.value),
                publicity_working_days=doc.publicity.working_days,
                publicity_start_day_counts=doc.publicity.start_day_counts,
                execution_period_months=doc.execution_period_months.value,
                acceptance_window_months=doc.acceptance_window_months.value,
                funding_amount=doc.funding_amount.value,
                rubric=tuple(Criterion(c.criterion, c.title, c.max_points, c.article) for c in doc.rubric),
                min_experts=doc.min_experts.value,
                scoring_method=doc.scoring_method.value,
                articles=tuple(doc.articles().items()),
            )
        except PolicyDataError as exc:  # a cross-field invariant: say which file broke it
            raise PolicyDataError(f"{origin}: {exc}", exc.field) from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Policy:
        """Read and validate one policy file."""
        path = Path(path)
        data = read_json_file(path, "policy", PolicyDataError)
        return cls.from_dict(data, origin=str(path))

    # --- rules ----------------------------------------------------------------------------

    def article(self, setting: str) -> str:
        """The article a setting comes from (e.g. ``"publicity"`` → ``"Art. 8(6)"``), for refusals."""
        return dict(self.articles).get(setting, "")

    def in_force_on(self, d: date) -> bool:
        """Whether this version governs an application dated ``d`` (Art. 15, both ends inclusive)."""
        return self.effective_from <= d and (self.effective_to is None or d <= self.effective_to)

    def canonical_subfield(self, name: str, admitted: Sequence[str] = ()) -> str:
        """The official spelling of ``name`` (full-width brackets and stray spaces forgiven), among
        the policy's subfields and those the bureau ``admitted`` under it by a recorded decision
        (Art. 4's "等": :class:`~aggregates.subfield_register.SubfieldRegister`).

        Callers store the returned spelling: two spellings of one subfield would otherwise defeat
        the one-platform-per-subfield rule of Art. 5.
        """
        official = self.listed_subfield(name, admitted)
        if official is not None:
            return official
        raise InvalidInput(
            "unknown_subfield",
            f"{name!r} is not a subfield of {self.policy} (Art. 4); expected one of: "
            + "、".join((*self.subfields, *admitted)),
            field="subfield", params={"name": name, "policy": self.policy},
        )

    def listed_subfield(self, name: str, admitted: Sequence[str] = ()) -> str | None:
        """The listed spelling of ``name`` among the policy's and the ``admitted`` subfields
        (compared as :meth:`canonical_subfield` does), or None."""
        wanted = subfield_key(name)
        for official in (*self.subfields, *admitted):
            if subfield_key(official) == wanted:
                return official
        return None

    def validate_scores(self, scores: Mapping[str, Decimal | int | float | str]) -> dict[str, Decimal]:
        """One expert's scores (评分), checked against the rubric (Art. 8(3), criteria of Art. 6–7).

        Every criterion must be scored, none unknown, each within 0..max_points with at most one
        decimal place. Returns the scores as Decimals in rubric order.
        """
        if not isinstance(scores, Mapping):
            raise InvalidInput("invalid_scores", "scores must be an object of criterion → points", field="scores")
        known = {c.criterion for c in self.rubric}
        for key in scores:
            if key not in known:
                raise InvalidInput(
                    "unknown_criterion",
                    f"{key!r} is not a criterion of the {self.policy} rubric; expected "
                    + ", ".join(c.criterion for c in self.rubric),
                    field=f"scores.{key}", params={"criterion": key},
                )
        result: dict[str, Decimal] = {}
        for c in self.rubric:
            field = f"scores.{c.criterion}"
            if c.criterion not in scores:
                raise InvalidInput(
                    "missing_score", f"no score for {c.criterion} ({c.title}, {c.article})", field=field,
                    params={"criterion": c.criterion, "title": c.title},
                )
            value = _to_decimal(scores[c.criterion])
            if value is None or not 0 <= value <= c.max_points:
                raise InvalidInput(
                    "invalid_score",
                    f"{c.criterion} must be a number from 0 to {c.max_points}, got {scores[c.criterion]!r}",
                    field=field, params={"criterion": c.criterion, "max_points": c.max_points},
                )
            if value != value.quantize(_TENTH):
                raise InvalidInput(
                    "invalid_score",
                    f"{c.criterion} may have at most one decimal place, got {scores[c.criterion]!r}",
                    field=field, params={"criterion": c.criterion, "max_points": c.max_points},
                )
            result[c.criterion] = value.quantize(_TENTH)
        return result

    def result(self, totals: Sequence[Decimal]) -> Decimal:
        """The review result from the experts' totals by ``scoring_method`` (Art. 8(3)):
        ``mean``, or ``trimmed_mean`` (drop the single highest and single lowest total, then
        average). Quantized to 0.01, half up, as the bureau publishes scores."""
        values = [Decimal(str(t)) if not isinstance(t, Decimal) else t for t in totals]
        needed = 3 if self.scoring_method == "trimmed_mean" else 1
        if len(values) < needed:
            raise RuleViolation(
                "not_enough_scores",
                f"{self.scoring_method} needs at least {needed} expert totals, got {len(values)}",
                article=self.article("scoring_method") or "Art. 8(3)",
                policy=self.policy, params={"needed": needed, "got": len(values)},
            )
        if self.scoring_method == "trimmed_mean":
            values = sorted(values)[1:-1]
        return (sum(values, Decimal(0)) / len(values)).quantize(_CENT, rounding=ROUND_HALF_UP)

    def to_public_dict(self) -> dict[str, Any]:
        """The ``GET /policies`` representation (docs/API.md), plus ``title`` and ``demonstration``."""
        return {
            "policy": self.policy,
            "title": self.title,
            "demonstration": self.demonstration,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "subfields": list(self.subfields),
            "funding_amount": f"{self.funding_amount:.2f}",
            "publicity_working_days": self.publicity_working_days,
            "rubric": [{"criterion": c.criterion, "max_points": c.max_points} for c in self.rubric],
            "min_experts": self.min_experts,
            "scoring_method": self.scoring_method,
        }


def subfield_key(name: str) -> str:
    """How two spellings of a subfield are compared: NFKC (full-width brackets are the ASCII
    ones), surrounding spaces dropped."""
    return unicodedata.normalize("NFKC", name).strip()


def _to_decimal(value: object) -> Decimal | None:
    """A finite Decimal from an int, float, Decimal or numeric string; None otherwise."""
    if isinstance(value, bool):
        return None  # True would otherwise score 1 point
    try:
        if isinstance(value, (int, Decimal)):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(str(value))  # 8.5, not 8.5000000000000001…
        elif isinstance(value, str):
            number = Decimal(value.strip())
        else:
            return None
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


class PolicyRegistry:
    """Every loaded policy version, with non-overlapping validity windows (Art. 15), so each
    application date has at most one governing version."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        ordered = sorted(policies, key=lambda p: p.effective_from)
        if not ordered:
            raise PolicyDataError("no policy version loaded")
        seen: set[str] = set()
        for p in ordered:
            if p.policy in seen:
                raise PolicyDataError(f"policy {p.policy} is loaded twice", "policy")
            seen.add(p.policy)
        for earlier, later in pairwise(ordered):
            if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
                until = earlier.effective_to.isoformat() if earlier.effective_to else "open-ended"
                raise PolicyDataError(
                    f"validity windows overlap: {earlier.policy} ({earlier.effective_from}..{until}) "
                    f"and {later.policy} (from {later.effective_from}); an application date must "
                    "have one governing version (Art. 15)",
                    "effective_from",
                )
        self._policies: tuple[Policy, ...] = tuple(ordered)

    @classmethod
    def load(cls, extra_dir: Path | str | None = None) -> PolicyRegistry:
        """The bundled version(s) plus every ``*.json`` in ``extra_dir``."""
        files = sorted(BUNDLED_DIR.glob("*.json"))
        if extra_dir is not None:
            extra = Path(extra_dir)
            if not extra.is_dir():
                raise PolicyDataError(f"policy directory {extra} does not exist or is not a directory")
            files += sorted(extra.glob("*.json"))
        return cls(Policy.load(f) for f in files)

    def all(self) -> list[Policy]:
        """Every version, by effective_from."""
        return list(self._policies)

    def latest(self) -> Policy:
        """The version with the latest effective_from."""
        return self._policies[-1]

    def get(self, ref: str) -> Policy:
        """The version whose 文号 is ``ref``."""
        for p in self._policies:
            if p.policy == ref:
                return p
        raise NotFound(
            "policy_not_found",
            f"no policy version {ref!r} is loaded; loaded: " + ", ".join(p.policy for p in self._policies),
            params={"policy": ref},
        )

    def in_force(self, d: date) -> Policy:
        """The version governing an application dated ``d`` (Art. 15); refused when none is."""
        for p in self._policies:
            if p.in_force_on(d):
                return p
        expired = [p for p in self._policies if p.effective_to is not None and p.effective_to < d]
        last = expired[-1] if expired else None
        if last is not None:
            why = f"{last.policy} expired after {last.effective_to}"
        else:
            why = f"the first version takes effect on {self._policies[0].effective_from.isoformat()}"
        raise RuleViolation(
            "no_policy_in_force",
            f"no policy version is in force on {d.isoformat()} ({why}); load the successor "
            "policy with PLATFORMS_POLICY_DIR",
            article="Art. 15",
            policy=last.policy if last else None, params={"date": d},
        )
