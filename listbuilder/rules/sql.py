"""The rules compiled to SQL: one dialect-neutral sqlglot tree, rendered per engine.

The tree computes, for every company, the same columns ``scoring.score_companies`` adds
to a polars frame (``_incl{i}``, ``_exc{i}_{k}``, ``_f{i}_{j}``, ``_elig{i}``,
``_score{i}``, ``_keep{i}``, ``_qual{i}``, ``_seg`` and each signal criterion's
``{key}_n`` / ``{key}_type`` / ``{key}_date``), so the build reads an engine's result
exactly as it reads polars'. The semantics are the rules reference's, to the letter:

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
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from listbuilder.errors import ConfigError
from listbuilder.rules.conditions import Condition
from listbuilder.rules.parse import (
    AttributeCriterion,
    Rules,
    Segment,
    SignalCriterion,
    load_rules,
)
from listbuilder.rules.scoring import exclude_col, fired_col, included_col
from listbuilder.rules.signals import EVENT_DATE, window_start

DIALECTS = ("duckdb", "spark", "snowflake", "bigquery", "postgres")
# The logical tables a rules file can read, and the name each has by default.
DEFAULT_TABLES = {"companies": "companies", "hiring": "jobs", "funding": "funding"}
# The previous run's seats (tier stickiness), registered by an engine under this name.
PREVIOUS_TABLE = "_previous"


@dataclass(frozen=True)
class SqlPlan:
    """What an engine needs to run the rules: the scored query and the columns it adds.

    ``scored`` selects every company column plus the scoring columns; ``tables`` maps each
    logical table the query reads (``companies``, ``hiring``, ``funding``) to its name.
    """

    scored: exp.Select
    tables: dict[str, str] = field(default_factory=dict)


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
    kept = exp.ArrayFilter(
        this=_col(column, table),
        expression=exp.Lambda(
            this=exp.In(this=_lower(exp.column(x)), expressions=lowered), expressions=[x]
        ),
    )
    return exp.GT(this=exp.ArraySize(this=kept), expression=exp.Literal.number(0))


def condition_sql(cond: Condition, table: str | None = None) -> exp.Expression:
    """Compile one condition to a boolean that is never null (null data makes it false)."""
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
    else:  # pragma: no cover - the parser admits no other operator
        raise ValueError(f"unknown operator {cond.op}")
    return _false_if_null(test)


def _hit_sql(criterion: SignalCriterion, as_of: dt.date) -> exp.Expression:
    """Does an event row count for this criterion (in its window, of the right kind)?"""
    date_col = EVENT_DATE[criterion.signal]
    tests: list[exp.Expression] = [
        exp.GTE(this=_col(date_col), expression=_lit(window_start(as_of, criterion.within_days)))
    ]
    if criterion.departments:
        wanted = [_lit(d.lower()) for d in criterion.departments]
        tests.append(exp.In(this=_lower(_col("department")), expressions=wanted))
    if criterion.round_types:
        wanted = [_lit(r.lower()) for r in criterion.round_types]
        tests.append(exp.In(this=_lower(_col("round_type")), expressions=wanted))
    if criterion.min_amount_usd is not None:
        tests.append(exp.GTE(this=_col("amount_usd"), expression=_lit(criterion.min_amount_usd)))
    return _false_if_null(exp.and_(*tests))


def _count_of(flag: exp.Expression) -> exp.Expression:
    ones = exp.Case(
        ifs=[exp.If(this=flag, true=exp.Literal.number(1))], default=exp.Literal.number(0)
    )
    return exp.cast(exp.Sum(this=ones), exp.DataType.Type.BIGINT)


def _when(flag: exp.Expression, value: exp.Expression) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=flag, true=value)])


def _signal_cte(
    signal: str, criteria: list[SignalCriterion], as_of: dt.date, table: str
) -> exp.Select:
    """One row per company: each criterion's event count in its window, one grouped pass.

    Funding criteria also get the latest qualifying round's date and type (the latest
    date; among rounds on that date, the greatest type), which ``reasons`` quote.
    """
    date_col = EVENT_DATE[signal]
    widest = max(c.within_days for c in criteria)
    hits = exp.select(
        _col("company_id"),
        _col(date_col),
        *([_col("round_type")] if signal == "funding" else []),
        *(exp.alias_(_hit_sql(c, as_of), f"{c.key}_hit", quoted=True) for c in criteria),
    ).from_(exp.to_table(table))
    hits = hits.where(
        exp.Between(
            this=_col(date_col),
            low=_lit(window_start(as_of, widest)),
            high=_lit(as_of),
        )
    )
    if signal == "funding":
        # The latest qualifying date per company and criterion, beside each row, so the
        # type of that round is a plain aggregate below. The window reads the hit flags,
        # so it is one select further out.
        latest = [
            exp.alias_(
                exp.Window(
                    this=exp.Max(this=_when(_col(f"{c.key}_hit"), _col(date_col))),
                    partition_by=[_col("company_id")],
                ),
                f"{c.key}_latest",
                quoted=True,
            )
            for c in criteria
        ]
        hits = exp.select(exp.Star(), *latest).from_(hits.subquery("_h"))
    aggs: list[exp.Expression] = [_col("company_id")]
    for c in criteria:
        hit = _col(f"{c.key}_hit")
        aggs.append(exp.alias_(_count_of(hit), f"{c.key}_n", quoted=True))
        if signal == "funding":
            latest = _col(f"{c.key}_latest")
            on_latest = exp.and_(hit.copy(), exp.EQ(this=_col(date_col), expression=latest))
            aggs.append(
                exp.alias_(
                    exp.Max(this=_when(on_latest, _col("round_type"))), f"{c.key}_type", quoted=True
                )
            )
            aggs.append(exp.alias_(exp.Max(this=latest.copy()), f"{c.key}_date", quoted=True))
    return exp.select(*aggs).from_(hits.subquery("_e")).group_by(_col("company_id"))


def _fired_sql(criterion: AttributeCriterion | SignalCriterion) -> exp.Expression:
    if isinstance(criterion, AttributeCriterion):
        return exp.and_(*(condition_sql(c) for c in criterion.conditions))
    count = _col(f"{criterion.key}_n")
    return _false_if_null(exp.GTE(this=count, expression=exp.Literal.number(criterion.min_count)))


def _score_sql(segment: Segment, i: int) -> exp.Expression:
    total: exp.Expression = exp.Literal.number(0)
    for j, c in enumerate(segment.score):
        term = exp.Case(
            ifs=[exp.If(this=_col(fired_col(i, j)), true=exp.Literal.number(c.points))],
            default=exp.Literal.number(0),
        )
        total = exp.Add(this=total, expression=term)
    return exp.cast(total, exp.DataType.Type.BIGINT)


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


def _stage(source: exp.Select | str, name: str, columns: list[exp.Expression]) -> exp.Select:
    """``SELECT *, <columns> FROM <source>``: the next step of the scoring chain."""
    return exp.select(exp.Star(), *columns).from_(
        exp.to_table(source) if isinstance(source, str) else source.subquery(name)
    )


def compile_rules(
    rules: Rules,
    as_of: dt.date,
    *,
    tables: Mapping[str, str] | None = None,
    sticky: bool = False,
) -> SqlPlan:
    """Compile ``rules`` into the scored query (one row per company).

    Args:
        rules: Parsed rules.
        as_of: The date signal windows end on; later events are ignored.
        tables: Logical table -> SQL table name (``companies``, ``hiring``, ``funding``);
            defaults to ``DEFAULT_TABLES``.
        sticky: Join the previous run's seats from ``PREVIOUS_TABLE`` (``company_id``,
            ``_prev_seg``, ``_prev_score``, ``_prev_stick``) for tier stickiness.
    """
    names = {**DEFAULT_TABLES, **(tables or {})}
    segs = rules.segments
    base = exp.select(exp.column(exp.Star(), table="c")).from_(
        exp.alias_(exp.to_table(names["companies"]), "c", table=True)
    )
    criteria = rules.signals()
    for signal in ("hiring", "funding"):
        wanted = [c for c in criteria if c.signal == signal]
        if not wanted:
            continue
        alias = f"s_{signal}"
        cte = _signal_cte(signal, wanted, as_of, names[signal])
        base = base.join(
            cte.subquery(alias),
            on=exp.EQ(this=_col("company_id", "c"), expression=_col("company_id", alias)),
            join_type="left",
        )
        extra = ["_n", *(("_type", "_date") if signal == "funding" else ())]
        base = base.select(
            *(_col(f"{c.key}{e}", alias) for c in wanted for e in extra), append=True
        )
    if sticky:
        base = base.join(
            exp.alias_(exp.to_table(PREVIOUS_TABLE), "p", table=True),
            on=exp.EQ(this=_col("company_id", "c"), expression=_col("company_id", "p")),
            join_type="left",
        ).select(
            *(_col(c, "p") for c in ("_prev_seg", "_prev_tier_ix", "_prev_score", "_prev_stick")),
            append=True,
        )
    flags: list[exp.Expression] = []
    for i, s in enumerate(segs):
        included = exp.and_(exp.true(), *(condition_sql(c) for c in s.include))
        flags.append(exp.alias_(included, included_col(i), quoted=True))
        flags += [
            exp.alias_(condition_sql(c), exclude_col(i, k), quoted=True)
            for k, c in enumerate(s.exclude)
        ]
        flags += [
            exp.alias_(_fired_sql(c), fired_col(i, j), quoted=True) for j, c in enumerate(s.score)
        ]
    step = _stage(base, "_base", flags)
    elig = []
    for i, s in enumerate(segs):
        excluded = exp.or_(exp.false(), *(_col(exclude_col(i, k)) for k in range(len(s.exclude))))
        elig.append(
            exp.alias_(
                exp.and_(_col(included_col(i)), exp.not_(excluded)), f"_elig{i}", quoted=True
            )
        )
        elig.append(exp.alias_(_score_sql(s, i), f"_score{i}", quoted=True))
    step = _stage(step, "_flags", elig)
    step = _stage(
        step,
        "_scores",
        [exp.alias_(_keep_sql(i, sticky), f"_keep{i}", quoted=True) for i in range(len(segs))],
    )
    qual = [
        exp.alias_(
            exp.and_(
                _col(f"_elig{i}"),
                exp.or_(
                    exp.GTE(this=_col(f"_score{i}"), expression=exp.Literal.number(s.min_score)),
                    _col(f"_keep{i}"),
                ),
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
    step = _stage(
        step, "_quals", [exp.alias_(exp.cast(first, exp.DataType.Type.INT), "_seg", quoted=True)]
    )
    return SqlPlan(step, names)


def _concat(*parts: exp.Expression) -> exp.Expression:
    return exp.Concat(expressions=list(parts), safe=True)


def _text(expr: exp.Expression) -> exp.Expression:
    return exp.cast(expr, exp.DataType.Type.TEXT)


def _signal_reason_sql(criterion: SignalCriterion) -> exp.Expression:
    """Words for a fired signal criterion, as ``signals.reason`` writes them."""
    head = _lit(f"{criterion.label} {criterion.points:+d} (")
    n = _col(f"{criterion.key}_n")
    if criterion.signal == "hiring":
        one = exp.EQ(this=n.copy(), expression=exp.Literal.number(1))
        noun = exp.Case(ifs=[exp.If(this=one, true=_lit(" posting"))], default=_lit(" postings"))
        return _concat(head, _text(n), noun, _lit(f" in {criterion.within_days}d)"))
    latest = _concat(
        exp.func("COALESCE", _col(f"{criterion.key}_type"), _lit("round")),
        _lit(", "),
        exp.TimeToStr(this=_col(f"{criterion.key}_date"), format=_lit("%Y-%m-%d")),
    )
    several = _concat(_text(n.copy()), _lit(" rounds, latest "), latest.copy())
    body = exp.Case(
        ifs=[exp.If(this=exp.GT(this=n.copy(), expression=exp.Literal.number(1)), true=several)],
        default=latest,
    )
    return _concat(head, body, _lit(")"))


def reasons_sql(segment: Segment, i: int) -> exp.Expression:
    """Words for every criterion that fired, ``; ``-separated, as the lists write them.

    Each fired part is prefixed with the separator and the first two characters cut, so
    no dialect's null handling in string functions can change the text.
    """
    parts: list[exp.Expression] = []
    for j, criterion in enumerate(segment.score):
        if isinstance(criterion, AttributeCriterion):
            text: exp.Expression = _lit(f"{criterion.label} {criterion.points:+d}")
        else:
            text = _signal_reason_sql(criterion)
        parts.append(
            exp.Case(
                ifs=[exp.If(this=_col(fired_col(i, j)), true=_concat(_lit("; "), text))],
                default=_lit(""),
            )
        )
    if not parts:
        return _lit("")
    return exp.Substring(this=_concat(*parts), start=exp.Literal.number(3))


def candidates_sql(
    rules: Rules, as_of: dt.date, *, tables: Mapping[str, str] | None = None
) -> exp.Select:
    """The qualified candidates: ``company_id``, ``name``, ``domain``, ``segment``, ``score``
    and ``reasons``, one row per company that qualifies for a segment, in list order
    (segment in file order, score descending, ``company_id`` ascending).

    CRM suppression, one account per registrable domain and tiers are not in it: they
    follow the CRM match, which runs in Python on these rows.
    """
    plan = compile_rules(rules, as_of, tables=tables)
    segs = rules.segments
    seg = _col("_seg")

    def per_segment(values: list[exp.Expression]) -> exp.Expression:
        return exp.Case(
            ifs=[
                exp.If(this=exp.EQ(this=seg.copy(), expression=exp.Literal.number(i)), true=v)
                for i, v in enumerate(values)
            ]
        )

    return (
        exp.select(
            _col("company_id"),
            _col("name"),
            _col("domain"),
            exp.alias_(per_segment([_lit(s.name) for s in segs]), "segment", quoted=True),
            exp.alias_(
                per_segment([_col(f"_score{i}") for i in range(len(segs))]), "score", quoted=True
            ),
            exp.alias_(
                per_segment([reasons_sql(s, i) for i, s in enumerate(segs)]), "reasons", quoted=True
            ),
        )
        .from_(plan.scored.subquery("_scored"))
        .where(exp.not_(exp.Is(this=seg.copy(), expression=exp.null())))
        .order_by(seg.copy(), exp.Ordered(this=_col("score"), desc=True), _col("company_id"))
    )


def _constructs(rules: Rules) -> list[tuple[str, str, exp.Expression]]:
    """Every construct of the rules as (path, what it is, its SQL), to name what fails."""
    found: list[tuple[str, str, exp.Expression]] = []
    for i, s in enumerate(rules.segments):
        for cond in s.conditions():
            found.append((cond.path, f"the `{cond.op}` condition", condition_sql(cond)))
        for c in s.signals():
            found.append((c.path, f"the `{c.signal}` signal", _hit_sql(c, dt.date(2000, 1, 1))))
            found.append((c.path, "the signal's reason", _signal_reason_sql(c)))
        found.append((f"segments[{i}]", "the reasons text", reasons_sql(s, i)))
    return found


def render(query: exp.Expression, dialect: str, rules: Rules, *, pretty: bool = True) -> str:
    """The query as ``dialect`` SQL.

    Raises:
        ConfigError: The dialect is unknown, or cannot express a construct the rules use
            (the error names the construct, where the rules file uses it, and the dialect).
    """
    if dialect not in DIALECTS:
        raise ConfigError(f"unknown SQL dialect {dialect!r}; valid dialects are {list(DIALECTS)}")
    try:
        return query.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE, pretty=pretty)
    except UnsupportedError as exc:
        for path, what, fragment in _constructs(rules):
            try:
                fragment.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
            except UnsupportedError as inner:
                raise ConfigError(
                    f"the {dialect} dialect cannot express {what} at {rules.path}: {path} "
                    f"({_first_line(inner)})"
                ) from None
        raise ConfigError(
            f"the {dialect} dialect cannot express the query for {rules.path} ({_first_line(exc)})"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")


def parse_table_options(tables: tuple[str, ...], events: tuple[str, ...]) -> dict[str, str]:
    """``--table companies=db.schema.t`` and ``--events hiring=db.schema.jobs`` as a mapping.

    Raises:
        ConfigError: A value is not ``NAME=TABLE``, names an unknown table, or the
            table name is not a plain (optionally dotted) SQL name.
    """
    found: dict[str, str] = {}
    for option, values, known in (
        ("--table", tables, ("companies",)),
        ("--events", events, tuple(EVENT_DATE)),
    ):
        for value in values:
            name, sep, table = value.partition("=")
            if not sep or not name or not table:
                raise ConfigError(
                    f"{option} {value!r}: expected NAME=TABLE, e.g. {known[0]}=db.{known[0]}"
                )
            if name not in known:
                raise ConfigError(
                    f"{option} {value!r}: unknown table {name!r}; valid names are {list(known)}"
                )
            if not _TABLE_NAME.match(table):
                raise ConfigError(
                    f"{option} {value!r}: {table!r} is not a table name; expected "
                    "table, schema.table or catalog.schema.table"
                )
            found[name] = table
    return found


def rules_sql(
    rules_path: str | Path,
    dialect: str,
    as_of: dt.date,
    *,
    tables: tuple[str, ...] = (),
    events: tuple[str, ...] = (),
) -> str:
    """The SQL, in ``dialect``, that gives a rules file's qualified candidates.

    The library function behind ``listbuilder sql``. ``tables`` and ``events`` are the
    command's ``NAME=TABLE`` options (see ``parse_table_options``); ``candidates_sql``
    gives the columns, ``render`` the errors.
    """
    if dialect not in DIALECTS:
        raise ConfigError(f"unknown SQL dialect {dialect!r}; valid dialects are {list(DIALECTS)}")
    names = parse_table_options(tables, events)
    rules = load_rules(rules_path)
    return render(candidates_sql(rules, as_of, tables=names), dialect, rules) + "\n"
