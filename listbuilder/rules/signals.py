"""Behavioural signals: dated events (postings, rounds, executive hires, intent, layoffs...)
and measurements over time (headcount), aggregated per company.

Every criterion and include/exclude test that reads an event table is computed in one
grouped pass over that table, restricted first to the widest window any of them needs, so
a fifty-million-row intent table is scanned once however many criteria read it. Events
dated after the as-of date, or with a null date or company, never count: a past month can
be rebuilt exactly.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from listbuilder.inputs import EVENT_DATE_COLUMNS
from listbuilder.rules.definitions import EventCriterion, GrowthCriterion, SignalCriterion


class _EventDates(dict[str, str]):
    """Each event table's date column: ``date`` unless the table has its own name for it."""

    def __missing__(self, key: str) -> str:
        return "date"


EVENT_DATE: dict[str, str] = _EventDates(EVENT_DATE_COLUMNS)


def window_start(as_of: dt.date, within_days: int) -> dt.date:
    """First day inside a window of ``within_days`` ending on (and including) ``as_of``."""
    return as_of - dt.timedelta(days=within_days)


def _start(as_of: dt.date | pl.Expr, days: int) -> dt.date | pl.Expr:
    if isinstance(as_of, pl.Expr):
        return as_of - pl.duration(days=days)
    return window_start(as_of, days)


def _matches(criterion: SignalCriterion, as_of: dt.date | pl.Expr) -> pl.Expr:
    """Does an event row count for this criterion (inside its window, every condition)?

    The lower end of the window only: the caller has already dropped events after as_of.
    ``as_of`` is one date for every row, or an expression giving each row its own.
    """
    date_col = EVENT_DATE[criterion.signal]
    expr = pl.col(date_col) >= _start(as_of, criterion.within_days)
    for condition in criterion.conditions():
        expr = expr & condition.expr()
    return expr.fill_null(False)


def _quoted(criterion: SignalCriterion) -> str | None:
    """The event column a reason quotes: what the first condition looked at."""
    if criterion.legacy:
        return "round_type" if criterion.signal == "funding" else None
    conditions = criterion.conditions()
    return conditions[0].column if conditions else None


def _distinct_values(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    # Strings compare case-insensitively and untrimmed: "ABM" and "abm" are one topic.
    return column.str.to_lowercase() if dtype == pl.String else column


def _signal_aggs(c: SignalCriterion, as_of: dt.date | pl.Expr, schema: pl.Schema) -> list[pl.Expr]:
    hit = _matches(c, as_of)
    date_col = EVENT_DATE[c.signal]
    aggs = [hit.sum().cast(pl.Int64).alias(f"{c.key}_n")]
    for k, (column, _) in enumerate(c.min_distinct):
        values = _distinct_values(pl.col(column), schema[column]).filter(hit).drop_nulls()
        aggs.append(values.n_unique().cast(pl.Int64).alias(f"{c.key}_d{k}"))
        if k == 0 and not c.legacy:
            aggs.append(
                values.cast(pl.String).unique().sort().str.join(", ").alias(f"{c.key}_values")
            )
    for k, (column, _) in enumerate(c.min_total):
        # No matching event sums to 0, as the rules reference promises.
        total = pl.col(column).filter(hit).sum().cast(pl.Float64)
        aggs.append(total.alias(f"{c.key}_t{k}"))
    quoted = _quoted(c)
    if c.legacy and c.signal == "funding":
        aggs.append(pl.col("round_type").filter(hit).last().alias(f"{c.key}_type"))
    elif quoted is not None:
        what = _quoted_text(pl.col(quoted), schema[quoted])
        aggs.append(what.cast(pl.String).filter(hit).last().alias(f"{c.key}_what"))
    if c.signal == "funding" or not c.legacy:
        aggs.append(pl.col(date_col).filter(hit).last().alias(f"{c.key}_date"))
    return aggs


def _growth_aggs(c: GrowthCriterion, as_of: dt.date | pl.Expr) -> list[pl.Expr]:
    """The latest measurement overall (``now``) and on or before the cut-off (``then``).

    A measurement is a row with a non-null value; the frame is sorted by date, so the
    last one of a selection is the latest. "then" includes the cut-off day.
    """
    value = pl.col(c.column)
    date_col = EVENT_DATE[c.table]
    cutoff = pl.col(date_col) <= _start(as_of, c.within_days)
    now = value.filter(value.is_not_null()).last().cast(pl.Float64)
    then = value.filter(value.is_not_null() & cutoff).last().cast(pl.Float64)
    return [now.alias(f"{c.key}_now"), then.alias(f"{c.key}_then")]


def _order(criteria: list[EventCriterion], schema: pl.Schema, key: str) -> list[pl.Expr] | None:
    """Sort keys that make ``last`` mean the latest event, the same every run; None if no
    criterion reads a latest event (plain counts need no order). Same-day events are
    ordered by each quoted column, a list column by the text its reason quotes."""
    ties: list[str] = []
    for c in criteria:
        if isinstance(c, GrowthCriterion):
            ties.append(c.column)
        elif not (c.legacy and c.signal == "hiring"):
            quoted = _quoted(c)
            if quoted is not None:
                ties.append(quoted)
    if all(isinstance(c, SignalCriterion) and c.legacy and c.signal == "hiring" for c in criteria):
        return None
    keys = [key, EVENT_DATE[criteria[0].table], *dict.fromkeys(ties)]
    return [_quoted_text(pl.col(k), schema[k]) if k in schema else pl.col(k) for k in keys]


def _quoted_text(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A list column as the text a reason quotes (elements joined by ", "); else as is."""
    if isinstance(dtype, pl.List):
        return value.list.eval(pl.element().cast(pl.String)).list.join(", ")
    return value


def _grouped(
    events: pl.LazyFrame,
    criteria: list[EventCriterion],
    as_of: dt.date | pl.Expr,
    key: str,
) -> pl.LazyFrame:
    """Every criterion's columns per ``key``, from one pass over one event table."""
    schema = events.collect_schema()
    date_col = EVENT_DATE[criteria[0].table]
    date = pl.col(date_col)
    keep = pl.col("company_id").is_not_null() & date.is_not_null() & (date <= as_of)
    if not any(isinstance(c, GrowthCriterion) for c in criteria):
        # Growth looks back to any earlier measurement; counts only inside their windows.
        keep = keep & (date >= _start(as_of, max(c.within_days for c in criteria)))
    recent = events.filter(keep)
    order = _order(criteria, schema, key)
    if order is not None:
        recent = recent.sort(order, nulls_last=False)
    aggs: list[pl.Expr] = []
    for c in criteria:
        if isinstance(c, GrowthCriterion):
            aggs += _growth_aggs(c, as_of)
        else:
            aggs += _signal_aggs(c, as_of, schema)
    out = recent.group_by(key).agg(aggs)
    growth = [c for c in criteria if isinstance(c, GrowthCriterion)]
    if growth:
        out = out.with_columns(_growth(c).alias(f"{c.key}_g") for c in growth)
    return out


def _growth(c: GrowthCriterion) -> pl.Expr:
    """``(now - then) / then * 100``; null when either is missing or ``then`` is 0."""
    now, then = pl.col(f"{c.key}_now"), pl.col(f"{c.key}_then")
    return pl.when(then != 0).then((now - then) / then * 100)


def _by_table(criteria: list[EventCriterion]) -> dict[str, list[EventCriterion]]:
    found: dict[str, list[EventCriterion]] = {}
    for c in criteria:
        found.setdefault(c.table, []).append(c)
    return found


def aggregate_signal(
    events: pl.LazyFrame, criteria: list[EventCriterion], as_of: dt.date
) -> pl.LazyFrame:
    """One row per company with every criterion's columns, from one event table."""
    return _grouped(events, criteria, as_of, "company_id")


def attach_signals(
    companies: pl.LazyFrame,
    criteria: list[EventCriterion],
    events: dict[str, pl.LazyFrame],
    as_of: dt.date,
) -> pl.LazyFrame:
    """Left-join every criterion's signal columns onto the companies.

    Args:
        companies: The companies, with ``company_id``.
        criteria: Everything in the rules that reads an event table.
        events: Event tables by name (``hiring`` -> job postings, ``funding`` -> rounds,
            any other name -> a table with a ``date`` column).
        as_of: The date windows end on.
    """
    for table, wanted in _by_table(criteria).items():
        agg = aggregate_signal(events[table], wanted, as_of)
        companies = companies.join(agg, on="company_id", how="left", maintain_order="left")
    return companies


def event_matches(criterion: SignalCriterion, as_of: dt.date) -> pl.Expr:
    """Does an event row count for ``criterion`` in the window ending on ``as_of``?

    The lower end only, with the ``where`` conditions; callers bound the upper end at
    ``as_of``.
    """
    return _matches(criterion, as_of)


_ROW = "_pit_row"
_ROW_AS_OF = "_pit_as_of"


def aggregate_signal_at(
    events: pl.LazyFrame, criteria: list[EventCriterion], rows: pl.LazyFrame
) -> pl.LazyFrame:
    """Like ``aggregate_signal``, but each row of ``rows`` has its own as-of date.

    ``rows`` holds ``_pit_row`` (a unique key), ``company_id`` and ``_pit_as_of``. Events
    are joined to the rows of their company and kept when they fall in the window ending
    on that row's date, then grouped by row: one join and one grouped pass, however many
    rows share a company. An event dated after a row's date never counts for it.
    """
    joined = events.join(rows, on="company_id", how="inner")
    return _grouped(joined, criteria, pl.col(_ROW_AS_OF), _ROW)


def attach_signals_at(
    rows: pl.LazyFrame,
    criteria: list[EventCriterion],
    events: dict[str, pl.LazyFrame],
    date_column: str,
) -> pl.LazyFrame:
    """Left-join signal columns onto ``rows``, each row's windows ending on its own date.

    The point-in-time form of ``attach_signals``: a row is, say, an opportunity with its
    company's ``company_id`` and its ``created_date`` in ``date_column``, and its signals
    are what was known on that date. Several rows may share a company. Rows whose date is
    null get no events.
    """
    rows = rows.with_row_index(_ROW)
    keys = rows.select(_ROW, "company_id", pl.col(date_column).alias(_ROW_AS_OF)).filter(
        pl.col(_ROW_AS_OF).is_not_null()
    )
    for table, wanted in _by_table(criteria).items():
        agg = aggregate_signal_at(events[table], wanted, keys)
        rows = rows.join(agg, on=_ROW, how="left", maintain_order="left")
    return rows.drop(_ROW)


def _plain_number(value: pl.Expr) -> pl.Expr:
    """A number as a person writes it: ``182``, not ``182.0``; ``12.5`` stays."""
    whole = value.round(0)
    return (
        pl.when(value == whole)
        .then(whole.cast(pl.Int64).cast(pl.String))
        .otherwise(value.round(1).cast(pl.String))
    )


def reason(criterion: SignalCriterion | GrowthCriterion) -> pl.Expr:
    """Words for a fired criterion, quoting its evidence.

    ``hiring sellers +1 (3 postings in 60d)``, ``fresh funding +2 (Series B, 2026-01-01)``,
    ``new revenue leader +3: VP Sales, 2026-10-12``,
    ``headcount up 20% in six months +2: 140 -> 182 (+30%)``.
    """
    head = f"{criterion.label} {criterion.points:+d}"
    if isinstance(criterion, GrowthCriterion):
        growth = pl.col(f"{criterion.key}_g")
        sign = pl.when(growth >= 0).then(pl.lit("+")).otherwise(pl.lit(""))
        return pl.concat_str(
            [
                pl.lit(f"{head}: "),
                _plain_number(pl.col(f"{criterion.key}_then")),
                pl.lit(" -> "),
                _plain_number(pl.col(f"{criterion.key}_now")),
                pl.lit(" ("),
                sign,
                _plain_number(growth),
                pl.lit("%)"),
            ]
        )
    if criterion.legacy:
        return _legacy_reason(criterion, head + " (")
    key = criterion.key
    n = pl.col(f"{key}_n")
    day = pl.col(f"{key}_date").dt.strftime("%Y-%m-%d")
    latest = pl.concat_str([pl.col(f"{key}_what"), day], separator=", ", ignore_nulls=True)
    if _quoted(criterion) is None:
        latest = day
    events = pl.concat_str([n.cast(pl.String), pl.lit(" events, latest "), latest])
    body = pl.when(n > 1).then(events).otherwise(latest)
    if criterion.min_distinct:
        body = pl.concat_str([pl.col(f"{key}_values"), pl.lit(" ("), body, pl.lit(")")])
    if criterion.min_total:
        column = criterion.min_total[0][0]
        total = pl.concat_str(
            [pl.lit(f"{column} "), _thousands(pl.col(f"{key}_t0")), pl.lit(" in total")]
        )
        body = pl.concat_str([total, pl.lit(" ("), body, pl.lit(")")])
    return pl.concat_str([pl.lit(f"{head}: "), body])


def _thousands(value: pl.Expr) -> pl.Expr:
    """A total with thousands separators, as the explain output writes amounts."""
    whole = value.round(0).cast(pl.Int64)
    digits = whole.abs().cast(pl.String)
    grouped = (
        digits.str.reverse()
        .str.replace_all(r"(\d{3})", "$1,")
        .str.reverse()
        .str.strip_chars_start(",")
    )
    return pl.when(whole < 0).then(pl.lit("-") + grouped).otherwise(grouped)


def _legacy_reason(criterion: SignalCriterion, head: str) -> pl.Expr:
    """The long-standing wording of a plain hiring or funding count."""
    n = pl.col(f"{criterion.key}_n").cast(pl.String)
    if criterion.signal == "hiring":
        noun = (
            pl.when(pl.col(f"{criterion.key}_n") == 1)
            .then(pl.lit(" posting"))
            .otherwise(pl.lit(" postings"))
        )
        return pl.concat_str([pl.lit(head), n, noun, pl.lit(f" in {criterion.within_days}d)")])
    latest = pl.concat_str(
        [
            pl.col(f"{criterion.key}_type").fill_null("round"),
            pl.lit(", "),
            pl.col(f"{criterion.key}_date").dt.strftime("%Y-%m-%d"),
        ]
    )
    several = pl.concat_str([n, pl.lit(" rounds, latest "), latest])
    body = pl.when(pl.col(f"{criterion.key}_n") > 1).then(several).otherwise(latest)
    return pl.concat_str([pl.lit(head), body, pl.lit(")")])
