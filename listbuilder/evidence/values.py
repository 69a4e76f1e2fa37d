"""Attribute values as the profile sees them: bands, categories, technologies, signals.

Every deal (or account) is turned into the values it has, one row each (``long_values``),
and each value has a rules-file form (``condition_value``), so what the profile measures
is exactly what a proposed rule tests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import polars as pl

from listbuilder.rules import (
    Condition,
    EventCriterion,
    GrowthCriterion,
    SignalCriterion,
    SignalName,
)

MISSING = "(missing)"
HIRING_WINDOWS = (30, 60, 90)
FUNDING_WINDOWS = (90, 180, 365)
ROUND_TYPE_WINDOW = 365
# Any other event table (exec_hires, intent, layoffs...): any event in these windows.
EVENT_WINDOWS = (30, 90)
# A table with one of these numeric columns holds dated measurements of a company
# attribute (headcount's employees): its probe is growth over GROWTH_DAYS, bucketed.
MEASURES = ("employees", "revenue_usd")
GROWTH_DAYS = 180
GROWTH_MIN_PERCENT = 20.0
WIDEST_DAYS = max(*HIRING_WINDOWS, *FUNDING_WINDOWS, ROUND_TYPE_WINDOW, *EVENT_WINDOWS)
# Lower bound (inclusive), upper bound (inclusive), label. Bounds are whole units.
EMPLOYEE_BANDS: tuple[tuple[int | None, int | None, str], ...] = (
    (None, 9, "<10"),
    (10, 49, "10-49"),
    (50, 199, "50-199"),
    (200, 999, "200-999"),
    (1_000, 4_999, "1,000-4,999"),
    (5_000, None, "5,000+"),
)
REVENUE_BANDS: tuple[tuple[int | None, int | None, str], ...] = (
    (None, 999_999, "<$1M"),
    (1_000_000, 9_999_999, "$1M-$10M"),
    (10_000_000, 49_999_999, "$10M-$50M"),
    (50_000_000, 249_999_999, "$50M-$250M"),
    (250_000_000, 999_999_999, "$250M-$1B"),
    (1_000_000_000, None, "$1B+"),
)
BANDS = {"employees": EMPLOYEE_BANDS, "revenue_usd": REVENUE_BANDS}
CATEGORIES = ("industry", "country", "funding_stage")
LOWERCASE = ("industry",)
ATTRIBUTE_ORDER = (
    "industry",
    "employees",
    "revenue_usd",
    "country",
    "funding_stage",
    "technologies",
    "signal",
)
FIRMOGRAPHICS = ("industry", "employees", "revenue_usd", "country", "funding_stage")


def measure_columns(schema: pl.Schema) -> list[str]:
    """The ``MEASURES`` columns of an event table that hold numbers: growth is tested on them."""
    return [c for c in MEASURES if c in schema and schema[c].is_numeric()]


def signal_probes(events: dict[str, pl.LazyFrame]) -> list[EventCriterion]:
    """The signals the profile tests: hiring by department and window, funding by window,
    any event of every other table in ``EVENT_WINDOWS``, and for a table of measurements
    (see ``measure_columns``) growth of at least ``GROWTH_MIN_PERCENT`` in ``GROWTH_DAYS``.

    Departments and round types come from the events themselves, so a vendor's own
    vocabulary is tested as it is. Tables are taken in name order, so the probes (and
    the proposal) do not depend on the order the tables were given in.
    """
    probes: list[EventCriterion] = []

    def add(
        signal: SignalName,
        label: str,
        days: int,
        departments: Sequence[str] = (),
        round_types: Sequence[str] = (),
    ) -> None:
        probes.append(
            SignalCriterion(
                label=label,
                points=0,
                signal=signal,
                within_days=days,
                min_count=1,
                departments=tuple(departments),
                round_types=tuple(round_types),
                min_amount_usd=None,
                key=f"_probe{len(probes)}",
                path="profile",
            )
        )

    if "hiring" in events:
        departments = _distinct(events["hiring"], "department", lower=True)
        for days in HIRING_WINDOWS:
            add("hiring", f"hiring: any department, {days} days", days)
            for department in departments:
                add("hiring", f"hiring: {department}, {days} days", days, departments=[department])
    if "funding" in events:
        for days in FUNDING_WINDOWS:
            add("funding", f"funding: any round, {days} days", days)
        for round_type in _distinct(events["funding"], "round_type", lower=False):
            add(
                "funding",
                f"funding: {round_type}, {ROUND_TYPE_WINDOW} days",
                ROUND_TYPE_WINDOW,
                round_types=[round_type],
            )
    for name in sorted(set(events) - {"hiring", "funding"}):
        measures = measure_columns(events[name].collect_schema())
        for column in measures:
            probes.append(
                GrowthCriterion(
                    label=f"{name}: {column} up {GROWTH_MIN_PERCENT:g}%+ in {GROWTH_DAYS} days",
                    points=0,
                    table=name,
                    column=column,
                    within_days=GROWTH_DAYS,
                    min_percent=GROWTH_MIN_PERCENT,
                    max_percent=None,
                    key=f"_probe{len(probes)}",
                    path="profile",
                )
            )
        if not measures:
            for days in EVENT_WINDOWS:
                add(name, f"{name}: any event, {days} days", days)
    return probes


def _distinct(events: pl.LazyFrame, column: str, *, lower: bool) -> list[str]:
    if column not in events.collect_schema():
        return []
    expr = pl.col(column).cast(pl.String)
    expr = expr.str.to_lowercase() if lower else expr
    values = events.select(expr.drop_nulls().unique()).collect().to_series()
    return sorted(values.to_list())


def band_expr(column: str, bands: Sequence[tuple[int | None, int | None, str]]) -> pl.Expr:
    """Label each value with its band; null stays null."""
    expr = pl.lit(None, dtype=pl.String)
    for low, _high, label in bands:
        test = pl.col(column) >= low if low is not None else pl.lit(True)
        expr = pl.when(test).then(pl.lit(label)).otherwise(expr)
    return pl.when(pl.col(column).is_null()).then(None).otherwise(expr)


def long_values(
    units: pl.LazyFrame, schema: pl.Schema, probes: Sequence[EventCriterion]
) -> pl.LazyFrame:
    """Long form: one row per unit and attribute value it has (``attribute``, ``value``)."""
    base = ("_row", "_pos", "_amount")
    parts = []
    for attribute in ATTRIBUTE_ORDER:
        if attribute in BANDS and attribute in schema:
            value = band_expr(attribute, BANDS[attribute])
        elif attribute in CATEGORIES and attribute in schema:
            value = pl.col(attribute).cast(pl.String)
            value = value.str.to_lowercase() if attribute in LOWERCASE else value
        else:
            continue
        parts.append(
            units.select(*base, attribute=pl.lit(attribute), value=value.fill_null(MISSING))
        )
    if "technologies" in schema:
        has = pl.col("technologies").is_not_null()
        parts.append(
            units.filter(~has).select(
                *base, attribute=pl.lit("technologies"), value=pl.lit(MISSING)
            )
        )
        parts.append(
            units.filter(has)
            .select(
                *base,
                attribute=pl.lit("technologies"),
                value=pl.col("technologies").list.eval(pl.element().str.to_lowercase()),
            )
            .explode("value")
            .drop_nulls("value")
            .unique(["_row", "value"])
        )
    for probe in probes:
        parts.append(
            units.filter(probe.fired()).select(
                *base, attribute=pl.lit("signal"), value=pl.lit(probe.label)
            )
        )
    return pl.concat(parts)


# --------------------------------------------------------------------------------------
# The rules-file form of an attribute value
# --------------------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    """A value in TOML inline syntax (strings, numbers, booleans, lists, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def _band_bounds(attribute: str, label: str) -> dict[str, int]:
    for low, high, name in BANDS[attribute]:
        if name == label:
            return {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    raise KeyError(label)


def condition_value(attribute: str, values: Sequence[str]) -> Any:
    """The rules-file value of a condition on ``attribute`` matching any of ``values``."""
    if list(values) == [MISSING]:
        return {"missing": True}
    if attribute in BANDS:
        bounds = [_band_bounds(attribute, v) for v in values]
        lows = [b.get("min") for b in bounds]
        highs = [b.get("max") for b in bounds]
        out = {}
        if all(v is not None for v in lows):
            out["min"] = min(v for v in lows if v is not None)
        if all(v is not None for v in highs):
            out["max"] = max(v for v in highs if v is not None)
        return out
    if attribute == "technologies":
        return {"any": list(values)}
    return list(values)


def rule_text(attribute: str, value: str, probes: dict[str, EventCriterion]) -> str:
    if attribute == "signal":
        return signal_text(probes[value])
    return f"{attribute} = {toml_value(condition_value(attribute, [value]))}"


def probe_keys(probe: EventCriterion) -> list[str]:
    """The rules-file keys (``key = value``) that test exactly what ``probe`` tested."""
    if isinstance(probe, GrowthCriterion):
        parts = [f"growth = {toml_value(probe.table)}", f"column = {toml_value(probe.column)}"]
        parts.append(f"within_days = {probe.within_days}")
        if probe.min_percent is not None:
            parts.append(f"min_percent = {toml_value(probe.min_percent)}")
        return parts
    parts = [f"signal = {toml_value(probe.signal)}"]
    if probe.departments:
        parts.append(f"departments = {toml_value(list(probe.departments))}")
    if probe.round_types:
        parts.append(f"round_types = {toml_value(list(probe.round_types))}")
    parts.append(f"within_days = {probe.within_days}")
    return parts


def signal_text(probe: EventCriterion) -> str:
    return ", ".join(probe_keys(probe))


def condition(attribute: str, values: Sequence[str], where: str) -> Condition:
    """The rules condition on ``attribute`` that matches any of the profile's ``values``."""
    value = condition_value(attribute, values)
    if isinstance(value, dict) and "missing" in value:
        return Condition(attribute, "missing", True, where)
    if attribute in BANDS:
        return Condition(attribute, "range", (value.get("min"), value.get("max")), where)
    if attribute == "technologies":
        return Condition(attribute, "any", tuple(value["any"]), where)
    return Condition(attribute, "in", tuple(value), where)


def contiguous(attribute: str, values: Sequence[str]) -> bool:
    """Whether the bands ``values`` of ``attribute`` form one unbroken range."""
    order = [label for _, _, label in BANDS[attribute]]
    spots = sorted(order.index(v) for v in values)
    return spots == list(range(spots[0], spots[0] + len(spots)))
