"""ICP rules: a TOML file parsed once into the frozen objects of ``definitions.py``.

Parsing collects every problem before raising, each with the key path where it was found
(``segments[0].score[2].points``), so a user fixes a file in one pass. Nothing downstream
reads the raw TOML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import itertools
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from listbuilder.errors import RulesError
from listbuilder.inputs import country_code
from listbuilder.rules.conditions import Condition, OperatorName
from listbuilder.rules.definitions import (
    DEFAULT_EXCLUDE_STATUS,
    GROUPS,
    AttributeCriterion,
    Criterion,
    EventCriterion,
    GrowthCriterion,
    Rules,
    Segment,
    SignalCriterion,
    Tier,
)

MAX_SEGMENTS = 3
_SEGMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
        include, include_signals = self.filters(table.get("include", {}), f"{where}.include", i)
        exclude, exclude_signals = self.filters(table.get("exclude", {}), f"{where}.exclude", i)
        score = self.criteria(table.get("score", []), f"{where}.score", i)
        tiers = self.tiers(table.get("tiers"), f"{where}.tiers", score)
        return Segment(
            name,
            description,
            max_accounts,
            include,
            exclude,
            score,
            tiers,
            include_signals,
            exclude_signals,
        )

    def filters(
        self, raw: Any, where: str, seg_index: int
    ) -> tuple[tuple[Condition, ...], tuple[EventCriterion, ...]]:
        """An include/exclude table: conditions on company columns, and ``signals`` tests."""
        table = self.table(raw, where)
        if table is None:
            return (), ()
        tests: list[EventCriterion] = []
        rest = dict(table)
        raw_tests = rest.get("signals")
        # `signals` holds tests only when written as a list of tables; otherwise it is a
        # condition on a company column of that name, as before.
        if (
            isinstance(raw_tests, list)
            and raw_tests
            and all(isinstance(t, Mapping) for t in raw_tests)
        ):
            del rest["signals"]
            tag = "inc" if where.endswith("include") else "exc"
            for k, item in enumerate(raw_tests):
                test = self.event_criterion(
                    item, f"{where}.signals[{k}]", f"_sig{seg_index}_{tag}{k}", scoring=False
                )
                if test is not None:
                    tests.append(test)
        return self.conditions(rest, where), tuple(tests)

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
        if keys == {"contains"}:
            items = value["contains"]
            items = [items] if isinstance(items, str) else items
            if (
                not isinstance(items, list)
                or not items
                or not all(isinstance(v, str) for v in items)
            ):
                self.fail(
                    f"{where}.contains",
                    f"expected a string or a non-empty list of strings, got {_kind(items)}",
                )
                return None
            return Condition(column, "contains", tuple(items), where)
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
            "{ min, max }, { any }, { all }, { none }, { contains } or { missing }",
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
        kinds = [k for k in ("when", "signal", "growth") if k in table]
        if len(kinds) > 1:
            self.fail(where, f"give one of `when`, `signal` or `growth`, not {kinds}")
            return None
        if kinds and kinds[0] != "when":
            return self.event_criterion(table, where, key, scoring=True)
        label = self.string(table, "label", where, required=True)
        points = self.integer(table, "points", where, required=True, minimum=None)
        group = self.group(table, where)
        self.keys(table, where, {"label", "points", "when", "group"})
        if "when" not in table:
            self.fail(
                f"{where}.when", "required key is missing; expected `when`, `signal` or `growth`"
            )
            return None
        conditions = self.conditions(table["when"], f"{where}.when")
        if not conditions and isinstance(table["when"], Mapping):
            self.fail(f"{where}.when", "expected at least one condition")
        if points is None or not label or not conditions:
            return None
        return AttributeCriterion(label, points, conditions, where, group)

    def group(self, table: Mapping[str, Any], where: str) -> str:
        value = table.get("group", "fit")
        if value not in GROUPS:
            self.fail(f"{where}.group", f"expected one of {list(GROUPS)}, got {_kind(value)}")
            return "fit"
        return str(value)

    def event_criterion(
        self, raw: Any, where: str, key: str, *, scoring: bool
    ) -> EventCriterion | None:
        """A signal or growth criterion (``scoring``) or an include/exclude test (no points)."""
        table = self.table(raw, where)
        if table is None:
            return None
        label, points, group = "", 0, "fit"
        if scoring:
            label = self.string(table, "label", where, required=True)
            found = self.integer(table, "points", where, required=True, minimum=None)
            group = self.group(table, where)
            if found is None or not label:
                label = ""
            points = found or 0
        scoring_keys = {"label", "points", "group"} if scoring else set()
        if "growth" in table:
            if "signal" in table:
                self.fail(where, "give either `signal` or `growth`, not both")
                return None
            self.keys(
                table,
                where,
                {"growth", "column", "within_days", "min_percent", "max_percent"} | scoring_keys,
            )
            return self.growth(table, where, key, label, points, group, scoring)
        if "signal" not in table:
            self.fail(f"{where}.signal", "required key is missing; expected `signal` or `growth`")
            return None
        allowed = {"signal", "where", "within_days", "min_count", "min_distinct", "min_total"}
        allowed |= {"departments", "round_types", "min_amount_usd"}
        self.keys(table, where, allowed | scoring_keys)
        signal = self.table_name(table, "signal", where)
        within = self.integer(table, "within_days", where, required=True, minimum=0)
        min_count = self.integer(table, "min_count", where, required=False, minimum=1)
        conditions: tuple[Condition, ...] = ()
        if "where" in table:
            conditions = self.conditions(table["where"], f"{where}.where")
        min_distinct = self.per_column(table, "min_distinct", where, integer=True)
        min_total = self.per_column(table, "min_total", where, integer=False)
        min_amount = table.get("min_amount_usd")
        if min_amount is not None and (
            isinstance(min_amount, bool) or not isinstance(min_amount, int | float)
        ):
            self.fail(f"{where}.min_amount_usd", f"expected a number, got {_kind(min_amount)}")
            min_amount = None
        if within is None or not signal or (scoring and not label):
            return None
        criterion = SignalCriterion(
            label=label,
            points=points,
            signal=signal,
            within_days=within,
            min_count=min_count or 1,
            departments=self.strings(table, "departments", where),
            round_types=self.strings(table, "round_types", where),
            min_amount_usd=float(min_amount) if min_amount is not None else None,
            key=key,
            path=where,
            where=conditions,
            min_distinct=tuple((c, int(n)) for c, n in min_distinct),
            min_total=tuple((c, float(x)) for c, x in min_total),
            group=group,
        )
        if not scoring:
            criterion = dataclasses.replace(criterion, label=criterion.describe())
        return criterion

    def growth(
        self,
        table: Mapping[str, Any],
        where: str,
        key: str,
        label: str,
        points: int,
        group: str,
        scoring: bool,
    ) -> GrowthCriterion | None:
        name = self.table_name(table, "growth", where)
        column = self.string(table, "column", where, required=True)
        within = self.integer(table, "within_days", where, required=True, minimum=0)
        bounds = []
        for bound in ("min_percent", "max_percent"):
            value = table.get(bound)
            if isinstance(value, bool) or not isinstance(value, int | float | None):
                self.fail(f"{where}.{bound}", f"expected a number, got {_kind(value)}")
                value = None
            bounds.append(float(value) if value is not None else None)
        low, high = bounds
        if low is None and high is None and not {"min_percent", "max_percent"} & set(table):
            self.fail(where, "a growth test needs `min_percent`, `max_percent` or both")
            return None
        if low is not None and high is not None and low > high:
            self.fail(where, f"`min_percent` ({low:g}) is greater than `max_percent` ({high:g})")
            return None
        if not name or not column or within is None or (scoring and not label):
            return None
        criterion = GrowthCriterion(
            label, points, name, column, within, low, high, key, where, group
        )
        if not scoring:
            criterion = dataclasses.replace(criterion, label=criterion.describe())
        return criterion

    def table_name(self, table: Mapping[str, Any], key: str, where: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not _TABLE_NAME.match(value):
            self.fail(
                f"{where}.{key}",
                f"expected an event table's name (letters, digits and `_`), got {_kind(value)}",
            )
            return ""
        return value

    def per_column(
        self, table: Mapping[str, Any], key: str, where: str, *, integer: bool
    ) -> list[tuple[str, float]]:
        """``{ column = n }`` tables of ``min_distinct`` (whole, >= 1) and ``min_total``."""
        raw = table.get(key)
        if raw is None:
            return []
        found = self.table(raw, f"{where}.{key}")
        if not found:
            if found is not None:
                self.fail(f"{where}.{key}", "expected at least one `column = number`")
            return []
        out = []
        for column, value in found.items():
            bad = isinstance(value, bool) or not isinstance(value, int if integer else int | float)
            if bad or (integer and value < 1):
                what = "a whole number of at least 1" if integer else "a number"
                self.fail(f"{where}.{key}.{column}", f"expected {what}, got {_kind(value)}")
                continue
            out.append((column, float(value)))
        return out

    def tiers(self, raw: Any, where: str, score: tuple[Criterion, ...]) -> tuple[Tier, ...]:
        if not isinstance(raw, list) or not raw:
            self.fail(where, "expected at least one [[segments.tiers]] table")
            return ()
        found: list[Tier] = []
        allowed = {"name", "min_score", "min_percent", "min_fit", "min_intent"}
        for j, item in enumerate(raw):
            at = f"{where}[{j}]"
            table = self.table(item, at)
            if table is None:
                continue
            self.keys(table, at, allowed | {"max_accounts", "stickiness"})
            name = self.string(table, "name", at, required=True)
            min_score = self.integer(table, "min_score", at, required=False, minimum=None)
            min_fit = self.integer(table, "min_fit", at, required=False, minimum=None)
            min_intent = self.integer(table, "min_intent", at, required=False, minimum=None)
            min_percent = table.get("min_percent")
            if min_percent is not None and (
                isinstance(min_percent, bool) or not isinstance(min_percent, int | float)
            ):
                self.fail(f"{at}.min_percent", f"expected a number, got {_kind(min_percent)}")
                min_percent = None
            cap = self.integer(table, "max_accounts", at, required=False, minimum=1)
            sticky = self.integer(table, "stickiness", at, required=False, minimum=0)
            if not (allowed - {"name"}) & set(table):
                self.fail(
                    at,
                    "a tier needs a threshold: `min_score` or `min_percent`, "
                    "and/or `min_fit`, `min_intent`",
                )
                continue
            if not name:
                continue
            if any(t.name == name for t in found):
                self.fail(f"{at}.name", f"duplicate tier name {name!r}")
            percent = float(min_percent) if min_percent is not None else None
            found.append(Tier(name, min_score, cap, sticky, at, percent, min_fit, min_intent))
        self.tier_order(found, where, score)
        return tuple(found)

    def tier_order(self, tiers: list[Tier], where: str, score: tuple[Criterion, ...]) -> None:
        """One kind of threshold per segment; thresholds of that kind strictly descending."""
        scored = [t for t in tiers if t.min_score is not None]
        percent = [t for t in tiers if t.min_percent is not None]
        if scored and percent:
            self.fail(
                f"{percent[0].path}.min_percent",
                f"this segment's tiers mix `min_percent` with `min_score` "
                f"({scored[0].path}); one segment uses one kind of threshold",
            )
            return
        if percent and not any(c.points > 0 for c in score):
            self.fail(
                f"{percent[0].path}.min_percent",
                "no criterion gives positive points, so there is no maximum score to take "
                "a percentage of",
            )
        # With only score (or only percent) thresholds, tiers nest: each must be stricter
        # than the next. Fit/intent tiers (a two-by-two) need not nest.
        if any(t.min_fit is not None or t.min_intent is not None for t in tiers):
            return
        kind = "min_percent" if percent else "min_score"
        for above, below in itertools.pairwise(tiers):
            high, low = getattr(above, kind), getattr(below, kind)
            if high is None or low is None:
                continue
            if low >= high:
                self.fail(
                    f"{below.path}.{kind}",
                    f"tiers must be listed highest first with strictly descending {kind}; "
                    f"{low:g} is not below {high:g} ({above.name})",
                )


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
