"""`listbuilder sql`: the compiled rules as a query a warehouse runs, with reasons.

The query gives the qualified candidates with their segment, score and reasons worded as
the lists word them; ``render`` writes it in a dialect and names any construct that
dialect cannot express.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from listbuilder.errors import ConfigError
from listbuilder.rules.definitions import (
    AttributeCriterion,
    GrowthCriterion,
    Rules,
    Segment,
    SignalCriterion,
)
from listbuilder.rules.reader import load_rules
from listbuilder.rules.scoring import fired_col
from listbuilder.rules.sql.aggregates import distinct_aggs, for_dialect, plain_number_sql
from listbuilder.rules.sql.scored import (
    _col,
    _concat,
    _hit_sql,
    _lit,
    _quoted,
    _text,
    compile_rules,
    condition_sql,
)

DIALECTS = ("duckdb", "spark", "snowflake", "bigquery", "postgres")


def _growth_reason_sql(criterion: GrowthCriterion) -> exp.Expression:
    """``label +2: 140 -> 182 (+30%)``, as ``signals.reason`` writes it."""
    growth = _col(f"{criterion.key}_g")
    sign = exp.Case(
        ifs=[exp.If(this=exp.GTE(this=growth, expression=exp.Literal.number(0)), true=_lit("+"))],
        default=_lit(""),
    )
    return _concat(
        _lit(f"{criterion.label} {criterion.points:+d}: "),
        plain_number_sql(_col(f"{criterion.key}_then")),
        _lit(" -> "),
        plain_number_sql(_col(f"{criterion.key}_now")),
        _lit(" ("),
        sign,
        plain_number_sql(growth.copy()),
        _lit("%)"),
    )


def _signal_reason_sql(criterion: SignalCriterion | GrowthCriterion) -> exp.Expression:
    """Words for a fired signal or growth criterion, as ``signals.reason`` writes them."""
    if isinstance(criterion, GrowthCriterion):
        return _growth_reason_sql(criterion)
    if not criterion.legacy:
        return _event_reason_sql(criterion)
    head = _lit(f"{criterion.label} {criterion.points:+d} (")
    n = _col(f"{criterion.key}_n")
    if criterion.signal == "hiring":
        one = exp.EQ(this=n.copy(), expression=exp.Literal.number(1))
        noun = exp.Case(ifs=[exp.If(this=one, true=_lit(" posting"))], default=_lit(" postings"))
        return _concat(head, _text(n), noun, _lit(f" in {criterion.within_days}d)"))
    latest = _concat(
        exp.func("COALESCE", _col(f"{criterion.key}_type"), _lit("round")),
        _lit(", "),
        _day(_col(f"{criterion.key}_date")),
    )
    several = _concat(_text(n.copy()), _lit(" rounds, latest "), latest.copy())
    body = exp.Case(
        ifs=[exp.If(this=exp.GT(this=n.copy(), expression=exp.Literal.number(1)), true=several)],
        default=latest,
    )
    return _concat(head, body, _lit(")"))


def _day(date: exp.Expression) -> exp.Expression:
    return exp.TimeToStr(this=date, format=_lit("%Y-%m-%d"))


def _event_reason_sql(criterion: SignalCriterion) -> exp.Expression:
    """``label +3: VP Sales, 2026-10-12`` or ``label +3: 4 events, latest VP Sales, ...``."""
    key = criterion.key
    n = _col(f"{key}_n")
    day = _day(_col(f"{key}_date"))
    latest: exp.Expression = day
    if _quoted(criterion) is not None:
        what = _col(f"{key}_what")
        latest = exp.Case(
            ifs=[exp.If(this=exp.Is(this=what, expression=exp.null()), true=day.copy())],
            default=_concat(what.copy(), _lit(", "), day.copy()),
        )
    events = _concat(_text(n.copy()), _lit(" events, latest "), latest.copy())
    body: exp.Expression = exp.Case(
        ifs=[exp.If(this=exp.GT(this=n.copy(), expression=exp.Literal.number(1)), true=events)],
        default=latest,
    )
    if criterion.min_distinct:
        body = _concat(_col(f"{key}_values"), _lit(" ("), body, _lit(")"))
    return _concat(_lit(f"{criterion.label} {criterion.points:+d}: "), body)


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
    totals = [c.path for c in rules.signals() if isinstance(c, SignalCriterion) and c.min_total]
    if totals:
        raise ConfigError(
            f"listbuilder sql cannot word the reasons of a min_total criterion yet "
            f"({', '.join(totals)} in {rules.path}); `listbuilder build` words them"
        )
    plan = compile_rules(rules, as_of, tables=tables, target="listbuilder sql")
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
            if isinstance(c, SignalCriterion):
                hit = _hit_sql(c, dt.date(2000, 1, 1))
                found.append((c.path, f"the `{c.signal}` signal", hit))
                if c.min_distinct:
                    distinct = exp.select(*distinct_aggs(c, hit, None))
                    found.append((f"{c.path}.min_distinct", "`min_distinct`", distinct))
                found.append((c.path, "the signal's reason", _signal_reason_sql(c)))
            else:
                found.append((c.path, "the growth criterion's reason", _signal_reason_sql(c)))
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
        return for_dialect(query, dialect).sql(
            dialect=dialect, unsupported_level=ErrorLevel.RAISE, pretty=pretty
        )
    except UnsupportedError as exc:
        for path, what, fragment in _constructs(rules):
            try:
                for_dialect(fragment, dialect).sql(
                    dialect=dialect, unsupported_level=ErrorLevel.RAISE
                )
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


_EVENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")


def parse_table_options(tables: tuple[str, ...], events: tuple[str, ...]) -> dict[str, str]:
    """``--table companies=db.schema.t`` and ``--events NAME=db.schema.t`` as a mapping.

    Raises:
        ConfigError: A value is not ``NAME=TABLE``, ``--table`` names a table other than
            ``companies``, or a name is not a plain (optionally dotted) SQL name.
    """
    found: dict[str, str] = {}
    for option, values, example in (
        ("--table", tables, "companies"),
        ("--events", events, "hiring"),
    ):
        for value in values:
            name, sep, table = value.partition("=")
            if not sep or not name or not table:
                raise ConfigError(
                    f"{option} {value!r}: expected NAME=TABLE, e.g. {example}=db.{example}"
                )
            if option == "--table" and name != "companies":
                raise ConfigError(
                    f"{option} {value!r}: unknown table {name!r}; valid names are ['companies'] "
                    "(event tables take --events)"
                )
            if option == "--events" and not _EVENT_NAME.match(name):
                raise ConfigError(
                    f"{option} {value!r}: {name!r} is not an event table name; use letters, "
                    "digits and _"
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
