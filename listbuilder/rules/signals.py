"""Growth signals: recent job postings and funding rounds, aggregated per company.

Every signal criterion of every segment is computed in one grouped pass over its event
table, restricted first to the widest window any criterion needs, so a ten-million-row
postings table is scanned once however many criteria read it. Events dated after the
as-of date are ignored: a past month can be rebuilt exactly.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from listbuilder.rules.parse import SignalCriterion

EVENT_DATE = {"hiring": "posted_date", "funding": "announced_date"}


def window_start(as_of: dt.date, within_days: int) -> dt.date:
    """First day inside a window of ``within_days`` ending on (and including) ``as_of``."""
    return as_of - dt.timedelta(days=within_days)


def _matches(criterion: SignalCriterion, as_of: dt.date | pl.Expr) -> pl.Expr:
    """Does an event row count for this criterion (inside its window, of the right kind)?

    ``as_of`` is one date for every row, or an expression giving each row its own.
    """
    date_col = EVENT_DATE[criterion.signal]
    start = (
        as_of - pl.duration(days=criterion.within_days)
        if isinstance(as_of, pl.Expr)
        else window_start(as_of, criterion.within_days)
    )
    expr = pl.col(date_col) >= start
    if criterion.departments:
        wanted = [d.lower() for d in criterion.departments]
        expr = expr & pl.col("department").str.to_lowercase().is_in(wanted)
    if criterion.round_types:
        wanted = [r.lower() for r in criterion.round_types]
        expr = expr & pl.col("round_type").str.to_lowercase().is_in(wanted)
    if criterion.min_amount_usd is not None:
        expr = expr & (pl.col("amount_usd") >= criterion.min_amount_usd)
    return expr.fill_null(False)


def aggregate_signal(
    events: pl.LazyFrame, criteria: list[SignalCriterion], as_of: dt.date
) -> pl.LazyFrame:
    """One row per company with, for each criterion, its event count in the window.

    Funding criteria also get the type and date of the latest qualifying round, which
    the list's ``reasons`` quote.
    """
    signal = criteria[0].signal
    date_col = EVENT_DATE[signal]
    widest = max(c.within_days for c in criteria)
    recent = events.filter(
        pl.col(date_col).is_between(window_start(as_of, widest), as_of, closed="both")
    )
    return _grouped(recent, criteria, as_of, "company_id")


def _grouped(
    recent: pl.LazyFrame, criteria: list[SignalCriterion], as_of: dt.date | pl.Expr, key: str
) -> pl.LazyFrame:
    """Each criterion's event count (and, for funding, latest round) per ``key``."""
    signal = criteria[0].signal
    date_col = EVENT_DATE[signal]
    aggs: list[pl.Expr] = []
    for c in criteria:
        hit = _matches(c, as_of)
        aggs.append(hit.sum().cast(pl.Int64).alias(f"{c.key}_n"))
        if signal == "funding":
            aggs.append(pl.col("round_type").filter(hit).last().alias(f"{c.key}_type"))
            aggs.append(pl.col(date_col).filter(hit).last().alias(f"{c.key}_date"))
    if signal == "funding":
        # `last` must mean the latest round; the tie-breakers make it the same every run.
        recent = recent.sort([key, date_col, "round_type"], nulls_last=False)
    return recent.group_by(key).agg(aggs)


def attach_signals(
    companies: pl.LazyFrame,
    criteria: list[SignalCriterion],
    events: dict[str, pl.LazyFrame],
    as_of: dt.date,
) -> pl.LazyFrame:
    """Left-join every criterion's signal columns onto the companies.

    Args:
        companies: The companies, with ``company_id``.
        criteria: All signal criteria of the rules.
        events: Event tables by signal name (``hiring`` -> jobs, ``funding`` -> rounds).
        as_of: The date windows end on.
    """
    for signal in ("hiring", "funding"):
        wanted = [c for c in criteria if c.signal == signal]
        if not wanted:
            continue
        agg = aggregate_signal(events[signal], wanted, as_of)
        companies = companies.join(agg, on="company_id", how="left", maintain_order="left")
    return companies


def event_matches(criterion: SignalCriterion, as_of: dt.date) -> pl.Expr:
    """Does an event row count for ``criterion`` in the window ending on ``as_of``?

    The lower end only, with the kind filters; callers bound the upper end at ``as_of``.
    """
    return _matches(criterion, as_of)


_ROW = "_pit_row"
_ROW_AS_OF = "_pit_as_of"


def aggregate_signal_at(
    events: pl.LazyFrame, criteria: list[SignalCriterion], rows: pl.LazyFrame
) -> pl.LazyFrame:
    """Like ``aggregate_signal``, but each row of ``rows`` has its own as-of date.

    ``rows`` holds ``_pit_row`` (a unique key), ``company_id`` and ``_pit_as_of``. Events
    are joined to the rows of their company and kept when they fall in the widest window
    ending on that row's date, then grouped by row: one join and one grouped pass, however
    many rows share a company. An event dated after a row's date never counts for it.
    """
    signal = criteria[0].signal
    date_col = EVENT_DATE[signal]
    widest = max(c.within_days for c in criteria)
    as_of = pl.col(_ROW_AS_OF)
    recent = events.join(rows, on="company_id", how="inner").filter(
        pl.col(date_col).is_between(as_of - pl.duration(days=widest), as_of, closed="both")
    )
    return _grouped(recent, criteria, as_of, _ROW)


def attach_signals_at(
    rows: pl.LazyFrame,
    criteria: list[SignalCriterion],
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
    for signal in ("hiring", "funding"):
        wanted = [c for c in criteria if c.signal == signal]
        if not wanted:
            continue
        agg = aggregate_signal_at(events[signal], wanted, keys)
        rows = rows.join(agg, on=_ROW, how="left", maintain_order="left")
    return rows.drop(_ROW)


def reason(criterion: SignalCriterion) -> pl.Expr:
    """Words for a fired signal criterion, e.g. ``hiring sellers +1 (3 postings in 60d)``."""
    head = f"{criterion.label} {criterion.points:+d} ("
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
