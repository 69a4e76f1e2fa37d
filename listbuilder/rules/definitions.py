"""The parsed rules, as frozen objects: criteria, tiers, segments and the rules file.

``parse.py`` builds them from a rules file; everything downstream reads only these. Each
object also compiles itself to the polars expressions that evaluate it, so the meaning of
a key lives in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from listbuilder.errors import RulesError
from listbuilder.rules.conditions import Condition

DEFAULT_EXCLUDE_STATUS = ("customer", "open_opportunity")
# Any event table's name; `hiring` and `funding` are the two the tool has always known.
SignalName = str
SIGNALS: tuple[str, ...] = ("hiring", "funding")
GROUPS = ("fit", "intent")


@dataclass(frozen=True)
class AttributeCriterion:
    """Points given when every condition in ``when`` holds."""

    label: str
    points: int
    conditions: tuple[Condition, ...]
    path: str
    group: str = "fit"

    def fired(self) -> pl.Expr:
        """Boolean expression: does this criterion fire for a company?"""
        return pl.all_horizontal([c.expr() for c in self.conditions])


@dataclass(frozen=True)
class SignalCriterion:
    """Points given when a company has enough recent matching events in one event table.

    ``key`` names the columns that ``signals.attach_signals`` adds for this criterion:
    ``{key}_n`` (matching events in the window), ``{key}_d{k}`` (distinct values of the
    k-th ``min_distinct`` column), ``{key}_t{k}`` (total of the k-th ``min_total``
    column), and the latest matching event's ``{key}_date`` and ``{key}_what``, which
    the reasons quote. A test in ``include``/``exclude`` is a criterion with no points.
    """

    label: str
    points: int
    signal: SignalName
    within_days: int
    min_count: int
    departments: tuple[str, ...]
    round_types: tuple[str, ...]
    min_amount_usd: float | None
    key: str
    path: str
    where: tuple[Condition, ...] = ()
    min_distinct: tuple[tuple[str, int], ...] = ()
    min_total: tuple[tuple[str, float], ...] = ()
    group: str = "fit"

    @property
    def table(self) -> str:
        """The event table the criterion reads."""
        return self.signal

    def conditions(self) -> tuple[Condition, ...]:
        """Every test on an event row: ``where`` plus the shorthand keys, all ANDed."""
        found = list(self.where)
        if self.departments:
            found.append(
                Condition("department", "in", self.departments, f"{self.path}.departments")
            )
        if self.round_types:
            at = f"{self.path}.round_types"
            found.append(Condition("round_type", "in", self.round_types, at))
        if self.min_amount_usd is not None:
            at = f"{self.path}.min_amount_usd"
            found.append(Condition("amount_usd", "range", (self.min_amount_usd, None), at))
        return tuple(found)

    @property
    def legacy(self) -> bool:
        """A plain hiring/funding count, whose reason keeps its long-standing wording."""
        return (
            self.signal in SIGNALS
            and not self.where
            and not self.min_distinct
            and not self.min_total
        )

    def fired(self) -> pl.Expr:
        """Boolean expression over the signal columns: every test given holds."""
        tests = [pl.col(f"{self.key}_n") >= self.min_count]
        tests += [pl.col(f"{self.key}_d{k}") >= n for k, (_, n) in enumerate(self.min_distinct)]
        tests += [pl.col(f"{self.key}_t{k}") >= x for k, (_, x) in enumerate(self.min_total)]
        return pl.all_horizontal(tests).fill_null(False)

    def describe(self) -> str:
        """Say in words what the test requires, for include/exclude lines and explain."""
        parts = [
            f"{self.signal}: at least {self.min_count} event{'s' if self.min_count != 1 else ''}"
            f" in {self.within_days} days"
        ]
        parts += [c.describe() for c in self.conditions()]
        parts += [f"at least {n} distinct {col}" for col, n in self.min_distinct]
        parts += [f"{col} totalling at least {_number(x)}" for col, x in self.min_total]
        return ", ".join(parts)


@dataclass(frozen=True)
class GrowthCriterion:
    """Points given when a measured value grew (or shrank) by a percentage over a window.

    ``signals.attach_signals`` adds ``{key}_now`` and ``{key}_then`` (the latest
    measurements on or before as_of and on or before the window's first day) and
    ``{key}_g``, the growth in percent (null when either is missing or ``then`` is 0).
    """

    label: str
    points: int
    table: str
    column: str
    within_days: int
    min_percent: float | None
    max_percent: float | None
    key: str
    path: str
    group: str = "fit"

    @property
    def signal(self) -> str:
        """The event table of measurements the criterion reads."""
        return self.table

    def fired(self) -> pl.Expr:
        """Growth within the bounds given; a null growth fires neither."""
        growth = pl.col(f"{self.key}_g")
        tests = [growth.is_not_null()]
        if self.min_percent is not None:
            tests.append(growth >= self.min_percent)
        if self.max_percent is not None:
            tests.append(growth <= self.max_percent)
        return pl.all_horizontal(tests).fill_null(False)

    def describe(self) -> str:
        """Say in words what the test requires."""
        bounds = []
        if self.min_percent is not None:
            bounds.append(f"at least {_number(self.min_percent)}%")
        if self.max_percent is not None:
            bounds.append(f"at most {_number(self.max_percent)}%")
        return (
            f"{self.table}: {self.column} changed by {' and '.join(bounds)} "
            f"in {self.within_days} days"
        )


EventCriterion = SignalCriterion | GrowthCriterion
Criterion = AttributeCriterion | SignalCriterion | GrowthCriterion


@dataclass(frozen=True)
class Tier:
    """A tier of a segment's list: accounts reaching every threshold it gives, up to a cap.

    ``min_score`` is absolute points; ``min_percent`` the score as a percentage of the
    segment's maximum attainable score; ``min_fit``/``min_intent`` the points of each
    group. A segment uses either ``min_score`` or ``min_percent``, never both.
    """

    name: str
    min_score: int | None
    max_accounts: int | None
    stickiness: int | None
    path: str
    min_percent: float | None = None
    min_fit: int | None = None
    min_intent: int | None = None

    def reached(self, score: pl.Expr, percent: pl.Expr, fit: pl.Expr, intent: pl.Expr) -> pl.Expr:
        """Every threshold the tier gives holds (a tier with none is reached by all)."""
        tests = [pl.lit(True)]
        if self.min_score is not None:
            tests.append(score >= self.min_score)
        if self.min_percent is not None:
            tests.append(percent >= self.min_percent)
        if self.min_fit is not None:
            tests.append(fit >= self.min_fit)
        if self.min_intent is not None:
            tests.append(intent >= self.min_intent)
        return pl.all_horizontal(tests).fill_null(False)

    def describe(self) -> str:
        """The thresholds in words, e.g. ``score >= 5`` or ``percent >= 80, intent >= 2``."""
        parts = []
        if self.min_score is not None:
            parts.append(f"score >= {self.min_score}")
        if self.min_percent is not None:
            parts.append(f"percent >= {_number(self.min_percent)}")
        if self.min_fit is not None:
            parts.append(f"fit >= {self.min_fit}")
        if self.min_intent is not None:
            parts.append(f"intent >= {self.min_intent}")
        return ", ".join(parts) or "no threshold"


@dataclass(frozen=True)
class Segment:
    """One ICP segment: who is eligible, how they score, and how the list is tiered.

    ``include_signals`` must all hold for a company to be eligible; any of
    ``exclude_signals`` that holds disqualifies it, like an exclude condition.
    """

    name: str
    description: str
    max_accounts: int | None
    include: tuple[Condition, ...]
    exclude: tuple[Condition, ...]
    score: tuple[Criterion, ...]
    tiers: tuple[Tier, ...]
    include_signals: tuple[EventCriterion, ...] = ()
    exclude_signals: tuple[EventCriterion, ...] = ()

    @property
    def min_score(self) -> int:
        """The score the lowest tier needs (0 when it gives no ``min_score``)."""
        return self.tiers[-1].min_score or 0

    @property
    def max_points(self) -> int:
        """The maximum attainable score: the sum of the positive points of both groups."""
        return sum(c.points for c in self.score if c.points > 0)

    def percent_expr(self, score: pl.Expr) -> pl.Expr:
        """``score`` as a percentage of ``max_points``; null when nothing can score."""
        if self.max_points <= 0:
            return pl.lit(None, pl.Float64)
        # One division of two exact integers gives the correctly rounded ratio, so a
        # threshold such as 60 is met exactly when score * 100 >= 60 * max_points. Polars
        # divides by a scalar as a multiplication by its reciprocal, which is off by an
        # ulp now and then (400 / 6 gives 66.66666666666666), so the divisor is a column.
        divisor = (score * 0 + self.max_points).cast(pl.Float64)
        return (score * 100).cast(pl.Float64) / divisor

    def exclusions(self) -> list[Condition | EventCriterion]:
        """Every disqualifier, conditions first, in file order."""
        return [*self.exclude, *self.exclude_signals]

    def included(self) -> pl.Expr:
        """All include conditions and signal tests hold (before the excludes are applied)."""
        return pl.all_horizontal(
            [
                pl.lit(True),
                *(c.expr() for c in self.include),
                *(t.fired() for t in self.include_signals),
            ]
        )

    def eligible(self) -> pl.Expr:
        """All includes hold and no exclusion does."""
        expr = self.included()
        found = self.exclusions()
        if found:
            expr = expr & ~pl.any_horizontal(
                [c.expr() if isinstance(c, Condition) else c.fired() for c in found]
            )
        return expr

    def score_expr(self) -> pl.Expr:
        """The sum of the points of the criteria that fire."""
        terms = [pl.when(c.fired()).then(pl.lit(c.points)).otherwise(0) for c in self.score]
        return pl.sum_horizontal([pl.lit(0), *terms]).cast(pl.Int64)

    def conditions(self) -> list[Condition]:
        """Every condition on company columns, for checks against the data's columns."""
        found = [*self.include, *self.exclude]
        for criterion in self.score:
            if isinstance(criterion, AttributeCriterion):
                found.extend(criterion.conditions)
        return found

    def signals(self) -> list[EventCriterion]:
        """The scoring criteria that read an event table."""
        return [c for c in self.score if isinstance(c, SignalCriterion | GrowthCriterion)]

    def event_reads(self) -> list[EventCriterion]:
        """Everything in the segment that reads an event table: criteria and tests."""
        return [*self.signals(), *self.include_signals, *self.exclude_signals]


@dataclass(frozen=True)
class Rules:
    """A parsed rules file."""

    path: str
    sha256: str
    exclude_status: tuple[str, ...]
    segments: tuple[Segment, ...]

    def signals(self) -> list[EventCriterion]:
        """All scoring criteria that read an event table, across segments."""
        return [s for seg in self.segments for s in seg.signals()]

    def event_reads(self) -> list[EventCriterion]:
        """Everything that reads an event table: scoring criteria and include/exclude tests."""
        return [s for seg in self.segments for s in seg.event_reads()]

    def tables(self) -> list[str]:
        """The names of the event tables the rules read, in first-use order."""
        return list(dict.fromkeys(c.table for c in self.event_reads()))

    def check_against(self, schema: Mapping[str, pl.DataType], data_path: str) -> None:
        """Raise ``RulesError`` if a condition names a column the data lacks or cannot test."""
        problems = []
        for segment in self.segments:
            for cond in segment.conditions():
                if cond.column not in schema:
                    problems.append(
                        f"{cond.path}: column `{cond.column}` is not in the companies data "
                        f"({data_path}); it has: {', '.join(schema)}"
                    )
                    continue
                problem = cond.check_dtype(schema[cond.column])
                if problem:
                    problems.append(problem)
        if problems:
            raise RulesError(self.path, problems)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
