"""ICP rules: a TOML file parsed once into frozen objects, then compiled to polars.

Parsing collects every problem before raising, each with the key path where it was found
(``segments[0].score[2].points``), so a user fixes a file in one pass. Nothing downstream
reads the raw TOML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from listbuilder.errors import RulesError
from listbuilder.inputs import country_code
from listbuilder.rules.conditions import Condition, OperatorName

MAX_SEGMENTS = 3
DEFAULT_EXCLUDE_STATUS = ("customer", "open_opportunity")
SignalName = Literal["hiring", "funding"]
SIGNALS: tuple[SignalName, ...] = ("hiring", "funding")
_SEGMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class AttributeCriterion:
    """Points given when every condition in ``when`` holds."""

    label: str
    points: int
    conditions: tuple[Condition, ...]
    path: str

    def fired(self) -> pl.Expr:
        """Boolean expression: does this criterion fire for a company?"""
        return pl.all_horizontal([c.expr() for c in self.conditions])


@dataclass(frozen=True)
class SignalCriterion:
    """Points given when a company has enough recent events of one signal.

    ``key`` names the columns that ``signals.attach_signals`` adds for this criterion:
    ``{key}_n`` (events in the window) and, for funding, ``{key}_type`` / ``{key}_date``
    (the latest qualifying round).
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

    def fired(self) -> pl.Expr:
        """Boolean expression over the signal columns: enough events in the window."""
        return (pl.col(f"{self.key}_n") >= self.min_count).fill_null(False)


Criterion = AttributeCriterion | SignalCriterion


@dataclass(frozen=True)
class Tier:
    """A tier of a segment's list: accounts scoring at least ``min_score``, up to a cap."""

    name: str
    min_score: int
    max_accounts: int | None
    stickiness: int | None
    path: str


@dataclass(frozen=True)
class Segment:
    """One ICP segment: who is eligible, how they score, and how the list is tiered."""

    name: str
    description: str
    max_accounts: int | None
    include: tuple[Condition, ...]
    exclude: tuple[Condition, ...]
    score: tuple[Criterion, ...]
    tiers: tuple[Tier, ...]

    @property
    def min_score(self) -> int:
        """The score an eligible account needs to qualify: the lowest tier's threshold."""
        return self.tiers[-1].min_score

    def included(self) -> pl.Expr:
        """All include conditions hold (before the excludes are applied)."""
        return pl.all_horizontal([pl.lit(True), *(c.expr() for c in self.include)])

    def eligible(self) -> pl.Expr:
        """All include conditions hold and no exclude condition does."""
        expr = self.included()
        if self.exclude:
            expr = expr & ~pl.any_horizontal([c.expr() for c in self.exclude])
        return expr

    def score_expr(self) -> pl.Expr:
        """The sum of the points of the criteria that fire."""
        terms = [pl.when(c.fired()).then(pl.lit(c.points)).otherwise(0) for c in self.score]
        return pl.sum_horizontal([pl.lit(0), *terms]).cast(pl.Int64)

    def conditions(self) -> list[Condition]:
        """Every condition in the segment, for checks against the data's columns."""
        found = [*self.include, *self.exclude]
        for criterion in self.score:
            if isinstance(criterion, AttributeCriterion):
                found.extend(criterion.conditions)
        return found

    def signals(self) -> list[SignalCriterion]:
        """The signal criteria of the segment."""
        return [c for c in self.score if isinstance(c, SignalCriterion)]


@dataclass(frozen=True)
class Rules:
    """A parsed rules file."""

    path: str
    sha256: str
    exclude_status: tuple[str, ...]
    segments: tuple[Segment, ...]

    def signals(self) -> list[SignalCriterion]:
        """All signal criteria across segments."""
        return [s for seg in self.segments for s in seg.signals()]

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


def load_rules(path: str | Path) -> Rules:
    """Read, validate and freeze a rules file; raise ``RulesError`` listing every problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RulesError(str(path), ["file not found"]) from None
    except OSError as exc:
        raise RulesError(str(path), [f"cannot read file: {exc.strerror}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RulesError(str(path), [f"not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(str(path), [f"malformed TOML: {exc}"]) from None
    return parse_rules(data, str(path), hashlib.sha256(raw).hexdigest())


def parse_rules(data: Mapping[str, Any], path: str = "<rules>", sha256: str = "") -> Rules:
    """Validate an already-parsed TOML document into ``Rules``."""
    parser = _Parser(path)
    rules = parser.rules(data)
    if parser.problems:
        raise RulesError(path, parser.problems)
    return dataclasses.replace(rules, sha256=sha256)


class _Parser:
    """Walks the raw document, recording problems instead of stopping at the first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def keys(self, table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                also = f" (did you mean `{hint[0]}`?)" if hint else ""
                self.fail(
                    f"{where}.{key}" if where else key,
                    f"unknown key{also}; valid keys are {sorted(allowed)}",
                )

    def table(self, value: Any, where: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.fail(where, f"expected a table, got {_kind(value)}")
        return None

    def string(self, table: Mapping[str, Any], key: str, where: str, *, required: bool) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.fail(f"{where}.{key}", "required key is missing; expected a string")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where}.{key}", f"expected a non-empty string, got {_kind(value)}")
            return ""
        return value

    def integer(
        self, table: Mapping[str, Any], key: str, where: str, *, required: bool, minimum: int | None
    ) -> int | None:
        value = table.get(key)
        if value is None:
            if required:
                self.fail(f"{where}.{key}", "required key is missing; expected an integer")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{where}.{key}", f"expected an integer, got {_kind(value)}")
            return None
        if minimum is not None and value < minimum:
            self.fail(f"{where}.{key}", f"expected an integer of at least {minimum}, got {value}")
            return None
        return value

    def strings(self, table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.fail(f"{where}.{key}", f"expected a non-empty list of strings, got {_kind(value)}")
            return ()
        return tuple(value)

    def rules(self, data: Mapping[str, Any]) -> Rules:
        self.keys(data, "", {"crm", "segments"})
        exclude_status = DEFAULT_EXCLUDE_STATUS
        if "crm" in data and (crm := self.table(data["crm"], "crm")) is not None:
            self.keys(crm, "crm", {"exclude_status"})
            if "exclude_status" in crm:
                value = crm["exclude_status"]
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    exclude_status = tuple(v.lower() for v in value)
                else:
                    self.fail(
                        "crm.exclude_status", f"expected a list of strings, got {_kind(value)}"
                    )
        raw_segments = data.get("segments")
        segments: list[Segment] = []
        if not isinstance(raw_segments, list) or not raw_segments:
            self.fail("segments", "expected 1 to 3 [[segments]] tables, found none")
        elif len(raw_segments) > MAX_SEGMENTS:
            self.fail(
                "segments",
                f"{len(raw_segments)} segments defined; at most {MAX_SEGMENTS} are allowed "
                "(a focused ICP has few segments: merge or drop some)",
            )
        else:
            for i, raw in enumerate(raw_segments):
                segment = self.segment(raw, i)
                if segment is not None:
                    segments.append(segment)
        seen: set[str] = set()
        for i, seg in enumerate(segments):
            if seg.name.lower() in seen:
                self.fail(f"segments[{i}].name", f"duplicate segment name {seg.name!r}")
            seen.add(seg.name.lower())
        return Rules(self.path, "", exclude_status, tuple(segments))

    def segment(self, raw: Any, i: int) -> Segment | None:
        where = f"segments[{i}]"
        table = self.table(raw, where)
        if table is None:
            return None
        allowed = {"name", "description", "max_accounts", "include", "exclude", "score", "tiers"}
        self.keys(table, where, allowed)
        name = self.string(table, "name", where, required=True)
        if name and not _SEGMENT_NAME.match(name):
            self.fail(
                f"{where}.name",
                f"{name!r} cannot name a file; use letters, digits, `_` and `-`",
            )
        description = self.string(table, "description", where, required=False)
        max_accounts = self.integer(table, "max_accounts", where, required=False, minimum=1)
        include = self.conditions(table.get("include", {}), f"{where}.include")
        exclude = self.conditions(table.get("exclude", {}), f"{where}.exclude")
        score = self.criteria(table.get("score", []), f"{where}.score", i)
        tiers = self.tiers(table.get("tiers"), f"{where}.tiers")
        return Segment(name, description, max_accounts, include, exclude, score, tiers)

    def conditions(self, raw: Any, where: str) -> tuple[Condition, ...]:
        table = self.table(raw, where)
        if table is None:
            return ()
        found = []
        for column, value in table.items():
            cond = self.condition(column, value, f"{where}.{column}")
            if cond is not None:
                found.append(cond)
        return tuple(found)

    def condition(self, column: str, value: Any, where: str) -> Condition | None:
        op: OperatorName
        if isinstance(value, list):
            if not value or not all(_is_scalar(v) for v in value):
                self.fail(where, "expected a non-empty list of values to match one of")
                return None
            return Condition(column, "in", _with_country_codes(column, value), where)
        if _is_scalar(value):
            values = _with_country_codes(column, [value])
            if len(values) > 1:
                return Condition(column, "in", values, where)
            return Condition(column, "equals", value, where)
        if not isinstance(value, Mapping):
            self.fail(where, f"expected a list, a value or a table, got {_kind(value)}")
            return None
        keys = set(value)
        if keys and keys <= {"min", "max"}:
            low, high = value.get("min"), value.get("max")
            for key, bound in (("min", low), ("max", high)):
                if bound is not None and (
                    isinstance(bound, bool) or not isinstance(bound, int | float | dt.date)
                ):
                    self.fail(f"{where}.{key}", f"expected a number or date, got {_kind(bound)}")
                    return None
            if low is not None and high is not None and low > high:
                self.fail(where, f"`min` ({low}) is greater than `max` ({high})")
                return None
            return Condition(column, "range", (low, high), where)
        if len(keys) == 1 and (op_name := next(iter(keys))) in ("any", "all", "none"):
            items = value[op_name]
            if (
                not isinstance(items, list)
                or not items
                or not all(isinstance(v, str) for v in items)
            ):
                self.fail(
                    f"{where}.{op_name}",
                    f"expected a non-empty list of strings, got {_kind(items)}",
                )
                return None
            op = op_name  # type: ignore[assignment]
            return Condition(column, op, tuple(items), where)
        if keys == {"missing"}:
            if not isinstance(value["missing"], bool):
                self.fail(
                    f"{where}.missing", f"expected true or false, got {_kind(value['missing'])}"
                )
                return None
            return Condition(column, "missing", value["missing"], where)
        self.fail(
            where,
            f"unknown condition {{{', '.join(sorted(keys))}}}; expected a list of values, "
            "{ min, max }, { any }, { all }, { none } or { missing }",
        )
        return None

    def criteria(self, raw: Any, where: str, seg_index: int) -> tuple[Criterion, ...]:
        if not isinstance(raw, list):
            self.fail(where, f"expected [[...score]] tables, got {_kind(raw)}")
            return ()
        found: list[Criterion] = []
        labels: set[str] = set()
        for j, item in enumerate(raw):
            at = f"{where}[{j}]"
            table = self.table(item, at)
            if table is None:
                continue
            criterion = self.criterion(table, at, f"_sig{seg_index}_{j}")
            if criterion is None:
                continue
            if criterion.label in labels:
                self.fail(f"{at}.label", f"duplicate label {criterion.label!r} in this segment")
            labels.add(criterion.label)
            found.append(criterion)
        return tuple(found)

    def criterion(self, table: Mapping[str, Any], where: str, key: str) -> Criterion | None:
        label = self.string(table, "label", where, required=True)
        points = self.integer(table, "points", where, required=True, minimum=None)
        if "signal" in table and "when" in table:
            self.fail(where, "give either `when` or `signal`, not both")
            return None
        if "signal" not in table:
            self.keys(table, where, {"label", "points", "when"})
            if "when" not in table:
                self.fail(f"{where}.when", "required key is missing; expected `when` or `signal`")
                return None
            conditions = self.conditions(table["when"], f"{where}.when")
            if not conditions and isinstance(table["when"], Mapping):
                self.fail(f"{where}.when", "expected at least one condition")
            if points is None or not label or not conditions:
                return None
            return AttributeCriterion(label, points, conditions, where)
        signal = table["signal"]
        if signal not in SIGNALS:
            self.fail(
                f"{where}.signal", f"unknown signal {signal!r}; valid signals are {list(SIGNALS)}"
            )
            return None
        common = {"label", "points", "signal", "within_days", "min_count"}
        extra = {"departments"} if signal == "hiring" else {"round_types", "min_amount_usd"}
        self.keys(table, where, common | extra)
        within = self.integer(table, "within_days", where, required=True, minimum=0)
        min_count = self.integer(table, "min_count", where, required=False, minimum=1)
        departments = self.strings(table, "departments", where)
        round_types = self.strings(table, "round_types", where)
        min_amount = table.get("min_amount_usd")
        if min_amount is not None and (
            isinstance(min_amount, bool) or not isinstance(min_amount, int | float)
        ):
            self.fail(f"{where}.min_amount_usd", f"expected a number, got {_kind(min_amount)}")
            min_amount = None
        if points is None or within is None or not label:
            return None
        return SignalCriterion(
            label=label,
            points=points,
            signal=signal,
            within_days=within,
            min_count=min_count or 1,
            departments=departments,
            round_types=round_types,
            min_amount_usd=float(min_amount) if min_amount is not None else None,
            key=key,
            path=where,
        )

    def tiers(self, raw: Any, where: str) -> tuple[Tier, ...]:
        if not isinstance(raw, list) or not raw:
            self.fail(where, "expected at least one [[segments.tiers]] table")
            return ()
        found: list[Tier] = []
        for j, item in enumerate(raw):
            at = f"{where}[{j}]"
            table = self.table(item, at)
            if table is None:
                continue
            self.keys(table, at, {"name", "min_score", "max_accounts", "stickiness"})
            name = self.string(table, "name", at, required=True)
            min_score = self.integer(table, "min_score", at, required=True, minimum=None)
            cap = self.integer(table, "max_accounts", at, required=False, minimum=1)
            sticky = self.integer(table, "stickiness", at, required=False, minimum=0)
            if not name or min_score is None:
                continue
            if found and min_score >= found[-1].min_score:
                self.fail(
                    f"{at}.min_score",
                    f"tiers must be listed highest first with strictly descending min_score; "
                    f"{min_score} is not below {found[-1].min_score} ({found[-1].name})",
                )
            if any(t.name == name for t in found):
                self.fail(f"{at}.name", f"duplicate tier name {name!r}")
            found.append(Tier(name, min_score, cap, sticky, at))
        return tuple(found)


def _with_country_codes(column: str, values: list[Any]) -> tuple[Any, ...]:
    """The values, plus the ISO code of each country name among them for ``country``.

    Input parsers read country names into ISO 3166 alpha-2 codes (``United States`` ->
    ``US``), so a rule written with names must match the codes too; the names stay, for
    data read without a country parser.
    """
    if column != "country":
        return tuple(values)
    out = list(values)
    for value in values:
        code = country_code(value) if isinstance(value, str) else None
        if code is not None and code.lower() not in {str(v).lower() for v in out}:
            out.append(code)
    return tuple(out)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | dt.date) and not isinstance(value, dt.time)


def _kind(value: Any) -> str:
    """Name a TOML value's type the way a rules author thinks of it."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    if value is None:
        return "nothing"
    return type(value).__name__
