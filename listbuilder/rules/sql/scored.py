"""The rules compiled to SQL: one dialect-neutral sqlglot tree, rendered per engine.

The tree computes, for every company, the same columns ``scoring.score_companies`` adds
to a polars frame (``_incl{i}``, ``_exc{i}_{k}``, ``_f{i}_{j}``, ``_elig{i}``,
``_fit{i}``, ``_int{i}``, ``_score{i}``, ``_pct{i}``, ``_keep{i}``, ``_qual{i}``,
``_seg``, each signal criterion's ``{key}_n`` / ``_d{k}`` / ``_values`` / ``_t{k}`` /
``_type`` / ``_what`` / ``_date`` and each growth criterion's ``{key}_now`` / ``_then`` /
``_g``), so the build reads an engine's result exactly as it reads polars'. The
semantics are the rules reference's, to the letter:

- a null makes every test false except ``missing`` (each test is wrapped in
  ``COALESCE(..., FALSE)``);
- strings compare case-insensitively (both sides lowered);
- a window ``[as_of - within_days, as_of]`` includes both ends;
- a company goes to the first segment, in file order, for which it qualifies.

Table names are parameters, so the same tree reads ``companies``/``jobs``/``funding``
registered in an embedded engine or ``analytics.vendor.companies`` in a warehouse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlglot import exp

from listbuilder.errors import ConfigError
from listbuilder.inputs import ROLES
from listbuilder.rules.conditions import Condition
from listbuilder.rules.definitions import (
    AttributeCriterion,
    EventCriterion,
    GrowthCriterion,
    Rules,
    Segment,
    SignalCriterion,
)
from listbuilder.rules.scoring import exclude_col, fired_col, included_col
from listbuilder.rules.signals import EVENT_DATE, window_start
from listbuilder.rules.sql.aggregates import (
    distinct_aggs,
    distinct_columns,
    growth_aggs,
    growth_columns,
    growth_fired_sql,
    growth_flags,
    growth_rank_names,
    growth_sql,
    quotable,
)

# The logical tables a rules file can read, and the name each has by default.
DEFAULT_TABLES = {"companies": "companies", "hiring": "jobs", "funding": "funding"}
# The previous run's seats (tier stickiness), registered by an engine under this name.
PREVIOUS_TABLE = "_previous"
# Column types when the data is not at hand (`listbuilder sql`): the canonical schemas.
CANONICAL_SCHEMAS: dict[str, Mapping[str, pl.DataType]] = {
    "companies": ROLES["companies"].dtypes,
    "hiring": ROLES["jobs"].dtypes,
    "funding": ROLES["funding"].dtypes,
}


@dataclass(frozen=True)
class SqlPlan:
    """The compiled rules: ``scored`` selects every company column plus the scoring ones."""

    scored: exp.Select


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _lit(value: Any) -> exp.Expression:
    """A rule's value as a SQL literal; a day is a typed DATE, never a bare string."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, int | float):
        return exp.Literal.number(repr(value) if isinstance(value, float) else value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TypeError(f"no SQL literal for {value!r}")


def _false_if_null(expr: exp.Expression) -> exp.Expression:
    return exp.func("COALESCE", exp.paren(expr, copy=False), exp.false())


def _lower(expr: exp.Expression) -> exp.Expression:
    return exp.Lower(this=expr)


def _is_day(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _compared(column: str, values: tuple[Any, ...], table: str | None) -> exp.Expression:
    """The column, as days when the rule gives days: a timestamp is on its date."""
    col = _col(column, table)
    if any(_is_day(v) for v in values if v is not None):
        return exp.cast(col, exp.DataType.Type.DATE)
    return col


def _list_has(column: str, values: tuple[str, ...], table: str | None) -> exp.Expression:
    """The list column holds at least one of ``values`` (case-insensitively); null if null.

    A filter and a size, not an overlap function: overlap functions answer null when the
    list holds a null element, where the rules say a null element simply is no match.
    """
    x = exp.to_identifier("x")
    lowered = [exp.Literal.string(v.lower()) for v in values]
    test = exp.In(this=_lower(exp.column(x)), expressions=lowered)
    return _list_any_element(_col(column, table), test, x)


def _list_any_element(
    column: exp.Expression, test: exp.Expression, x: exp.Identifier
) -> exp.Expression:
    kept = exp.ArrayFilter(this=column, expression=exp.Lambda(this=test, expressions=[x]))
    return exp.GT(this=exp.ArraySize(this=kept), expression=exp.Literal.number(0))


def _contains_any(text: exp.Expression, needles: tuple[str, ...]) -> exp.Expression:
    """Any needle occurs in the text, ignoring case: a literal substring, never a pattern."""
    return exp.or_(
        *(
            exp.GT(
                this=exp.StrPosition(this=_lower(text.copy()), substr=_lit(n.lower())),
                expression=exp.Literal.number(0),
            )
            for n in needles
        )
    )


def condition_sql(
    cond: Condition, table: str | None = None, lists: frozenset[str] = frozenset()
) -> exp.Expression:
    """Compile one condition to a boolean that is never null (null data makes it false).

    ``lists`` names the list-typed columns, which ``contains`` tests element by element.
    """
    column, value = cond.column, cond.value
    if cond.op == "missing":
        test = exp.Is(this=_col(column, table), expression=exp.null())
        return test if value else exp.not_(test)
    present = exp.not_(exp.Is(this=_col(column, table), expression=exp.null()))
    if cond.op in ("in", "equals"):
        values = value if cond.op == "in" else (value,)
        if all(isinstance(v, str) for v in values):
            lowered = _lower(_col(column, table))
            test = exp.In(this=lowered, expressions=[_lit(v.lower()) for v in values])
        else:
            col = _compared(column, values, table)
            test = exp.or_(*(exp.EQ(this=col.copy(), expression=_lit(v)) for v in values))
    elif cond.op == "range":
        low, high = value
        col = _compared(column, value, table)
        parts = []
        if low is not None:
            parts.append(exp.GTE(this=col.copy(), expression=_lit(low)))
        if high is not None:
            parts.append(exp.LTE(this=col.copy(), expression=_lit(high)))
        test = exp.and_(*parts)
    elif cond.op == "any":
        test = _list_has(column, value, table)
    elif cond.op == "all":
        test = exp.and_(*(_list_has(column, (v,), table) for v in value))
    elif cond.op == "none":
        # A null list is not "none": the presence test keeps it false.
        test = exp.and_(present, exp.not_(_list_has(column, value, table)))
    elif cond.op == "contains":
        if column in lists:
            x = exp.to_identifier("x")
            test = _list_any_element(_col(column, table), _contains_any(exp.column(x), value), x)
        else:
            test = _contains_any(_col(column, table), value)
    else:  # pragma: no cover - the parser admits no other operator
        raise ValueError(f"unknown operator {cond.op}")
    return _false_if_null(test)


def _hit_sql(
    criterion: SignalCriterion, as_of: dt.date, lists: frozenset[str] = frozenset()
) -> exp.Expression:
    """Does an event row count for this criterion (in its window, every condition)?"""
    date_col = EVENT_DATE[criterion.table]
    start = _lit(window_start(as_of, criterion.within_days))
    tests: list[exp.Expression] = [exp.GTE(this=_col(date_col), expression=start)]
    tests += [condition_sql(c, lists=lists) for c in criterion.conditions()]
    return _false_if_null(exp.and_(*tests))


def _count_of(flag: exp.Expression) -> exp.Expression:
    ones = exp.Case(
        ifs=[exp.If(this=flag, true=exp.Literal.number(1))], default=exp.Literal.number(0)
    )
    return exp.cast(exp.Sum(this=ones), exp.DataType.Type.BIGINT)


def _when(flag: exp.Expression, value: exp.Expression) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=flag, true=value)])


def _quoted(criterion: SignalCriterion) -> str | None:
    """The event column a reason quotes (as ``signals`` picks it)."""
    if criterion.legacy:
        return "round_type" if criterion.signal == "funding" else None
    conditions = criterion.conditions()
    return conditions[0].column if conditions else None


def _needs_latest(c: SignalCriterion) -> bool:
    return not (c.legacy and c.signal == "hiring")


def _ties(criteria: list[EventCriterion], lists: frozenset[str]) -> list[exp.Expression]:
    """What breaks ties between same-day events, as polars sorts them: each quoted
    column, a list column as the text its reason quotes."""
    ties = []
    for c in criteria:
        if isinstance(c, GrowthCriterion):
            ties.append(c.column)
        elif _needs_latest(c) and (q := _quoted(c)) is not None:
            ties.append(q)
    return [_quoted_text(q, lists) if q in lists else _col(q) for q in dict.fromkeys(ties)]


def _quoted_text(column: str, lists: frozenset[str]) -> exp.Expression:
    """A quoted value as a reason writes it: a list's elements as text joined by ", "
    (null elements left out, an empty or all-null list empty, a null list null)."""
    if column not in lists:
        return _text(_col(column))
    element = exp.to_identifier("_lb_e")
    as_text = exp.Lambda(
        this=exp.cast(exp.column(element.copy()), exp.DataType.Type.TEXT),
        expressions=[element],
    )
    joined = exp.ArrayToString(
        this=exp.Transform(this=_col(column), expression=as_text),
        expression=exp.Literal.string(", "),
    )
    text = exp.func("COALESCE", joined, exp.Literal.string(""))
    return exp.Case(
        ifs=[exp.If(this=exp.Is(this=_col(column), expression=exp.null()), true=exp.null())],
        default=text,
    )


def _row_flags(c: EventCriterion, as_of: dt.date, lists: frozenset[str]) -> list[exp.Expression]:
    """Per event row, the flags a criterion's aggregates read."""
    if isinstance(c, GrowthCriterion):
        return [exp.alias_(e, name, quoted=True) for name, e in growth_flags(c, as_of)]
    return [exp.alias_(_hit_sql(c, as_of, lists), f"{c.key}_hit", quoted=True)]


def _ranks(c: EventCriterion) -> list[tuple[str, str]]:
    """(flag, row-number column) pairs: the latest row of each flag is numbered 1."""
    if isinstance(c, GrowthCriterion):
        return growth_rank_names(c)
    return [(f"{c.key}_hit", f"{c.key}_rn")] if _needs_latest(c) else []


def _table_cte(
    logical: str,
    criteria: list[EventCriterion],
    as_of: dt.date,
    table: str,
    schema: Mapping[str, pl.DataType] | None,
) -> exp.Select:
    """One row per company: every criterion's columns from one event table, one pass.

    The latest matching event (whose date and quoted value the reasons give) is the last
    one in date order, same-day events ordered by the quoted columns with nulls first,
    as the polars engine sorts them. A table read for growth keeps every row on or before
    as_of (growth looks back to any earlier measurement); others only the widest window.
    """
    lists = _lists(schema)
    date_col = EVENT_DATE[logical]
    if any(isinstance(c, GrowthCriterion) for c in criteria):
        dates: exp.Expression = exp.LTE(this=_col(date_col), expression=_lit(as_of))
    else:
        start = _lit(window_start(as_of, max(c.within_days for c in criteria)))
        dates = exp.Between(this=_col(date_col), low=start, high=_lit(as_of))
    keep = exp.and_(exp.not_(exp.Is(this=_col("company_id"), expression=exp.null())), dates)
    hits = (
        exp.select(exp.Star(), *(f for c in criteria for f in _row_flags(c, as_of, lists)))
        .from_(exp.to_table(table))
        .where(keep)
    )
    order = [
        exp.Ordered(this=c, desc=True, nulls_first=False)
        for c in [_col(date_col), *_ties(criteria, lists)]
    ]
    latest = [
        exp.alias_(
            exp.Window(
                this=exp.RowNumber(),
                partition_by=[_col("company_id"), _col(flag)],
                order=exp.Order(expressions=[o.copy() for o in order]),
            ),
            rank,
            quoted=True,
        )
        for c in criteria
        for flag, rank in _ranks(c)
    ]
    rows = exp.select(exp.Star(), *latest).from_(hits.subquery("_h")) if latest else hits
    aggs: list[exp.Expression] = [_col("company_id")]
    for c in criteria:
        if isinstance(c, GrowthCriterion):
            aggs += growth_aggs(c)
        else:
            aggs += _criterion_aggs(c, date_col, schema)
    grouped = exp.select(*aggs).from_(rows.subquery("_e")).group_by(_col("company_id"))
    growth = [growth_sql(c) for c in criteria if isinstance(c, GrowthCriterion)]
    return _stage(grouped, "_a", growth) if growth else grouped


def _criterion_aggs(
    c: SignalCriterion, date_col: str, schema: Mapping[str, pl.DataType] | None
) -> list[exp.Expression]:
    hit = _col(f"{c.key}_hit")
    aggs = [exp.alias_(_count_of(hit), f"{c.key}_n", quoted=True)]
    aggs += distinct_aggs(c, hit, schema)
    for k, (column, _) in enumerate(c.min_total):
        total = exp.cast(exp.Sum(this=_when(hit.copy(), _col(column))), exp.DataType.Type.DOUBLE)
        zero = exp.cast(exp.Literal.number(0), exp.DataType.Type.DOUBLE)
        aggs.append(exp.alias_(exp.func("COALESCE", total, zero), f"{c.key}_t{k}", quoted=True))
    if not _needs_latest(c):
        return aggs
    last = exp.and_(hit.copy(), exp.EQ(this=_col(f"{c.key}_rn"), expression=exp.Literal.number(1)))
    quoted = _quoted(c)
    if c.legacy:
        value = exp.Max(this=_when(last, _col("round_type")))
        aggs.append(exp.alias_(value, f"{c.key}_type", quoted=True))
    elif quoted is not None:
        value = exp.Max(this=_when(last, _quoted_text(quoted, _lists(schema))))
        aggs.append(exp.alias_(value, f"{c.key}_what", quoted=True))
    latest = exp.Max(this=_when(hit.copy(), _col(date_col)))
    aggs.append(exp.alias_(latest, f"{c.key}_date", quoted=True))
    return aggs


def _criterion_columns(c: EventCriterion) -> list[str]:
    """The columns ``_table_cte`` gives for a criterion, as ``signals`` names them."""
    if isinstance(c, GrowthCriterion):
        return growth_columns(c)
    found = [
        f"{c.key}_n",
        *distinct_columns(c),
        *(f"{c.key}_t{k}" for k in range(len(c.min_total))),
    ]
    if _needs_latest(c):
        if c.legacy:
            found.append(f"{c.key}_type")
        elif _quoted(c) is not None:
            found.append(f"{c.key}_what")
        found.append(f"{c.key}_date")
    return found


def _fired_sql(criterion: AttributeCriterion | EventCriterion) -> exp.Expression:
    if isinstance(criterion, AttributeCriterion):
        return exp.and_(*(condition_sql(c) for c in criterion.conditions))
    if isinstance(criterion, GrowthCriterion):
        return growth_fired_sql(criterion)
    key = criterion.key
    tests = [exp.GTE(this=_col(f"{key}_n"), expression=_lit(criterion.min_count))]
    tests += [
        exp.GTE(this=_col(f"{key}_d{k}"), expression=_lit(n))
        for k, (_, n) in enumerate(criterion.min_distinct)
    ]
    tests += [
        exp.GTE(this=_col(f"{key}_t{k}"), expression=_lit(x))
        for k, (_, x) in enumerate(criterion.min_total)
    ]
    return _false_if_null(exp.and_(*tests))


def _group_score_sql(segment: Segment, i: int, group: str) -> exp.Expression:
    total: exp.Expression = exp.Literal.number(0)
    for j, c in enumerate(segment.score):
        if c.group != group:
            continue
        term = exp.Case(
            ifs=[exp.If(this=_col(fired_col(i, j)), true=exp.Literal.number(c.points))],
            default=exp.Literal.number(0),
        )
        total = exp.Add(this=total, expression=term)
    return exp.cast(total, exp.DataType.Type.BIGINT)


def _percent_sql(segment: Segment, i: int) -> exp.Expression:
    """The score as a percentage of the attainable maximum: one exact division."""
    if segment.max_points <= 0:
        return exp.cast(exp.null(), exp.DataType.Type.DOUBLE)
    score = exp.Mul(this=_col(f"_score{i}"), expression=exp.Literal.number(100))
    return exp.Div(
        this=exp.cast(score, exp.DataType.Type.DOUBLE),
        expression=exp.cast(exp.Literal.number(segment.max_points), exp.DataType.Type.DOUBLE),
    )


def _reaches_sql(segment: Segment, i: int, tier_ix: int) -> exp.Expression:
    """Does a company reach the tier (every threshold it gives)? Never null."""
    tier = segment.tiers[tier_ix]
    tests: list[exp.Expression] = [exp.true()]
    for threshold, column in (
        (tier.min_score, f"_score{i}"),
        (tier.min_percent, f"_pct{i}"),
        (tier.min_fit, f"_fit{i}"),
        (tier.min_intent, f"_int{i}"),
    ):
        if threshold is not None:
            tests.append(exp.GTE(this=_col(column), expression=_lit(threshold)))
    return _false_if_null(exp.and_(*tests))


def _keep_sql(i: int, sticky: bool) -> exp.Expression:
    """Held by stickiness: eligible for its previous segment, score within the allowance."""
    if not sticky:
        return exp.false()
    within = exp.GTE(
        this=_col(f"_score{i}"),
        expression=exp.Sub(this=_col("_prev_score"), expression=_col("_prev_stick")),
    )
    same = exp.EQ(this=_col("_prev_seg"), expression=exp.Literal.number(i))
    return _false_if_null(exp.and_(_col(f"_elig{i}"), same, within))


def _stage(source: exp.Select, name: str, columns: list[exp.Expression]) -> exp.Select:
    """``SELECT *, <columns> FROM (<source>)``: the next step of the scoring chain."""
    return exp.select(exp.Star(), *columns).from_(source.subquery(name))


def table_name(logical: str, tables: Mapping[str, str] | None = None) -> str:
    """The SQL name of a logical table: as given, else its default, else its own name."""
    return {**DEFAULT_TABLES, **(tables or {})}.get(logical, logical)


def unsupported(
    rules: Rules, schemas: Mapping[str, Mapping[str, pl.DataType]] | None = None
) -> list[str]:
    """The constructs of ``rules`` the SQL compiler cannot express yet, with their paths.

    Both are about the words of a reason, not about which accounts qualify: a reason
    quotes values as text (a ``min_distinct`` reason the first column's distinct values,
    a signal the latest event's first tested column, a list's elements joined), and SQL
    writes values as polars does only for text, whole numbers, dates and booleans.
    """
    found = []
    for c in rules.event_reads():
        if isinstance(c, GrowthCriterion):
            continue
        schema = (schemas or {}).get(c.table, {})
        if c.min_distinct:
            column = c.min_distinct[0][0]
            if not quotable(schema.get(column)):
                found.append(
                    f"{c.path}.min_distinct.{column}: distinct values of a {schema[column]} column"
                )
        quoted = _quoted(c)
        dtype = schema.get(quoted) if quoted is not None else None
        if isinstance(dtype, pl.List) and not c.legacy and not quotable(dtype.inner):
            found.append(f"{c.path}: a signal quoting the latest event's {dtype} column {quoted}")
    return found


def _lists(schema: Mapping[str, pl.DataType] | None) -> frozenset[str]:
    return frozenset(c for c, t in (schema or {}).items() if isinstance(t, pl.List))


def compile_rules(
    rules: Rules,
    as_of: dt.date,
    *,
    tables: Mapping[str, str] | None = None,
    schemas: Mapping[str, Mapping[str, pl.DataType]] | None = None,
    sticky: bool = False,
    target: str = "the SQL engines",
) -> SqlPlan:
    """Compile ``rules`` into the scored query (one row per company).

    Args:
        rules: Parsed rules.
        as_of: The date signal windows end on; later events are ignored.
        tables: Logical table -> SQL table name (``companies``, ``hiring``, ``funding``
            and any named event table); defaults to ``DEFAULT_TABLES``, else the name.
        schemas: Each logical table's column types, where known: list columns are
            tested element by element. Defaults to the canonical schemas.
        sticky: Join the previous run's seats from ``PREVIOUS_TABLE`` (``company_id``,
            ``_prev_seg``, ``_prev_score``, ``_prev_stick``) for tier stickiness.
        target: Who runs the query, for the error message.

    Raises:
        ConfigError: The rules use a construct the compiler cannot express yet.
    """
    schemas = {**CANONICAL_SCHEMAS, **(schemas or {})}
    missing = unsupported(rules, schemas)
    if missing:
        raise ConfigError(
            f"{target} cannot run {rules.path} yet; these constructs need the polars "
            f"engine (--engine polars): {'; '.join(missing)}"
        )
    base = exp.select(exp.column(exp.Star(), table="c")).from_(
        exp.alias_(exp.to_table(table_name("companies", tables)), "c", table=True)
    )
    reads = rules.event_reads()
    for n, logical in enumerate(rules.tables()):
        wanted = [c for c in reads if c.table == logical]
        alias = f"s{n}"
        cte = _table_cte(logical, wanted, as_of, table_name(logical, tables), schemas.get(logical))
        base = base.join(
            cte.subquery(alias),
            on=exp.EQ(this=_col("company_id", "c"), expression=_col("company_id", alias)),
            join_type="left",
        )
        columns = [_col(name, alias) for c in wanted for name in _criterion_columns(c)]
        base = base.select(*columns, append=True)
    if sticky:
        prev = ("_prev_seg", "_prev_tier_ix", "_prev_score", "_prev_stick")
        base = base.join(
            exp.alias_(exp.to_table(PREVIOUS_TABLE), "p", table=True),
            on=exp.EQ(this=_col("company_id", "c"), expression=_col("company_id", "p")),
            join_type="left",
        ).select(*(_col(c, "p") for c in prev), append=True)
    return SqlPlan(_score_chain(base, rules, sticky, _lists(schemas.get("companies"))))


def _truth(test: Condition | SignalCriterion, lists: frozenset[str]) -> exp.Expression:
    return condition_sql(test, lists=lists) if isinstance(test, Condition) else _fired_sql(test)


def _score_chain(base: exp.Select, rules: Rules, sticky: bool, lists: frozenset[str]) -> exp.Select:
    """Flags, eligibility, scores, qualification and segment choice, one select each."""
    segs = rules.segments
    flags: list[exp.Expression] = []
    for i, s in enumerate(segs):
        tests = [*(condition_sql(c, lists=lists) for c in s.include)]
        tests += [_fired_sql(t) for t in s.include_signals]
        flags.append(exp.alias_(exp.and_(exp.true(), *tests), included_col(i), quoted=True))
        flags += [
            exp.alias_(_truth(c, lists), exclude_col(i, k), quoted=True)
            for k, c in enumerate(s.exclusions())
        ]
        flags += [
            exp.alias_(
                exp.and_(*(condition_sql(x, lists=lists) for x in c.conditions))
                if isinstance(c, AttributeCriterion)
                else _fired_sql(c),
                fired_col(i, j),
                quoted=True,
            )
            for j, c in enumerate(s.score)
        ]
    step = _stage(base, "_base", flags)
    groups = []
    for i, s in enumerate(segs):
        excluded = exp.or_(
            exp.false(), *(_col(exclude_col(i, k)) for k in range(len(s.exclusions())))
        )
        elig = exp.and_(_col(included_col(i)), exp.not_(excluded))
        groups.append(exp.alias_(elig, f"_elig{i}", quoted=True))
        groups.append(exp.alias_(_group_score_sql(s, i, "fit"), f"_fit{i}", quoted=True))
        groups.append(exp.alias_(_group_score_sql(s, i, "intent"), f"_int{i}", quoted=True))
    step = _stage(step, "_flags", groups)
    score = [
        exp.alias_(
            exp.Add(this=_col(f"_fit{i}"), expression=_col(f"_int{i}")), f"_score{i}", quoted=True
        )
        for i in range(len(segs))
    ]
    step = _stage(step, "_groups", score)
    pct = [exp.alias_(_percent_sql(s, i), f"_pct{i}", quoted=True) for i, s in enumerate(segs)]
    pct += [exp.alias_(_keep_sql(i, sticky), f"_keep{i}", quoted=True) for i in range(len(segs))]
    step = _stage(step, "_scores", pct)
    qual = [
        exp.alias_(
            exp.and_(
                _col(f"_elig{i}"),
                exp.or_(_reaches_sql(s, i, len(s.tiers) - 1), _col(f"_keep{i}")),
            ),
            f"_qual{i}",
            quoted=True,
        )
        for i, s in enumerate(segs)
    ]
    step = _stage(step, "_keeps", qual)
    first = exp.Case(
        ifs=[exp.If(this=_col(f"_qual{i}"), true=exp.Literal.number(i)) for i in range(len(segs))]
    )
    seg = exp.alias_(exp.cast(first, exp.DataType.Type.INT), "_seg", quoted=True)
    return _stage(step, "_quals", [seg])


def _concat(*parts: exp.Expression) -> exp.Expression:
    return exp.Concat(expressions=list(parts), safe=True)


def _text(expr: exp.Expression) -> exp.Expression:
    return exp.cast(expr, exp.DataType.Type.TEXT)
