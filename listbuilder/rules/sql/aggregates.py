"""Growth and distinct-value aggregates of an event table as sqlglot expressions, and the
number wording of growth reasons: the SQL side of what ``signals`` computes in polars.

Growth reads measurements (rows with a non-null value) on or before as_of; ``now`` is the
latest one, ``then`` the latest on or before the cut-off day. "Latest" is the first row
in the event table's tie order (date descending, then the tie columns descending, nulls
last), which is the row polars takes as the last of its ascending sort.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl
from sqlglot import exp

from listbuilder.rules.definitions import GrowthCriterion, SignalCriterion
from listbuilder.rules.signals import EVENT_DATE, window_start

# Column types whose values SQL casts to the same text polars does (for the reason's list
# of distinct values); a float or a timestamp is written differently by each engine.
_TEXT_LIKE = (pl.String, pl.Date, pl.Boolean, pl.Int8, pl.Int16, pl.Int32, pl.Int64)
_TEXT_LIKE += (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _num(value: int | float) -> exp.Expression:
    return exp.Literal.number(repr(value) if isinstance(value, float) else value)


def _double(expr: exp.Expression) -> exp.Expression:
    return exp.cast(expr, exp.DataType.Type.DOUBLE)


def _text(expr: exp.Expression) -> exp.Expression:
    return exp.cast(expr, exp.DataType.Type.TEXT)


def _is_set(expr: exp.Expression) -> exp.Expression:
    return exp.not_(exp.Is(this=expr, expression=exp.null()))


def _when(flag: exp.Expression, value: exp.Expression) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=flag, true=value)])


def _date_on_or_before(c: GrowthCriterion, day: dt.date) -> exp.Expression:
    day_sql = exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.Type.DATE)
    return exp.LTE(this=_col(EVENT_DATE[c.table]), expression=day_sql)


def growth_flags(c: GrowthCriterion, as_of: dt.date) -> list[tuple[str, exp.Expression]]:
    """Per event row: is it a measurement (``_m``), and one on or before the cut-off (``_c``)?

    The rows are already those with a company and a date on or before as_of.
    """
    measured = _is_set(_col(c.column))
    by_cutoff = exp.and_(measured.copy(), _date_on_or_before(c, window_start(as_of, c.within_days)))
    return [(f"{c.key}_m", measured), (f"{c.key}_c", by_cutoff)]


def growth_rank_names(c: GrowthCriterion) -> list[tuple[str, str]]:
    """(flag, row-number column) pairs: the latest row of each flag is numbered 1."""
    return [(f"{c.key}_m", f"{c.key}_rm"), (f"{c.key}_c", f"{c.key}_rc")]


def growth_aggs(c: GrowthCriterion) -> list[exp.Expression]:
    """``{key}_now`` and ``{key}_then``: the value of each flag's latest row, as a double."""
    aggs = []
    for (flag, rank), name in zip(growth_rank_names(c), ("now", "then"), strict=True):
        latest = exp.and_(_col(flag), exp.EQ(this=_col(rank), expression=exp.Literal.number(1)))
        value = exp.Max(this=_when(latest, _double(_col(c.column))))
        aggs.append(exp.alias_(value, f"{c.key}_{name}", quoted=True))
    return aggs


def growth_sql(c: GrowthCriterion) -> exp.Expression:
    """``(now - then) / then * 100``, null when either is null or ``then`` is 0.

    The same three double operations, in the same order, as polars: the same bits.
    """
    now, then = _col(f"{c.key}_now"), _col(f"{c.key}_then")
    change = exp.Div(this=exp.paren(exp.Sub(this=now, expression=then)), expression=then.copy())
    percent = exp.Mul(this=change, expression=exp.Literal.number(100))
    nonzero = exp.NEQ(this=then.copy(), expression=exp.Literal.number(0))
    return exp.alias_(_when(nonzero, percent), f"{c.key}_g", quoted=True)


def growth_fired_sql(c: GrowthCriterion) -> exp.Expression:
    """Growth within the bounds given; a null growth fires neither (never null)."""
    growth = _col(f"{c.key}_g")
    tests: list[exp.Expression] = [_is_set(growth)]
    if c.min_percent is not None:
        tests.append(exp.GTE(this=growth.copy(), expression=_num(c.min_percent)))
    if c.max_percent is not None:
        tests.append(exp.LTE(this=growth.copy(), expression=_num(c.max_percent)))
    return exp.func("COALESCE", exp.paren(exp.and_(*tests)), exp.false())


def growth_columns(c: GrowthCriterion) -> list[str]:
    """The columns a growth criterion adds, as ``signals`` names them."""
    return [f"{c.key}_now", f"{c.key}_then", f"{c.key}_g"]


def quotable(dtype: pl.DataType | None) -> bool:
    """Can SQL write this column's values as polars does? Unknown types are taken as text."""
    return dtype is None or isinstance(dtype, _TEXT_LIKE)


def _distinct_value(column: str, dtype: pl.DataType | None, quoted: bool) -> exp.Expression:
    """The value compared for distinctness: strings lowered, untrimmed; as text when quoted."""
    col = _col(column)
    if dtype == pl.String:
        return exp.Lower(this=col)
    if dtype is None:
        # A column of unknown type (`listbuilder sql` on a named table): compared as text,
        # lowered, which leaves numbers, dates and booleans as they are.
        return exp.Lower(this=_text(col))
    return _text(col) if quoted else col


def distinct_aggs(
    c: SignalCriterion, hit: exp.Expression, schema: Mapping[str, pl.DataType] | None
) -> list[exp.Expression]:
    """``{key}_d{k}`` (distinct non-null values among the hits) and ``{key}_values`` (the
    first column's distinct values as text, sorted, comma-separated: what the reason lists).

    The values are ordered nulls first only because one dialect cannot say otherwise in an
    aggregate's ORDER BY; none of them is null.
    """
    aggs: list[exp.Expression] = []
    for k, (column, _) in enumerate(c.min_distinct):
        dtype = (schema or {}).get(column)
        value = _when(hit.copy(), _distinct_value(column, dtype, quoted=k == 0))
        count = exp.Count(this=exp.Distinct(expressions=[value]))
        aggs.append(
            exp.alias_(exp.cast(count, exp.DataType.Type.BIGINT), f"{c.key}_d{k}", quoted=True)
        )
        if k == 0:
            order = exp.Ordered(this=value.copy(), nulls_first=True)
            joined = exp.GroupConcat(
                this=exp.Order(this=exp.Distinct(expressions=[value.copy()]), expressions=[order]),
                separator=exp.Literal.string(", "),
            )
            values = exp.func("COALESCE", joined, exp.Literal.string(""))
            aggs.append(exp.alias_(values, f"{c.key}_values", quoted=True))
    return aggs


def distinct_columns(c: SignalCriterion) -> list[str]:
    """The columns ``distinct_aggs`` gives."""
    found = [f"{c.key}_d{k}" for k in range(len(c.min_distinct))]
    return [*found, f"{c.key}_values"] if c.min_distinct else found


def plain_number_sql(value: exp.Expression) -> exp.Expression:
    """A number as ``signals`` writes it: ``182``, not ``182.0``; else one decimal.

    Polars rounds to one decimal as ``round_half_even(value * 10) / 10`` and writes the
    shortest text that reads back; for any value below 10^14 that is the sign, the
    integer part, a point and one digit, computed here with arithmetic every dialect does
    alike (no dialect's own number formatting is used). A negative value that rounds to
    zero is ``-0.0``, as polars writes it.
    """
    whole = exp.EQ(this=value.copy(), expression=exp.Floor(this=value.copy()))
    as_int = _text(exp.cast(value.copy(), exp.DataType.Type.BIGINT))
    tenths = exp.paren(exp.Mul(this=value.copy(), expression=exp.Literal.number(10)))
    rounded = _half_even(tenths)
    size = exp.Abs(this=rounded)
    units = exp.Floor(this=exp.Div(this=size, expression=exp.Literal.number(10)))
    digit = exp.Sub(this=size.copy(), expression=exp.Mul(this=units.copy(), expression=_num(10)))
    negative = exp.LT(this=value.copy(), expression=exp.Literal.number(0))
    decimal = exp.Concat(
        expressions=[
            exp.Case(
                ifs=[exp.If(this=negative, true=exp.Literal.string("-"))],
                default=exp.Literal.string(""),
            ),
            _text(exp.cast(units, exp.DataType.Type.BIGINT)),
            exp.Literal.string("."),
            _text(exp.cast(digit, exp.DataType.Type.BIGINT)),
        ],
        safe=True,
    )
    return exp.Case(ifs=[exp.If(this=whole, true=as_int)], default=decimal)


def _half_even(value: exp.Expression) -> exp.Expression:
    """``value`` rounded to a whole number, halves to the even one, as polars rounds."""
    low = exp.Floor(this=value.copy())
    fraction = exp.paren(exp.Sub(this=value.copy(), expression=low.copy()))
    half = exp.Literal.number("0.5")
    up = exp.Add(this=low.copy(), expression=_num(1))
    even = exp.EQ(
        this=exp.Mul(
            this=exp.Floor(this=exp.Div(this=low.copy(), expression=_num(2))),
            expression=_num(2),
        ),
        expression=low.copy(),
    )
    return exp.Case(
        ifs=[
            exp.If(this=exp.GT(this=fraction, expression=half), true=up),
            exp.If(this=exp.LT(this=fraction.copy(), expression=half.copy()), true=low.copy()),
            exp.If(this=even, true=low.copy()),
        ],
        default=up.copy(),
    )


# Thousands groups written, below 10^15: beyond it a double no longer holds every whole
# number, and no event table's total reaches it.
_GROUPS = 5


def thousands_sql(value: exp.Expression) -> exp.Expression:
    """A total as ``signals`` writes it: rounded half to even, with thousands separators
    (``120,000,000``). Arithmetic every dialect does alike: each group of three digits is
    ``1000 + group`` written as text less its first character, so no dialect's number
    formatting or padding function is used.
    """
    rounded = _half_even(value)
    size = exp.Abs(this=rounded)

    def above(k: int) -> exp.Expression:
        return exp.Floor(this=exp.Div(this=size.copy(), expression=_num(1000**k)))

    def group(k: int) -> exp.Expression:
        within = exp.Sub(
            this=above(k), expression=exp.Mul(this=above(k + 1), expression=_num(1000))
        )
        padded = _text(exp.cast(exp.Add(this=_num(1000), expression=within), "BIGINT"))
        return exp.Substring(this=padded, start=_num(2))

    def written(top: int) -> exp.Expression:
        parts: list[exp.Expression] = [_text(exp.cast(above(top), "BIGINT"))]
        for k in range(top - 1, -1, -1):
            parts += [exp.Literal.string(","), group(k)]
        return exp.Concat(expressions=parts, safe=True)

    digits = exp.Case(
        ifs=[
            exp.If(this=exp.GTE(this=size.copy(), expression=_num(1000**top)), true=written(top))
            for top in range(_GROUPS - 1, 0, -1)
        ],
        default=written(0),
    )
    negative = exp.LT(this=rounded.copy(), expression=_num(0))
    signed = exp.Concat(expressions=[exp.Literal.string("-"), digits], safe=True)
    return exp.Case(ifs=[exp.If(this=negative, true=signed)], default=digits.copy())


def for_dialect(tree: exp.Expression, dialect: str) -> exp.Expression:
    """The tree with the distinct-values lists written as ``dialect`` sorts them by bytes.

    Postgres sorts text by the database's collation, so the order is pinned to ``"C"``
    (byte order, as polars sorts). Spark's ``LISTAGG`` fails on a DISTINCT with an order,
    so there the values are collected as a set, sorted and joined instead.
    """
    if dialect not in ("postgres", "spark"):
        return tree

    def rewrite(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.GroupConcat) or not isinstance(node.this, exp.Order):
            return node
        value = node.this.this.expressions[0]
        if dialect == "spark":
            collected = exp.ArraySort(this=exp.ArrayUniqueAgg(this=value.copy()))
            return exp.ArrayToString(this=collected, expression=node.args["separator"].copy())
        # The DISTINCT argument and the ORDER BY must stay one expression.
        node = node.copy()
        distinct = node.this.this
        distinct.set("expressions", [_bytewise(v) for v in distinct.expressions])
        for ordered in node.this.expressions:
            ordered.set("this", _bytewise(ordered.this))
        return node

    return tree.transform(rewrite)


def _bytewise(value: exp.Expression) -> exp.Expression:
    return exp.Collate(this=value, expression=_col("C"))
