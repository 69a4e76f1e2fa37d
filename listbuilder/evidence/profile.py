"""An ICP drawn from evidence: which attributes won deals have that lost deals lack.

For every attribute value (industry, employee band, revenue band, country, funding stage,
each technology, each signal as of the deal's created date) the closed deals that have it
give a win rate, a 95% Wilson interval and a lift over the overall win rate. Groups of
fewer than ``MIN_DEALS`` deals are flagged. The same comparison runs over accounts, the
best (top quarter by won amount) against the worst (churned, or the bottom quarter).

From the attributes whose interval lies wholly above or below the overall rate,
``propose_rules`` writes a rules file: includes, excludes, points and tier thresholds,
each line commented with the figure it came from. It is parsed and scored before it is
written, so ``listbuilder build`` accepts it as it is.
"""

from __future__ import annotations

import dataclasses
import json
import math
import textwrap
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from listbuilder.evidence.deals import (
    MIN_DEALS,
    Evidence,
    gather_evidence,
    money,
    percent,
    rate_columns,
    score_deals,
    wilson_interval,
)
from listbuilder.files import atomic_directory, check_output_dir, write_csv
from listbuilder.inputs import read_source
from listbuilder.rules import (
    Condition,
    Rules,
    SignalCriterion,
    SignalName,
    attach_signals_at,
    parse_rules,
)

MISSING = "(missing)"
HIRING_WINDOWS = (30, 60, 90)
FUNDING_WINDOWS = (90, 180, 365)
ROUND_TYPE_WINDOW = 365
WIDEST_DAYS = max(*HIRING_WINDOWS, *FUNDING_WINDOWS, ROUND_TYPE_WINDOW)
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
MAX_CRITERIA = 8
EXCLUDE_BELOW = 0.8  # exclude only values whose lift is clearly below this
MAX_POINTS = 3
TOP_SHARE = 0.10  # Tier 1 needs at least this share of eligible deals at or above it
BEST_QUANTILE = 0.75
SEGMENT_NAME = "evidence_icp"
TABLE_COLUMNS = (
    "attribute",
    "value",
    "deals",
    "won",
    "lost",
    "win_rate",
    "ci_low",
    "ci_high",
    "lift",
    "lift_low",
    "lift_high",
    "z",
    "too_few",
    "avg_won_amount",
    "rule",
)
BEST_COLUMNS = (
    "attribute",
    "value",
    "accounts",
    "best",
    "worst",
    "best_rate",
    "ci_low",
    "ci_high",
    "lift",
    "lift_low",
    "lift_high",
    "z",
    "too_few",
    "rule",
)


@dataclass(frozen=True)
class BestWorst:
    """The account comparison: who counts as best and worst, and the table."""

    best_rule: str
    worst_rule: str
    best: int
    worst: int
    table: pl.DataFrame


@dataclass(frozen=True)
class Profile:
    """Everything ``profile`` computes, before it is written anywhere."""

    evidence: Evidence
    overall: float
    min_deals: int
    table: pl.DataFrame
    best_worst: BestWorst | None
    best_worst_note: str
    probes: tuple[SignalCriterion, ...]
    rules_text: str
    rules: Rules


# --------------------------------------------------------------------------------------
# Attribute values
# --------------------------------------------------------------------------------------


def signal_probes(events: dict[str, pl.LazyFrame]) -> list[SignalCriterion]:
    """The signals the profile tests: hiring by department and window, funding by window.

    Departments and round types come from the events themselves, so a vendor's own
    vocabulary is tested as it is.
    """
    probes: list[SignalCriterion] = []

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


def _values(
    units: pl.LazyFrame, schema: pl.Schema, probes: Sequence[SignalCriterion]
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
            units.filter(pl.col(f"{probe.key}_n").fill_null(0) >= 1).select(
                *base, attribute=pl.lit("signal"), value=pl.lit(probe.label)
            )
        )
    return pl.concat(parts)


def _compare(
    units: pl.DataFrame, probes: Sequence[SignalCriterion], min_n: int
) -> tuple[pl.DataFrame, float]:
    """Per attribute value: units, positives, rate, interval, lift; and the overall rate.

    ``units`` has ``_row`` (unique), ``_pos`` (won, or best), ``_amount`` and attributes.
    """
    overall = units.get_column("_pos").mean()
    assert isinstance(overall, float)
    long = _values(units.lazy(), units.schema, probes)
    won_amount = pl.col("_amount").filter(pl.col("_pos"))
    order = {a: i for i, a in enumerate(ATTRIBUTE_ORDER)}
    table = (
        long.group_by("attribute", "value")
        .agg(
            n=pl.len().cast(pl.Int64),
            pos=pl.col("_pos").sum().cast(pl.Int64),
            avg_won_amount=won_amount.mean(),
        )
        .with_columns(neg=pl.col("n") - pl.col("pos"))
        .with_columns(rate_columns("pos", "n", overall, min_n))
        .with_columns(_order=pl.col("attribute").replace_strict(order, return_dtype=pl.Int32))
        .sort(["_order", "lift", "n", "value"], descending=[False, True, True, False])
        .drop("_order")
        .collect()
    )
    return table, overall


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


def _rule_text(attribute: str, value: str, probes: dict[str, SignalCriterion]) -> str:
    if attribute == "signal":
        return _signal_text(probes[value])
    return f"{attribute} = {toml_value(condition_value(attribute, [value]))}"


def _signal_text(probe: SignalCriterion) -> str:
    parts = [f'signal = "{probe.signal}"']
    if probe.departments:
        parts.append(f"departments = {toml_value(list(probe.departments))}")
    if probe.round_types:
        parts.append(f"round_types = {toml_value(list(probe.round_types))}")
    parts.append(f"within_days = {probe.within_days}")
    return ", ".join(parts)


# --------------------------------------------------------------------------------------
# The profile
# --------------------------------------------------------------------------------------


def profile_evidence(evidence: Evidence, *, min_deals: int = MIN_DEALS) -> Profile:
    """Compare won with lost deals (and best with worst accounts) on every attribute."""
    probes = signal_probes(evidence.events)
    deals = evidence.deals
    if probes:
        deals = attach_signals_at(deals.lazy(), probes, evidence.events, "created_date").collect()
    units = deals.with_columns(
        _row=pl.int_range(pl.len(), dtype=pl.Int64),
        _pos=pl.col("is_won"),
        _amount=pl.col("amount"),
    )
    table, overall = _compare(units, probes, min_deals)
    by_label = {p.label: p for p in probes}
    table = table.select(
        "attribute",
        "value",
        deals="n",
        won="pos",
        lost="neg",
        win_rate="win_rate",
        ci_low="ci_low",
        ci_high="ci_high",
        lift="lift",
        lift_low="lift_low",
        lift_high="lift_high",
        z="z",
        too_few="too_few",
        avg_won_amount="avg_won_amount",
    ).with_columns(
        rule=pl.Series(
            [_rule_text(a, v, by_label) for a, v in table.select("attribute", "value").iter_rows()],
            dtype=pl.String,
        )
    )
    best_worst, note = best_versus_worst(evidence, min_deals)
    rules_text, rules = propose_rules(evidence, table, overall, probes, min_deals)
    return Profile(
        evidence=evidence,
        overall=overall,
        min_deals=min_deals,
        table=table,
        best_worst=best_worst,
        best_worst_note=note,
        probes=tuple(probes),
        rules_text=rules_text,
        rules=rules,
    )


def best_versus_worst(evidence: Evidence, min_n: int) -> tuple[BestWorst | None, str]:
    """Compare the best accounts with the worst on company attributes.

    Best: accounts with a won deal, not churned, whose total won amount is in the top
    quarter (with no amounts at all: more than one won deal, i.e. they expanded). Worst:
    accounts whose CRM status is ``churned``; without any, the bottom quarter by won
    amount. Returns ``None`` and the reason when either group is empty.
    """
    deals = evidence.deals
    per_account = deals.group_by("account_id").agg(
        won_deals=pl.col("is_won").sum(),
        won_amount=pl.col("amount").filter(pl.col("is_won")).sum(),
        amounts=pl.col("amount").filter(pl.col("is_won")).is_not_null().sum(),
    )
    accounts = evidence.accounts.join(per_account, on="account_id", how="left")
    churned = (pl.col("status") == "churned").fill_null(False)
    customers = accounts.filter((pl.col("won_deals") > 0) & ~churned)
    has_amounts = customers.get_column("amounts").sum() > 0
    if has_amounts:
        cut = customers.get_column("won_amount").quantile(BEST_QUANTILE, "nearest")
        best = customers.filter(pl.col("won_amount") >= cut)
        best_rule = (
            f"customers with a won deal, not churned, in the top quarter by won amount: "
            f"at least {money(cut)}"
        )
    else:
        best = customers.filter(pl.col("won_deals") > 1)
        best_rule = "customers (not churned) with more than one won deal"
    n_churned = accounts.filter(churned).height
    if n_churned:
        worst = accounts.filter(churned)
        worst_rule = "accounts whose CRM status is churned"
    elif has_amounts:
        low = customers.get_column("won_amount").quantile(1 - BEST_QUANTILE, "nearest")
        worst = customers.filter(pl.col("won_amount") <= low)
        worst_rule = f"customers in the bottom quarter by won amount: at most {money(low)}"
    else:
        return None, "no churned accounts and no deal amounts, so no worst accounts to compare"
    worst = worst.join(best.select("account_id"), on="account_id", how="anti")
    if best.height == 0 or worst.height == 0:
        return None, f"{best.height} best and {worst.height} worst accounts: nothing to compare"
    companies = deals.drop("amount").unique("company_id", keep="first", maintain_order=True)
    units = (
        pl.concat(
            [
                best.select("account_id", "company_id", _pos=pl.lit(True)),
                worst.select("account_id", "company_id", _pos=pl.lit(False)),
            ]
        )
        .sort("account_id")
        .join(
            companies.drop("account_id", "is_won"),
            on="company_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(_row=pl.int_range(pl.len(), dtype=pl.Int64), _amount=pl.lit(None, pl.Float64))
    )
    table, _ = _compare(units, [], min_n)
    table = table.select(
        "attribute",
        "value",
        accounts="n",
        best="pos",
        worst="neg",
        best_rate="win_rate",
        ci_low="ci_low",
        ci_high="ci_high",
        lift="lift",
        lift_low="lift_low",
        lift_high="lift_high",
        z="z",
        too_few="too_few",
    ).with_columns(
        rule=pl.Series(
            [_rule_text(a, v, {}) for a, v in table.select("attribute", "value").iter_rows()],
            dtype=pl.String,
        )
    )
    note = f"best: {best_rule}; worst: {worst_rule}"
    return BestWorst(best_rule, worst_rule, best.height, worst.height, table), note


# --------------------------------------------------------------------------------------
# Proposed rules
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    code: str
    comment: str


@dataclass(frozen=True)
class _Group:
    """Deals meeting one proposed condition, and how they did."""

    what: str
    deals: int
    won: int
    win_rate: float
    lift: float
    lift_low: float
    lift_high: float
    z: float

    def figure(self) -> str:
        """``country in US, CA: 5,658 deals, win rate 53.6%, lift 1.13 (1.10-1.16)``."""
        return (
            f"{self.what}: {self.deals:,} deals, win rate {percent(self.win_rate)}, "
            f"lift {self.lift:.2f} ({self.lift_low:.2f}-{self.lift_high:.2f})"
        )


def _group(what: str, fired: pl.Expr, deals: pl.DataFrame, overall: float) -> _Group:
    """Win rate, interval, lift and z statistic of the deals where ``fired`` holds."""
    n, won = deals.select(
        fired.sum().cast(pl.Int64).alias("n"),
        (fired & pl.col("is_won")).sum().cast(pl.Int64).alias("won"),
    ).row(0)
    rate = won / n if n else math.nan
    low, high = wilson_interval(won, n)
    z = (rate - overall) / math.sqrt(overall * (1 - overall) / n) if n else 0.0
    return _Group(what, n, won, rate, rate / overall, low / overall, high / overall, z)


def _short(row: dict[str, Any]) -> str:
    return f"{row['value']} {row['lift']:.2f} ({row['lift_low']:.2f}-{row['lift_high']:.2f})"


def _points(lift: float) -> int:
    """Points for a lift: twice its log2, rounded, at least 1 and at most 3 either way."""
    raw = abs(round(2 * math.log2(lift))) if lift > 0 else MAX_POINTS
    return (1 if lift > 1 else -1) * max(1, min(MAX_POINTS, raw))


def _condition(attribute: str, values: Sequence[str]) -> Condition:
    """The rules condition on ``attribute`` that matches any of the profile's ``values``."""
    value = condition_value(attribute, values)
    where = f"proposed.{attribute}"
    if isinstance(value, dict) and "missing" in value:
        return Condition(attribute, "missing", True, where)
    if attribute in BANDS:
        return Condition(attribute, "range", (value.get("min"), value.get("max")), where)
    if attribute == "technologies":
        return Condition(attribute, "any", tuple(value["any"]), where)
    return Condition(attribute, "in", tuple(value), where)


def _contiguous(attribute: str, values: Sequence[str]) -> bool:
    order = [label for _, _, label in BANDS[attribute]]
    spots = sorted(order.index(v) for v in values)
    return spots == list(range(spots[0], spots[0] + len(spots)))


def propose_rules(
    evidence: Evidence,
    table: pl.DataFrame,
    overall: float,
    probes: Sequence[SignalCriterion],
    min_deals: int,
) -> tuple[str, Rules]:
    """Write a rules file from the attribute values whose 95% interval excludes 1 (lift).

    One segment, from groups of at least ``min_deals`` deals:

    - include: the industries whose win rate is clearly above the overall rate, and the
      span of the employee bands that are;
    - exclude: industries (when none is included), funding stages and technologies whose
      lift is clearly below ``EXCLUDE_BELOW``;
    - score: per attribute, the values clearly above merged into one criterion and those
      clearly below into another; the best hiring and the best funding signal (highest z),
      joined by the other departments or round types that did at least as well in the
      same window. Points are ``round(2 * log2(lift))`` of the criterion's own deals, 1 to
      3 either way; the ``MAX_CRITERIA`` with the largest ``|z|`` are kept;
    - tiers: from the proposed scores of the deals themselves (``_tier_thresholds``).

    The text is parsed before it is returned, so it is a valid rules file.
    """
    deals = evidence.deals
    usable = table.filter(~pl.col("too_few"))
    above = usable.filter(pl.col("lift_low") > 1)
    below = usable.filter(pl.col("lift_high") < 1)

    def values(frame: pl.DataFrame, attribute: str, known: bool = True) -> list[dict[str, Any]]:
        out = frame.filter(pl.col("attribute") == attribute)
        out = out.filter((pl.col("value") != MISSING) if known else (pl.col("value") == MISSING))
        return sorted(out.iter_rows(named=True), key=lambda r: r["value"])

    include: list[_Line] = []
    exclude: list[_Line] = []
    handled: set[str] = set()
    industries = values(above, "industry")
    if industries:
        include.append(_condition_line("industry", industries, deals, overall))
        handled.add("industry")
    bands = values(above, "employees")
    if bands:
        include.append(_condition_line("employees", bands, deals, overall, span=True))
        handled.add("employees")
    excluded: set[tuple[str, str]] = set()
    for attribute in ("industry", "funding_stage", "technologies"):
        if attribute in handled:
            continue
        found = [r for r in values(below, attribute) if r["lift_high"] < EXCLUDE_BELOW]
        if found:
            exclude.append(_condition_line(attribute, found, deals, overall))
            excluded |= {(attribute, r["value"]) for r in found}

    candidates: list[tuple[_Group, list[_Line]]] = []
    for attribute in ("employees", "revenue_usd", "country", "funding_stage", "technologies"):
        if attribute in handled:
            continue
        for frame in (above, below):
            found = [r for r in values(frame, attribute) if (attribute, r["value"]) not in excluded]
            if (
                attribute in BANDS
                and found
                and not _contiguous(attribute, [r["value"] for r in found])
            ):
                found = [max(found, key=lambda r: abs(r["z"]))]
            for group in (found, values(frame, attribute, known=False)):
                if group:
                    candidates.append(_attribute_criterion(attribute, group, deals, overall))
    by_label = {p.label: p for p in probes}
    for signal in ("hiring", "funding"):
        found = [
            r
            for r in above.filter(pl.col("attribute") == "signal").iter_rows(named=True)
            if by_label[r["value"]].signal == signal
        ]
        if found:
            candidates.append(_signal_criterion(found, by_label, evidence, overall))
    candidates.sort(key=lambda c: (-abs(c[0].z), c[0].what))
    score = [lines for _, lines in candidates[:MAX_CRITERIA]]

    header = _header(evidence, overall, min_deals, above.height, below.height)
    draft = _render(header, include, exclude, score, [("Tier 1", 0, "placeholder")])
    rules = parse_rules(tomllib.loads(draft), "proposed_rules.toml")
    tiers = _tier_thresholds(rules, evidence, overall, min_deals)
    text = _render(header, include, exclude, score, tiers)
    return text, parse_rules(tomllib.loads(text), "proposed_rules.toml")


def _condition_line(
    attribute: str,
    rows: list[dict[str, Any]],
    deals: pl.DataFrame,
    overall: float,
    *,
    span: bool = False,
) -> _Line:
    names = [r["value"] for r in rows]
    condition = _condition(attribute, names)
    group = _group(condition.describe(), condition.expr(), deals, overall)
    each = ", ".join(_short(r) for r in rows)
    kind = "the span of the bands" if span and len(rows) > 1 else "each"
    code = f"{attribute} = {toml_value(condition_value(attribute, names))}"
    return _Line(code, f"{group.figure()}; {kind}: {each}")


def _attribute_criterion(
    attribute: str, rows: list[dict[str, Any]], deals: pl.DataFrame, overall: float
) -> tuple[_Group, list[_Line]]:
    names = [r["value"] for r in rows]
    condition = _condition(attribute, names)
    group = _group(condition.describe(), condition.expr(), deals, overall)
    direction = "above" if rows[0]["lift"] > 1 else "below"
    label = condition.describe()
    points = _points(group.lift)
    return group, [
        _Line("[[segments.score]]", group.figure()),
        _Line(f"label = {toml_value(label)}", f"values whose lift is clearly {direction} 1"),
        _Line(
            f"when = {toml_value({attribute: condition_value(attribute, names)})}",
            "each: " + ", ".join(_short(r) for r in rows),
        ),
        _Line(f"points = {points}", f"round(2 x log2({group.lift:.2f})), 1 to 3 either way"),
    ]


def _signal_criterion(
    found: list[dict[str, Any]],
    by_label: dict[str, SignalCriterion],
    evidence: Evidence,
    overall: float,
) -> tuple[_Group, list[_Line]]:
    """The strongest signal (highest z), joined by its peers in the same window.

    A peer is a department (or round type) tested over the same window whose own win
    rate is at least the strongest one's: hiring sellers and hiring revenue operations
    are one signal to a rules author, not two.
    """
    best = max(found, key=lambda r: (r["z"], r["value"]))
    probe = by_label[best["value"]]
    peers = [
        r
        for r in found
        if by_label[r["value"]].within_days == probe.within_days
        and r["win_rate"] >= best["win_rate"]
        and (by_label[r["value"]].departments or by_label[r["value"]].round_types)
        and (probe.departments or probe.round_types)
    ]
    peers = peers or [best]
    departments = sorted({d for r in peers for d in by_label[r["value"]].departments})
    round_types = sorted({t for r in peers for t in by_label[r["value"]].round_types})
    kinds = departments or round_types
    label = f"{probe.signal}: {' or '.join(kinds) if kinds else _any(probe)}, " + (
        f"{probe.within_days} days"
    )
    merged = dataclasses.replace(
        probe,
        label=label,
        departments=tuple(departments),
        round_types=tuple(round_types),
        key="_proposed",
    )
    flagged = attach_signals_at(
        evidence.deals.lazy(), [merged], evidence.events, "created_date"
    ).collect()
    group = _group(label, pl.col("_proposed_n").fill_null(0) >= 1, flagged, overall)
    lines = [
        _Line("[[segments.score]]", group.figure()),
        _Line(f"label = {toml_value(label)}", "the signals of the lines below, merged"),
        _Line(f'signal = "{probe.signal}"', "tested as of each deal's created date"),
    ]
    each = ", ".join(_short(r) for r in peers)
    if departments:
        lines.append(_Line(f"departments = {toml_value(departments)}", f"each: {each}"))
    if round_types:
        lines.append(_Line(f"round_types = {toml_value(round_types)}", f"each: {each}"))
    lines += [
        _Line(
            f"within_days = {probe.within_days}",
            f"the window of the strongest signal ({best['value']}, z {best['z']:.1f})",
        ),
        _Line("min_count = 1", "one event in the window, as tested"),
        _Line(
            f"points = {_points(group.lift)}",
            f"round(2 x log2({group.lift:.2f})), 1 to 3 either way",
        ),
    ]
    return group, lines


def _any(probe: SignalCriterion) -> str:
    return "any department" if probe.signal == "hiring" else "any round"


def _tier_thresholds(
    rules: Rules, evidence: Evidence, overall: float, min_deals: int
) -> list[tuple[str, int, str]]:
    """Up to three thresholds from the proposed scores of the deals the segment admits.

    Over eligible deals, for each score ``t``: the deals scoring ``t`` or more and their
    win rate. Tier 1 is the highest ``t`` with at least ``min_deals`` deals and 10% of the
    eligible ones. The lowest tier is found by walking down the scores from there while
    the deals scoring exactly ``t`` still win at least the overall rate (a score held by
    fewer than ``min_deals`` deals cannot stop the walk): every score a list admits beat
    the baseline. Tier 2 is the score between them closest to halfway in deals.
    """
    scored = score_deals(rules, evidence).filter(pl.col("_elig0"))
    if scored.height == 0:
        return [("Tier 1", 0, "no deal meets the includes: nothing to set thresholds from")]
    by_score = (
        scored.group_by("_score0")
        .agg(n=pl.len(), won=pl.col("is_won").sum())
        .sort("_score0", descending=True)
        .with_columns(n_ge=pl.col("n").cum_sum(), won_ge=pl.col("won").cum_sum())
        .with_columns(rate_ge=pl.col("won_ge") / pl.col("n_ge"))
    )
    rows = list(by_score.iter_rows(named=True))
    total = scored.height
    candidates = [r for r in rows if r["n_ge"] >= min_deals]
    if not candidates:
        lowest = rows[-1]["_score0"]
        return [
            (
                "Tier 1",
                lowest,
                f"only {total:,} eligible deals (fewer than {min_deals}): one tier for all",
            )
        ]
    top = next((r for r in candidates if r["n_ge"] >= max(min_deals, TOP_SHARE * total)), None)
    top = top or candidates[-1]
    bottom = top
    for r in rows:
        if r["_score0"] >= top["_score0"]:
            continue
        if r["n"] >= min_deals and r["won"] / r["n"] < overall:
            break
        bottom = r
    picked = [top]
    if bottom["_score0"] < top["_score0"]:
        between = [r for r in candidates if bottom["_score0"] < r["_score0"] < top["_score0"]]
        if between:
            half = (top["n_ge"] + bottom["n_ge"]) / 2
            picked.append(min(between, key=lambda r: (abs(r["n_ge"] - half), -r["_score0"])))
        picked.append(bottom)
    tiers = []
    for i, r in enumerate(picked):
        why = (
            f"deals scoring {r['_score0']} or more: {r['n_ge']:,}, win rate "
            f"{percent(r['rate_ge'])} (lift {r['rate_ge'] / overall:.2f})"
        )
        tiers.append((f"Tier {i + 1}", int(r["_score0"]), why))
    return tiers


def _header(
    evidence: Evidence, overall: float, min_deals: int, n_strong: int, n_weak: int
) -> list[str]:
    q = evidence.quality
    text = (
        "Proposed ICP rules, drawn by `listbuilder profile` from closed deals; review "
        "before use. Each line's comment gives the figure it came from (see profile.csv). "
        f"Evidence: {q.used:,} closed deals in {q.source}, created {q.first_created} to "
        f"{q.last_created}; overall win rate {percent(overall)}. Lift: a group's win rate "
        f"divided by {percent(overall)}, with (in brackets) its 95% Wilson interval. Used: "
        f"the {n_strong} attribute values whose interval lies above 1 and the {n_weak} "
        f"whose interval lies below 1, among groups of at least {min_deals} deals."
    )
    return ["# " + line for line in textwrap.wrap(text, 86, break_on_hyphens=False)]


def _render(
    header: list[str],
    include: list[_Line],
    exclude: list[_Line],
    score: list[list[_Line]],
    tiers: list[tuple[str, int, str]],
) -> str:
    note = "one segment: the evidence supports one ICP"
    if not (include or exclude or score):
        note = "no attribute differs clearly from the overall rate: this lists everyone"
    lines: list[_Line | None] = [
        _Line("[[segments]]", note),
        _Line(f'name = "{SEGMENT_NAME}"', "proposed by listbuilder profile"),
        _Line(
            'description = "Drawn from won and lost deals"',
            "see profile.md for the whole comparison",
        ),
    ]
    if include:
        lines += [None, _Line("[segments.include]", "every condition must hold")]
        lines += include
    if exclude:
        lines += [None, _Line("[segments.exclude]", "any condition disqualifies")]
        lines += exclude
    for block in score:
        lines.append(None)
        lines += block
    for name, min_score, why in tiers:
        lines += [
            None,
            _Line("[[segments.tiers]]", "thresholds from the proposed scores of past deals"),
            _Line(f'name = "{name}"', "highest first"),
            _Line(f"min_score = {min_score}", why),
        ]
    # Comments start in one column, unless a line is too long to leave room for them.
    width = min(max(len(line.code) for line in lines if line is not None), 40) + 2
    body = [
        "" if line is None else f"{line.code.ljust(width - 2)}  # {line.comment}" for line in lines
    ]
    return "\n".join([*header, "", *body]) + "\n"


# --------------------------------------------------------------------------------------
# profile.md
# --------------------------------------------------------------------------------------


def _md_rows(frame: pl.DataFrame, limit: int = 8) -> list[str]:
    out = [
        "| attribute | value | deals | win rate | lift (95% CI) | avg won |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in frame.head(limit).iter_rows(named=True):
        out.append(
            f"| {r['attribute']} | {r['value']} | {r['deals']:,} | {percent(r['win_rate'])} | "
            f"{r['lift']:.2f} ({r['lift_low']:.2f}-{r['lift_high']:.2f}) | "
            f"{money(r['avg_won_amount'])} |"
        )
    return out


def _section(title: str, frame: pl.DataFrame, empty: str) -> list[str]:
    lines = [f"## {title}", ""]
    if frame.height == 0:
        return [*lines, empty, ""]
    return [*lines, *_md_rows(frame), ""]


def render_markdown(profile: Profile) -> str:
    """The one-page ICP draft: what wins, what loses, and the proposed rules in brief."""
    q = profile.evidence.quality
    usable = profile.table.filter(~pl.col("too_few"))
    better = usable.filter(pl.col("lift_low") > 1).sort("lift", descending=True)
    worse = usable.filter(pl.col("lift_high") < 1).sort("lift")
    overall = percent(profile.overall)
    lines = [
        "# ICP draft from closed deals",
        "",
        f"From {q.used:,} closed deals ({q.won:,} won, {q.lost:,} lost; win rate {overall}) "
        f"created {q.first_created} to {q.last_created}, on "
        f"{profile.evidence.accounts.height:,} CRM accounts matched to companies. "
        f"Lift is a group's win rate divided by {overall}; the interval is the 95% Wilson "
        f"score interval of its win rate, divided likewise. Listed: groups of at least "
        f"{profile.min_deals} deals whose whole interval lies above (or, for the anti-ICP, "
        "below) the overall rate. Signals count only events up to each deal's created "
        "date; company attributes are today's values. Lifts are one attribute at a time, "
        "so attributes that travel together (an industry and a size band) share credit.",
        "",
    ]
    lines += _section(
        "Firmographics",
        better.filter(pl.col("attribute").is_in(FIRMOGRAPHICS)),
        "No firmographic value wins clearly more often than the rest.",
    )
    lines += _section(
        "Technographics",
        better.filter(pl.col("attribute") == "technologies"),
        "No technology wins clearly more often than the rest.",
    )
    lines += _section(
        "Signals (as of each deal's created date)",
        better.filter(pl.col("attribute") == "signal"),
        "No signal wins clearly more often than the rest (or no events were given).",
    )
    lines += _section(
        "Anti-ICP: the worst lift",
        worse,
        "No attribute value loses clearly more often than the rest.",
    )
    lines += ["## Best versus worst accounts", ""]
    bw = profile.best_worst
    if bw is None:
        lines += [f"Not compared: {profile.best_worst_note}.", ""]
    else:
        lines += [
            f"{bw.best:,} best accounts ({bw.best_rule}) against {bw.worst:,} worst "
            f"({bw.worst_rule}). Share that are best, by attribute, where the interval "
            "excludes the overall share (full table: best_vs_worst.csv):",
            "",
        ]
        clear = bw.table.filter(
            ~pl.col("too_few") & ((pl.col("lift_low") > 1) | (pl.col("lift_high") < 1))
        ).sort("lift", descending=True)
        if clear.height == 0:
            lines += ["No attribute value separates them clearly.", ""]
        else:
            lines += [
                "| attribute | value | accounts | best | lift (95% CI) |",
                "| --- | --- | ---: | ---: | ---: |",
            ]
            for r in clear.head(10).iter_rows(named=True):
                lines.append(
                    f"| {r['attribute']} | {r['value']} | {r['accounts']:,} | "
                    f"{percent(r['best_rate'])} | {r['lift']:.2f} "
                    f"({r['lift_low']:.2f}-{r['lift_high']:.2f}) |"
                )
            lines.append("")
    lines += ["## Proposed rules", "", *_rules_summary(profile.rules), ""]
    lines += ["## Data", "", *(f"- {line}" for line in q.lines()), ""]
    return "\n".join(lines)


def _rules_summary(rules: Rules) -> list[str]:
    seg = rules.segments[0]
    out = [f"`proposed_rules.toml`, segment `{seg.name}`:", ""]
    out += [f"- include: {c.describe()}" for c in seg.include] or ["- include: everyone"]
    out += [f"- exclude: {c.describe()}" for c in seg.exclude]
    out += [f"- {c.points:+d} {c.label}" for c in seg.score]
    out += [f"- {t.name}: score {t.min_score} or more" for t in seg.tiers]
    return out


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


def _rounded(frame: pl.DataFrame) -> pl.DataFrame:
    """Round rates to 4 and amounts to 2 decimals, so files stay small and stable."""
    return frame.with_columns(
        pl.col(c).round(2 if c == "avg_won_amount" else 4)
        for c, dtype in frame.schema.items()
        if dtype == pl.Float64
    )


def write_profile(profile: Profile, out: str | Path) -> list[str]:
    """Write profile.csv, best_vs_worst.csv (when compared), profile.md and
    proposed_rules.toml into ``out``, replaced whole; return the file names."""
    names = ["profile.csv", "profile.md", "proposed_rules.toml"]
    with atomic_directory(out, "profile") as tmp:
        write_csv(_rounded(profile.table.select(TABLE_COLUMNS)), tmp / "profile.csv")
        if profile.best_worst is not None:
            write_csv(
                _rounded(profile.best_worst.table.select(BEST_COLUMNS)), tmp / "best_vs_worst.csv"
            )
            names.insert(1, "best_vs_worst.csv")
        (tmp / "profile.md").write_text(render_markdown(profile), encoding="utf-8")
        (tmp / "proposed_rules.toml").write_text(profile.rules_text, encoding="utf-8")
    return names


def run_profile(
    *,
    companies_path: str | Path,
    crm_path: str | Path,
    opportunities_path: str | Path,
    out: str | Path,
    jobs_path: str | Path | None = None,
    funding_path: str | Path | None = None,
    min_deals: int = MIN_DEALS,
) -> Profile:
    """Read the inputs, profile the closed deals and write the profile directory."""
    check_output_dir(out, "profile")
    evidence = gather_evidence(
        read_source(companies_path, "companies"),
        read_source(crm_path, "crm"),
        read_source(opportunities_path, "opportunities"),
        read_source(jobs_path, "jobs") if jobs_path else None,
        read_source(funding_path, "funding") if funding_path else None,
        widest_days=WIDEST_DAYS,
    )
    profile = profile_evidence(evidence, min_deals=min_deals)
    write_profile(profile, out)
    return profile


def format_profile(profile: Profile, limit: int = 5) -> str:
    """A short terminal summary: the counts, then the strongest lifts either way."""
    usable = profile.table.filter(~pl.col("too_few"))
    lines = [*profile.evidence.quality.lines(), ""]
    for title, frame in (
        ("highest lift", usable.filter(pl.col("lift_low") > 1).sort("lift", descending=True)),
        ("lowest lift", usable.filter(pl.col("lift_high") < 1).sort("lift")),
    ):
        lines.append(f"{title}:")
        if frame.height == 0:
            lines.append("  (none clear of the overall rate)")
        for r in frame.head(limit).iter_rows(named=True):
            lines.append(
                f"  {r['attribute']} = {r['value']}: {r['deals']:,} deals, win rate "
                f"{percent(r['win_rate'])}, lift {r['lift']:.2f} "
                f"({r['lift_low']:.2f}-{r['lift_high']:.2f})"
            )
    return "\n".join(lines)
