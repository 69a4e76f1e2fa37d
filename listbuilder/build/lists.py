"""The list build: sources -> rules -> CRM match -> tiers -> files.

``build_lists`` does the work on frames and returns them; ``run_build`` reads the inputs,
calls it and writes the run directory atomically. The whole-dataset part (signals,
eligibility, scores, segment choice, funnel counts) is one lazy query; only the accounts
that qualify for a segment are materialised, so CRM matching and tiering cost follows the
size of the lists rather than of the dataset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from listbuilder.build.changes import (
    ACCOUNT_COLUMNS,
    PreviousRun,
    attribute_columns,
    segment_changes,
)
from listbuilder.engines import Engine, EngineTable, Scored
from listbuilder.errors import DataError, RulesError
from listbuilder.inputs import Source, domain_expr, input_key
from listbuilder.match import match_crm
from listbuilder.progress import QUIET, Progress
from listbuilder.rules import (
    EVENT_DATE,
    Condition,
    GrowthCriterion,
    Rules,
    Segment,
    SignalCriterion,
    TierPlan,
    assign_tiers,
    column_kind,
    evaluate_ids,
    exclude_col,
    fired_labels_expr,
    included_col,
    reaches,
    reasons_expr,
    score_companies,
    tier_plans,
)
from listbuilder.rules.sql import placement_columns

LEAD_COLUMNS = (
    "segment",
    "tier",
    "rank",
    "score",
    "percent",
    "fit_score",
    "intent_score",
    "reasons",
    "company_id",
    "name",
    "domain",
)
CRM_COLUMNS = ("crm_account_id", "crm_match_method", "crm_match_score")
SUPPRESSED_COLUMNS = (
    "company_id",
    "name",
    "domain",
    "segment",
    "score",
    "crm_account_id",
    "crm_status",
    "crm_name",
    "crm_domain",
    "crm_match_method",
    "crm_match_score",
)


@dataclass(frozen=True)
class SegmentList:
    """One segment's finished list and the counts that explain its size."""

    segment: Segment
    frame: pl.DataFrame
    funnel: dict[str, int]
    plans: list[TierPlan]
    disqualifiers: dict[str, int]
    # (score, eligible accounts) for each score an eligible account has, lowest first.
    score_histogram: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class BuildResult:
    """Everything a build produces, before it is written anywhere."""

    as_of: dt.date
    companies_read: int
    lists: list[SegmentList]
    suppressed: pl.DataFrame
    event_rows: dict[str, int]
    accounts: pl.DataFrame
    changes: dict[str, pl.DataFrame] | None = None
    previous: PreviousRun | None = None
    # The newest event date of each signal table (None when it has no dated rows).
    event_last: dict[str, dt.date | None] = field(default_factory=dict)


def _best_crm_match(
    candidates: pl.DataFrame,
    crm: pl.DataFrame,
    exclude_status: tuple[str, ...],
    confirmed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per matched company: the suppressing account if any, else the best match."""
    keys = [c for c in ("company_id", "name", "domain", "country") if c in candidates.columns]
    pairs = match_crm(candidates.select(keys), crm, confirmed=confirmed)
    accounts = crm.select(
        "account_id",
        crm_status=pl.col("status"),
        crm_name=pl.col("name"),
        crm_domain=pl.col("domain"),
    )
    return (
        pairs.join(accounts, on="account_id", how="inner")
        .with_columns(
            _excluded=pl.col("crm_status")
            .str.to_lowercase()
            .is_in(list(exclude_status))
            .fill_null(False)
        )
        # A customer among several matches must win: never pitch a customer.
        .sort(
            ["company_id", "_excluded", "score", "account_id"],
            descending=[False, True, True, False],
        )
        .unique("company_id", keep="first", maintain_order=True)
        .select(
            "company_id",
            "_excluded",
            "crm_status",
            "crm_name",
            "crm_domain",
            crm_account_id=pl.col("account_id"),
            crm_match_method=pl.col("method"),
            crm_match_score=pl.col("score"),
        )
    )


def build_lists(
    rules: Rules,
    companies: pl.LazyFrame,
    *,
    as_of: dt.date,
    jobs: pl.LazyFrame | None = None,
    funding: pl.LazyFrame | None = None,
    events: Mapping[str, pl.LazyFrame] | None = None,
    crm: pl.DataFrame | None = None,
    confirmed: pl.DataFrame | None = None,
    previous: PreviousRun | None = None,
    progress: Progress = QUIET,
    engine: Engine | None = None,
    scan: dict[str, tuple[Path, ...]] | None = None,
) -> BuildResult:
    """Score, qualify, dedupe against the CRM and tier every segment's list.

    Args:
        rules: Parsed rules (check them against the data first with ``check_inputs``).
        companies: Companies in the canonical schema.
        as_of: Signal windows end on this date; later events are ignored.
        jobs, funding: The ``hiring`` and ``funding`` event tables, when rules use them.
        events: Event tables by name, each read once however many criteria use it.
        crm: CRM accounts (``account_id``, ``name``, ``domain``, ``status``).
        confirmed: A person's match decisions (``company_id``, ``account_id``,
            ``decision``), which override the matching engine both ways.
        previous: The previous run, for tier stickiness and the changes report.
        progress: Where to announce each stage.
        engine: Where the whole-dataset part and, after CRM matching (always here, on
            the qualified accounts), each list's placement run (None: polars).
        scan: Parquet files an engine may scan itself, by table, when canonical.
    """
    company_columns = list(companies.collect_schema())
    given = {k: v for k, v in (("hiring", jobs), ("funding", funding)) if v is not None}
    events = {**given, **(events or {})}
    segs = rules.segments
    sticky = previous is not None and any(t.stickiness is not None for s in segs for t in s.tiers)
    scored_input = companies
    seats = _previous_seats(rules, previous) if sticky and previous is not None else None
    if seats is not None:
        scored_input = companies.join(
            seats.lazy(), on="company_id", how="left", maintain_order="left"
        )
    scored = _scored(
        rules, companies, scored_input, events, as_of, sticky, seats, engine, scan, progress
    )
    counts, histograms = scored.counts, scored.histograms
    candidates = scored.included.filter(pl.col("_seg").is_not_null())
    not_qualified = _not_qualified(rules, scored.included)
    event_rows, event_last = scored.event_rows, scored.event_last
    del scored
    candidates, placed = _match_and_place(
        rules, candidates, crm, confirmed, engine, sticky=sticky, progress=progress
    )
    rest = [c for c in company_columns if c not in LEAD_COLUMNS]
    lists, suppressed_parts, account_parts = [], [], []
    for i, seg in enumerate(segs):
        segment_list, suppressed, parts = _segment_list(
            seg, i, candidates, counts, histograms[i], sticky=sticky, rest=rest, placed=placed
        )
        lists.append(segment_list)
        suppressed_parts.append(suppressed)
        account_parts += parts
    accounts = _accounts_frame(rules, [*account_parts, *not_qualified])
    changes = None
    if previous is not None:
        with progress.stage("comparing with the previous run"):
            changes = _changes(rules, previous, accounts, companies, events, as_of)
    return BuildResult(
        as_of=as_of,
        companies_read=counts["read"],
        lists=lists,
        suppressed=pl.concat(suppressed_parts),
        event_rows={input_key(name): n for name, n in event_rows.items()},
        event_last={input_key(name): d for name, d in event_last.items()},
        accounts=accounts,
        changes=changes,
        previous=previous,
    )


def _scored(
    rules: Rules,
    companies: pl.LazyFrame,
    scored_input: pl.LazyFrame,
    events: Mapping[str, pl.LazyFrame],
    as_of: dt.date,
    sticky: bool,
    seats: pl.DataFrame | None,
    engine: Engine | None,
    scan: dict[str, tuple[Path, ...]] | None,
    progress: Progress,
) -> Scored:
    """The whole-dataset stage: signals, eligibility, scores and segment choice, in polars
    or in ``engine``; only companies that pass some segment's includes come back."""
    label = "scoring companies" if engine is None else f"scoring companies ({engine.name})"
    with progress.stage(label) as stage:
        if engine is None:
            scored = _score_polars(rules, companies, scored_input, events, as_of, sticky)
        else:
            scored = engine.score(
                rules, _engine_tables(companies, events, scan), as_of, previous_seats=seats
            )
        stage.rows = scored.counts["read"]
    return scored


def _match_and_place(
    rules: Rules,
    candidates: pl.DataFrame,
    crm: pl.DataFrame | None,
    confirmed: pl.DataFrame | None,
    engine: Engine | None,
    *,
    sticky: bool,
    progress: Progress,
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """The qualified accounts with their CRM match (numbered ``_lb_row`` in input order)
    and, on an engine, every segment's placement, which the engine computes from them."""
    with progress.stage("matching qualified accounts against the CRM") as stage:
        candidates = _with_crm(candidates, crm, rules.exclude_status, confirmed)
        stage.rows = candidates.height
    candidates = candidates.with_row_index("_lb_row").with_columns(pl.col("_lb_row").cast(pl.Int64))
    if engine is None or candidates.is_empty():
        return candidates, None  # nothing to place: no need to start the engine again
    with progress.stage(f"placing the lists ({engine.name})") as stage:
        placed = engine.place(rules, _placement_input(rules, candidates, sticky), sticky=sticky)
        stage.rows = placed.height
    return candidates, placed


def _segment_list(
    seg: Segment,
    i: int,
    candidates: pl.DataFrame,
    counts: Mapping[str, int],
    histogram: tuple[tuple[int, int], ...],
    *,
    sticky: bool,
    rest: list[str],
    placed: pl.DataFrame | None = None,
) -> tuple[SegmentList, pl.DataFrame, list[pl.DataFrame]]:
    """One segment's list from the qualified candidates it won: suppress CRM accounts,
    keep one account per domain, tier and cap; also its suppressed rows and every
    account's status for ``accounts.parquet``. ``placed`` is an engine's placement of
    every segment's accounts (``placements_sql``); without it, polars places them."""
    assigned = (
        candidates.filter(pl.col("_seg") == i)
        .with_columns(
            score=pl.col(f"_score{i}"),
            percent=pl.col(f"_pct{i}"),
            fit_score=pl.col(f"_fit{i}"),
            intent_score=pl.col(f"_int{i}"),
            segment=pl.lit(seg.name),
            reasons=reasons_expr(seg, i),
            fired=fired_labels_expr(seg, i),
        )
        # The seat a held account keeps; an engine's placement works it out itself.
        .with_columns(
            _pin=_pin_expr(seg, i) if sticky and placed is None else pl.lit(None, pl.Int32)
        )
    )
    suppressed = assigned.filter(pl.col("_excluded"))
    if placed is None:
        listed, not_listed, duplicates = _place_polars(assigned, seg, sticky=sticky)
    else:
        listed, not_listed, duplicates = _place_engine(
            assigned, placed.filter(pl.col("_seg") == i), seg
        )
    plans = tier_plans(seg.tiers, listed)
    account_parts = [
        listed.with_columns(status=pl.lit("listed")),
        suppressed.with_columns(status=pl.lit("suppressed")),
        not_listed.with_columns(status=pl.lit("not_listed")),
        duplicates.with_columns(status=pl.lit("duplicate")),
    ]
    listed = listed.select(*LEAD_COLUMNS, *CRM_COLUMNS, *rest)
    suppressed_rows = suppressed.sort(["score", "company_id"], descending=[True, False]).select(
        *SUPPRESSED_COLUMNS
    )
    funnel = {
        "companies_read": counts["read"],
        "eligible": counts[f"eligible{i}"],
        "qualified": counts[f"qualified{i}"],
        "taken_by_earlier_segment": counts[f"qualified{i}"] - assigned.height,
        "suppressed_by_crm": suppressed.height,
        "duplicate_domain": duplicates.height,
        "listed": listed.height,
        "not_listed_caps": not_listed.height,
    }
    disqualifiers = {c.describe(): counts[f"dq{i}_{k}"] for k, c in enumerate(seg.exclusions())}
    segment_list = SegmentList(seg, listed, funnel, plans, disqualifiers, histogram)
    return segment_list, suppressed_rows, account_parts


def _place_polars(
    assigned: pl.DataFrame, seg: Segment, *, sticky: bool
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The segment's listed (tiered, ranked), not-listed and duplicate-domain accounts,
    the last two in rank order, placed in polars."""
    ranked, duplicates = _one_per_domain(
        assigned.filter(~pl.col("_excluded")).sort(
            ["score", "company_id"], descending=[True, False], maintain_order=True
        )
    )
    listed, _ = assign_tiers(ranked, seg.tiers, seg.max_accounts, pinned="_pin" if sticky else None)
    if sticky:
        listed = _only_real_holds(listed, ranked, seg)
    # By row, not id: a dataset may hold one company_id twice.
    not_listed = ranked.join(listed.select("_lb_row"), on="_lb_row", how="anti")
    return listed, not_listed, duplicates


def _place_engine(
    assigned: pl.DataFrame, placed: pl.DataFrame, seg: Segment
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``_place_polars``' three frames from an engine's placement of the segment."""
    names = {ix: t.name for ix, t in enumerate(seg.tiers)}
    joined = assigned.join(
        placed.select("_lb_row", "_pos", "_status", "_tier_ix", "rank", "held"), on="_lb_row"
    ).sort("_pos")
    listed = (
        joined.filter(pl.col("_status") == "listed")
        .sort("rank")
        .with_columns(tier=pl.col("_tier_ix").replace_strict(names, return_dtype=pl.String))
    )
    # Only a listed account has a rank and a held flag.
    unlisted = joined.drop("rank", "held")
    return (
        listed,
        unlisted.filter(pl.col("_status") == "not_listed"),
        unlisted.filter(pl.col("_status") == "duplicate"),
    )


def _placement_input(rules: Rules, candidates: pl.DataFrame, sticky: bool) -> pl.DataFrame:
    """What an engine's placement query reads: the scoring columns, the CRM's verdict and
    each account's registrable domain (found here, with the Public Suffix List)."""
    return candidates.with_columns(_domain=domain_expr("domain")).select(
        placement_columns(rules, sticky=sticky)
    )


def _score_polars(
    rules: Rules,
    companies: pl.LazyFrame,
    scored_input: pl.LazyFrame,
    events: dict[str, pl.LazyFrame],
    as_of: dt.date,
    sticky: bool,
) -> Scored:
    """The whole-dataset part in polars: one lazy query, the included companies collected."""
    segs = rules.segments
    ids = _included_ids(rules, companies)
    if ids is not None:
        # Only these companies' rows can count: the others are never read whole. A row
        # without an id is kept, so the include filter below treats it as before.
        keep = (
            pl.col("company_id").is_in(ids.drop_nulls().implode()) | pl.col("company_id").is_null()
        )
        lf = score_companies(
            rules,
            scored_input.filter(keep),
            {name: frame.filter(keep) for name, frame in events.items()},
            as_of,
            sticky=sticky,
        )
    else:
        lf = score_companies(rules, scored_input, events, as_of, sticky=sticky)
    # Every number in the funnel is about companies that pass some segment's includes, so
    # only those are materialised; the row count of the whole dataset, and each event
    # table's, is a separate query over the unfiltered tables.
    included = lf.filter(pl.any_horizontal([included_col(i) for i in range(len(segs))]))
    queries = [companies.select(pl.len()), included]
    # One max per table, in the same pass: an as-of date past the data is worth a warning.
    queries += [
        frame.select(pl.len(), pl.col(EVENT_DATE[name]).max()) for name, frame in events.items()
    ]
    read_df, included_df, *event_lens = pl.collect_all(queries)
    counts = included_df.select(
        *(pl.col(f"_elig{i}").sum().alias(f"eligible{i}") for i in range(len(segs))),
        *(pl.col(f"_qual{i}").sum().alias(f"qualified{i}") for i in range(len(segs))),
        *(
            (pl.col(included_col(i)) & pl.col(exclude_col(i, k))).sum().alias(f"dq{i}_{k}")
            for i, s in enumerate(segs)
            for k in range(len(s.exclusions()))
        ),
    ).row(0, named=True)
    counts["read"] = read_df.item()
    return Scored(
        counts,
        _score_histograms(included_df, len(segs)),
        included_df,
        {name: df.item(0, 0) for name, df in zip(events, event_lens, strict=True)},
        {name: df.item(0, 1) for name, df in zip(events, event_lens, strict=True)},
    )


def _included_ids(rules: Rules, companies: pl.LazyFrame) -> pl.Series | None:
    """The ids of the companies some segment's includes take; None when includes read
    signals (then every company must be scored to know).

    The include conditions are computed columns, so polars cannot push a filter on them
    into the parquet scan: every column of every company, and every event of every
    company, would be read first. The ids are found first instead, reading only the
    columns the includes test; a filter on the id column then reaches each scan, which
    reads the other columns for those rows only. The build's own include filter still
    decides afterwards, so nothing changes but memory and time.
    """
    if any(s.include_signals for s in rules.segments):
        return None
    wanted = pl.any_horizontal([pl.lit(False), *(s.included() for s in rules.segments)])
    return companies.filter(wanted).select("company_id").unique().collect()["company_id"]


def _engine_tables(
    companies: pl.LazyFrame,
    events: dict[str, pl.LazyFrame],
    scan: dict[str, tuple[Path, ...]] | None,
) -> dict[str, EngineTable]:
    frames = {"companies": companies, **events}
    return {name: EngineTable(frame, (scan or {}).get(name, ())) for name, frame in frames.items()}


def _not_qualified(rules: Rules, included: pl.DataFrame) -> list[pl.DataFrame]:
    """Per segment, the companies that pass its includes but do not qualify for it.

    They are kept in ``accounts.parquet`` (status ``not_qualified``) so that next month's
    run knows their score, criteria and attributes when one of them joins the list.
    """
    parts = []
    for i, seg in enumerate(rules.segments):
        parts.append(
            included.filter(pl.col(included_col(i)) & ~pl.col(f"_qual{i}"))
            .with_columns(
                score=pl.col(f"_score{i}"),
                segment=pl.lit(seg.name),
                fired=fired_labels_expr(seg, i),
                status=pl.lit("not_qualified"),
            )
            .sort("company_id")
        )
    return parts


def _accounts_frame(rules: Rules, parts: list[pl.DataFrame]) -> pl.DataFrame:
    """``ACCOUNT_COLUMNS`` of every part, and ``attributes``: the company columns the rules read.

    The attributes are what the next run's changes are explained against: a company's
    headcount last month is not in this month's data.
    """
    read = attribute_columns(rules)
    return pl.concat(
        [
            part.select(
                *(
                    pl.col(c).cast(t) if c in part.columns else pl.lit(None, t).alias(c)
                    for c, t in ACCOUNT_COLUMNS.items()
                ),
                *([pl.struct(read).alias("attributes")] if read else []),
            )
            for part in parts
        ]
    )


def _score_histograms(included: pl.DataFrame, n_segments: int) -> list[tuple[tuple[int, int], ...]]:
    """Per segment, how many eligible accounts have each score (the report's histogram)."""
    histograms = []
    for i in range(n_segments):
        counts = (
            included.filter(pl.col(f"_elig{i}")).group_by(f"_score{i}").len().sort(f"_score{i}")
        )
        histograms.append(tuple((int(s), int(n)) for s, n in counts.iter_rows()))
    return histograms


def _with_crm(
    candidates: pl.DataFrame,
    crm: pl.DataFrame | None,
    exclude_status: tuple[str, ...],
    confirmed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Attach each candidate's CRM match; ``_excluded`` marks those to suppress."""
    if crm is not None and candidates.height:
        return candidates.join(
            _best_crm_match(candidates, crm, exclude_status, confirmed),
            on="company_id",
            how="left",
            maintain_order="left",
        ).with_columns(pl.col("_excluded").fill_null(False))
    return candidates.with_columns(
        _excluded=pl.lit(False),
        crm_status=pl.lit(None, pl.String),
        crm_name=pl.lit(None, pl.String),
        crm_domain=pl.lit(None, pl.String),
        crm_account_id=pl.lit(None, pl.String),
        crm_match_method=pl.lit(None, pl.String),
        crm_match_score=pl.lit(None, pl.Float64),
    )


def _one_per_domain(ranked: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split ranked accounts into the best-ranked one per registrable domain and the rest.

    Company datasets hold the same organisation twice (``acme.com`` and
    ``shop.acme.com``); a list names it once, under its best-ranked record. Accounts
    without a usable domain are all kept: nothing says they are the same.
    """
    domain = domain_expr("domain")
    first = domain.is_null() | (pl.int_range(pl.len()).over(domain) == 0)
    flagged = ranked.with_columns(_first=first)
    return (
        flagged.filter(pl.col("_first")).drop("_first"),
        flagged.filter(~pl.col("_first")).drop("_first"),
    )


def _only_real_holds(listed: pl.DataFrame, ranked: pl.DataFrame, seg: Segment) -> pl.DataFrame:
    """Keep ``held`` only where stickiness changed the outcome.

    An account pinned to the tier it would have earned anyway was not held by anything;
    saying so would bury the accounts stickiness really kept.
    """
    free, _ = assign_tiers(ranked, seg.tiers, seg.max_accounts)
    return (
        listed.join(
            free.select("_lb_row", _free_tier="tier"),
            on="_lb_row",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            held=pl.col("held")
            & (pl.col("_free_tier").is_null() | (pl.col("_free_tier") != pl.col("tier")))
        )
        .drop("_free_tier")
    )


def _previous_seats(rules: Rules, previous: PreviousRun) -> pl.DataFrame:
    """Last run's listed accounts in tiers that have stickiness, keyed for the join."""
    seg_ix = {s.name: i for i, s in enumerate(rules.segments)}
    tier_ix = {(s.name, t.name): ix for s in rules.segments for ix, t in enumerate(s.tiers)}
    stick = {
        (s.name, t.name): t.stickiness
        for s in rules.segments
        for t in s.tiers
        if t.stickiness is not None
    }
    listed = previous.accounts.filter(pl.col("status") == "listed")
    key = pl.concat_str(["segment", "tier"], separator="\x1f")
    flat = {f"{a}\x1f{b}": v for (a, b), v in stick.items()}
    flat_ix = {f"{a}\x1f{b}": v for (a, b), v in tier_ix.items()}
    return (
        listed.select(
            "company_id",
            _prev_seg=pl.col("segment").replace_strict(seg_ix, default=None, return_dtype=pl.Int32),
            _prev_tier_ix=key.replace_strict(flat_ix, default=None, return_dtype=pl.Int32),
            _prev_score=pl.col("score"),
            _prev_stick=key.replace_strict(flat, default=None, return_dtype=pl.Int64),
        )
        .drop_nulls(["_prev_seg", "_prev_tier_ix", "_prev_stick"])
        .unique("company_id", keep="first", maintain_order=True)
    )


def _pin_expr(segment: Segment, i: int) -> pl.Expr:
    """The tier a held account keeps: stickiness holds it unless it earns a higher tier."""
    # Earning a higher tier than the one held: reaching any tier above it.
    earns_higher = pl.lit(False)
    for ix in range(1, len(segment.tiers)):
        above = pl.any_horizontal([reaches(segment, i, k) for k in range(ix)])
        earns_higher = pl.when(pl.col("_prev_tier_ix") == ix).then(above).otherwise(earns_higher)
    held = pl.col(f"_keep{i}") & (pl.col("_prev_seg") == i) & ~earns_higher.fill_null(False)
    return pl.when(held.fill_null(False)).then(pl.col("_prev_tier_ix")).cast(pl.Int32)


def _changes(
    rules: Rules,
    previous: PreviousRun,
    accounts: pl.DataFrame,
    companies: pl.LazyFrame,
    events: dict[str, pl.LazyFrame],
    as_of: dt.date,
) -> dict[str, pl.DataFrame]:
    """Per segment, every change since ``previous`` with its reason."""
    listed = accounts.filter(pl.col("status") == "listed")
    listed_now = listed["company_id"]
    was_listed = previous.accounts.filter(pl.col("status") == "listed")["company_id"]
    gone = was_listed.filter(~was_listed.is_in(listed_now.implode())).unique().sort()
    # Listed in a segment the previous run has no row of them for: re-evaluated as of then.
    new = listed.join(
        previous.accounts.select("company_id", "segment"), on=["company_id", "segment"], how="anti"
    )["company_id"]
    now_eval = evaluate_ids(rules, companies, events, as_of, gone.to_list())
    before_eval = evaluate_ids(rules, companies, events, previous.as_of, new.unique().to_list())
    return {
        seg.name: segment_changes(rules, i, previous, accounts, now_eval, before_eval)
        for i, seg in enumerate(rules.segments)
    }


RESERVED = {*LEAD_COLUMNS[:8], *CRM_COLUMNS}


def check_inputs(
    rules: Rules,
    companies: Source,
    jobs: Source | None = None,
    funding: Source | None = None,
    *,
    events: Mapping[str, Source] | None = None,
) -> None:
    """Check the rules against the data's columns before any data is read.

    Raises:
        RulesError: A rule names a column the data lacks, an event table that was not
            given, or a column of the wrong type for its test.
        DataError: The companies data uses a column name the lists reserve.
    """
    rules.check_against(companies.schema, companies.path)
    clash = sorted(RESERVED & set(companies.schema))
    if clash:
        raise DataError(
            f"companies file {companies.path} has column(s) {', '.join(clash)}, which the "
            "lists write themselves; rename them in the data or the source mapping"
        )
    tables = {k: v for k, v in (("hiring", jobs), ("funding", funding)) if v is not None}
    tables.update(events or {})
    problems = []
    for criterion in rules.event_reads():
        source = tables.get(criterion.table)
        if source is None:
            problems.append(_missing_table(criterion, sorted(tables)))
            continue
        problems += _event_problems(criterion, source)
    if problems:
        raise RulesError(rules.path, list(dict.fromkeys(problems)))


def missing_event_tables(rules: Rules, given: Collection[str]) -> list[str]:
    """For each criterion or test of ``rules`` whose event table is not in ``given``, what
    to pass: the same words ``check_inputs`` reports."""
    names = sorted(given)
    return list(
        dict.fromkeys(_missing_table(c, names) for c in rules.event_reads() if c.table not in given)
    )


def _missing_table(criterion: SignalCriterion | GrowthCriterion, given: list[str]) -> str:
    key = "growth" if isinstance(criterion, GrowthCriterion) else "signal"
    at = f"{criterion.path}.{key}: `{criterion.table}`"
    if criterion.table == "hiring":
        return f"{at} needs the jobs table; pass --jobs"
    if criterion.table == "funding":
        return f"{at} needs the funding table; pass --funding"
    return (
        f"{at} needs an event table of that name; pass --events {criterion.table}=PATH or "
        f"name it under [inputs.events] in the project file "
        f"(event tables given: {', '.join(given) or 'none'})"
    )


def _event_problems(criterion: SignalCriterion | GrowthCriterion, source: Source) -> list[str]:
    """What in one criterion the event table cannot answer: missing or mistyped columns."""
    schema = source.schema
    where = f"in {criterion.table} ({source.path}); it has: {', '.join(schema)}"
    date_col = EVENT_DATE[criterion.table]
    if date_col not in schema:
        return [f"{criterion.path}: event table `{criterion.table}` has no `{date_col}` {where}"]
    if isinstance(criterion, GrowthCriterion):
        column = criterion.column
        if column not in schema:
            return [f"{criterion.path}.column: no column `{column}` {where}"]
        if column_kind(schema[column]) != "number":
            return [
                f"{criterion.path}.column: growth needs a numeric column; `{column}` "
                f"in {source.path} holds {schema[column]}"
            ]
        return []
    problems = []
    conditions: list[Condition] = list(criterion.conditions())
    for cond in conditions:
        if cond.column not in schema:
            problems.append(f"{cond.path}: no column `{cond.column}` {where}")
        elif problem := cond.check_dtype(schema[cond.column]):
            problems.append(f"{problem} (in {source.path})")
    scalar = ("string", "number", "date", "bool")
    tests = [("min_distinct", c, scalar) for c, _ in criterion.min_distinct]
    tests += [("min_total", c, ("number",)) for c, _ in criterion.min_total]
    if criterion.legacy and criterion.table == "funding":
        tests.append(("signal", "round_type", ("string",)))
    for key, column, kinds in tests:
        at = f"{criterion.path}.{key}" + (f".{column}" if key != "signal" else "")
        if column not in schema:
            problems.append(f"{at}: no column `{column}` {where}")
        elif column_kind(schema[column]) not in kinds:
            problems.append(
                f"{at}: `{key}` needs a {' or '.join(kinds)} column; `{column}` in "
                f"{source.path} holds {schema[column]}"
            )
    return problems
