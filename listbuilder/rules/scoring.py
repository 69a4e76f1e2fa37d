"""Scoring: the rules evaluated over companies, as columns on one lazy frame.

For segment ``i`` the frame gains ``_elig{i}`` (eligible), ``_f{i}_{j}`` (criterion ``j``
fired), ``_score{i}`` with its parts ``_fit{i}`` and ``_int{i}`` (the two groups) and
``_pct{i}`` (percent of the maximum attainable score), ``_qual{i}`` (qualifies) and, across
segments, ``_seg`` (the first segment the company qualifies for). The build, the changes
report and ``explain`` all read these same columns, so a number in any of them is computed
in exactly one place.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

import listbuilder.rules.signals as signals
from listbuilder.rules.definitions import (
    AttributeCriterion,
    Condition,
    EventCriterion,
    Rules,
    Segment,
)


def fired_col(i: int, j: int) -> str:
    """Column name of segment ``i``'s criterion ``j`` fired flag."""
    return f"_f{i}_{j}"


def score_companies(
    rules: Rules,
    companies: pl.LazyFrame,
    events: dict[str, pl.LazyFrame],
    as_of: dt.date,
    *,
    sticky: bool = False,
    signals_as_of: str | None = None,
) -> pl.LazyFrame:
    """Add eligibility, fired flags, scores, qualification and segment choice columns.

    Args:
        rules: Parsed rules.
        companies: Companies in the canonical schema.
        events: Event tables by signal name (``hiring``, ``funding``).
        as_of: The date signal windows end on.
        sticky: Apply tier stickiness. The companies then carry, from the previous run,
            ``_prev_seg`` (segment index), ``_prev_score`` and ``_prev_stick`` (the
            stickiness of the tier they were in, null if none). A company still eligible
            for its previous segment whose score fell by no more than ``_prev_stick`` is
            kept (``_keep{i}``) and qualifies even below the threshold.
        signals_as_of: A date column of ``companies`` to end each row's signal windows
            on instead of ``as_of`` (point in time: a row is then, say, a deal, and
            several rows may share a company). ``as_of`` is unused for signals then.
    """
    segs = rules.segments
    # Includes on company columns alone are computed before the signals are joined, so a
    # filter on them (the build keeps only companies some segment includes) runs before
    # the joins: millions of companies shrink to the included ones first.
    early = not any(s.include_signals for s in segs)
    includes = [s.included().alias(included_col(i)) for i, s in enumerate(segs)]
    if early:
        companies = companies.with_columns(includes)
    if signals_as_of is None:
        lf = signals.attach_signals(companies, rules.event_reads(), events, as_of)
    else:
        lf = signals.attach_signals_at(companies, rules.event_reads(), events, signals_as_of)
    # Each exclude condition is a column, not only part of `_elig`: the build counts
    # what every disqualifier removes from the same frame, without evaluating it twice.
    lf = lf.with_columns(
        *([] if early else includes),
        *(
            _truth(c).alias(exclude_col(i, k))
            for i, s in enumerate(segs)
            for k, c in enumerate(s.exclusions())
        ),
        *(
            c.fired().alias(fired_col(i, j))
            for i, s in enumerate(segs)
            for j, c in enumerate(s.score)
        ),
    )
    lf = lf.with_columns(
        (
            pl.col(included_col(i))
            & ~pl.any_horizontal(
                [
                    pl.lit(False),
                    *(pl.col(exclude_col(i, k)) for k in range(len(s.exclusions()))),
                ]
            )
        ).alias(f"_elig{i}")
        for i, s in enumerate(segs)
    )
    return _scores_and_qualification(lf, rules, sticky)


def _scores_and_qualification(lf: pl.LazyFrame, rules: Rules, sticky: bool) -> pl.LazyFrame:
    """Per segment the fit, intent and total scores, percent, held, qualified; then
    ``_seg``."""
    segs = rules.segments
    lf = lf.with_columns(
        expr
        for i, s in enumerate(segs)
        for expr in (
            _score_expr(s, i, "fit").alias(f"_fit{i}"),
            _score_expr(s, i, "intent").alias(f"_int{i}"),
        )
    )
    lf = lf.with_columns(
        (pl.col(f"_fit{i}") + pl.col(f"_int{i}")).alias(f"_score{i}") for i in range(len(segs))
    )
    lf = lf.with_columns(
        *(s.percent_expr(pl.col(f"_score{i}")).alias(f"_pct{i}") for i, s in enumerate(segs)),
        *(_keep_expr(i, sticky).alias(f"_keep{i}") for i in range(len(segs))),
    )
    lf = lf.with_columns(
        (pl.col(f"_elig{i}") & (reaches(s, i, len(s.tiers) - 1) | pl.col(f"_keep{i}"))).alias(
            f"_qual{i}"
        )
        for i, s in enumerate(segs)
    )
    return lf.with_columns(_seg=_first_segment(len(segs)))


def _keep_expr(i: int, sticky: bool) -> pl.Expr:
    """Held by stickiness: eligible for its previous segment, score within the allowance."""
    if not sticky:
        return pl.lit(False)
    return (
        pl.col(f"_elig{i}")
        & (pl.col("_prev_seg") == i)
        & (pl.col(f"_score{i}") >= pl.col("_prev_score") - pl.col("_prev_stick"))
    ).fill_null(False)


def _score_expr(segment: Segment, i: int, group: str) -> pl.Expr:
    """The points of one group's criteria that fired, negative points included."""
    terms = [
        pl.when(pl.col(fired_col(i, j))).then(pl.lit(c.points)).otherwise(0)
        for j, c in enumerate(segment.score)
        if c.group == group
    ]
    return pl.sum_horizontal([pl.lit(0), *terms]).cast(pl.Int64)


def _truth(test: Condition | EventCriterion) -> pl.Expr:
    """A company condition or an event test, as a boolean column."""
    return test.expr() if isinstance(test, Condition) else test.fired()


def reaches(segment: Segment, i: int, tier_ix: int) -> pl.Expr:
    """Does a company reach segment ``i``'s tier ``tier_ix`` (every threshold it gives)?"""
    return segment.tiers[tier_ix].reached(
        pl.col(f"_score{i}"), pl.col(f"_pct{i}"), pl.col(f"_fit{i}"), pl.col(f"_int{i}")
    )


def _first_segment(n_segments: int) -> pl.Expr:
    """Index of the first segment, in file order, for which a company qualifies."""
    first = pl.lit(None, dtype=pl.Int32)
    for i in reversed(range(n_segments)):
        first = pl.when(pl.col(f"_qual{i}")).then(pl.lit(i, dtype=pl.Int32)).otherwise(first)
    return first


def reasons_expr(segment: Segment, i: int) -> pl.Expr:
    """Words for every criterion that fired, e.g. ``core size band +2; late stage -1``."""
    parts = []
    for j, criterion in enumerate(segment.score):
        if isinstance(criterion, AttributeCriterion):
            text = pl.lit(f"{criterion.label} {criterion.points:+d}")
        else:
            text = signals.reason(criterion)
        parts.append(pl.when(pl.col(fired_col(i, j))).then(text))
    if not parts:
        return pl.lit("")
    return pl.concat_str(parts, separator="; ", ignore_nulls=True)


def fired_labels_expr(segment: Segment, i: int) -> pl.Expr:
    """The labels of the criteria that fired, as a list column."""
    if not segment.score:
        return pl.lit([], dtype=pl.List(pl.String))
    parts = [
        pl.when(pl.col(fired_col(i, j))).then(pl.lit(c.label)) for j, c in enumerate(segment.score)
    ]
    return pl.concat_list(parts).list.drop_nulls()


def included_col(i: int) -> str:
    """Column name of "all of segment ``i``'s include conditions hold"."""
    return f"_incl{i}"


def include_col(i: int, k: int) -> str:
    """Column name of segment ``i``'s include condition ``k`` truth value (the signal
    tests follow the conditions)."""
    return f"_inc{i}_{k}"


def exclude_col(i: int, k: int) -> str:
    """Column name of segment ``i``'s exclusion ``k`` truth value (``Segment.exclusions``)."""
    return f"_exc{i}_{k}"


def evaluate_ids(
    rules: Rules,
    companies: pl.LazyFrame,
    events: dict[str, pl.LazyFrame],
    as_of: dt.date,
    ids: list[str],
) -> pl.DataFrame:
    """Score a few companies in full detail, one column per condition and criterion.

    Events are restricted to the wanted companies before aggregation, so explaining a
    handful of accounts costs one filtered scan, not a whole build.
    """
    wanted = pl.col("company_id").is_in(ids)
    lf = score_companies(
        rules,
        companies.filter(wanted),
        {name: frame.filter(wanted) for name, frame in events.items()},
        as_of,
    )
    lf = lf.with_columns(
        *(
            _truth(c).alias(include_col(i, k))
            for i, s in enumerate(rules.segments)
            for k, c in enumerate([*s.include, *s.include_signals])
        ),
        *(reasons_expr(s, i).alias(f"_reasons{i}") for i, s in enumerate(rules.segments)),
        *(fired_labels_expr(s, i).alias(f"_fired{i}") for i, s in enumerate(rules.segments)),
    )
    return lf.collect()
