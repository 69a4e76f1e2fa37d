"""Evidence from closed deals: opportunities matched to companies, signals as of each deal.

``profile`` and ``backtest`` learn from the same table, built here: one row per closed
opportunity whose CRM account matches a company, carrying that company's attributes and
the deal's ``created_date``. Signals are then evaluated as of that date for every deal at
once (``signals.attach_signals_at``: one join of the events to the deals of their company,
not a loop over deals), so nothing that happened after a deal was opened can explain it.

Opportunities that cannot be used are counted by reason, never dropped silently: open
deals, deals without an outcome or a created date, close dates before created dates,
repeated ids, accounts missing from the CRM and accounts that match no company. When
nothing usable is left the error says why, with the counts.

The company data is a snapshot: firmographics and technologies are today's values, since
no history of them exists. Only the signals are point in time.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from listbuilder.errors import DataError
from listbuilder.files import sha256_of
from listbuilder.inputs import Source
from listbuilder.match import match_crm
from listbuilder.rules import EVENT_DATE, Rules, reaches, score_companies

MIN_DEALS = 30
"""Below this many deals (or accounts) a group's rate is flagged as too few to trust."""

Z95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95% interval."""

DEAL_COLUMNS = (
    "opportunity_id",
    "account_id",
    "company_id",
    "created_date",
    "close_date",
    "is_won",
    "amount",
    "match_method",
    "match_score",
)
# Why an opportunity is not used, in the order they are tested: each counts once.
PROBLEMS: dict[str, str] = {
    "duplicate_id": "repeated opportunity_id",
    "no_outcome": "no is_closed or is_won value",
    "open": "still open",
    "no_created_date": "no created_date",
    "close_before_create": "close_date before created_date",
    "unknown_account": "account_id not in the CRM",
    "unmatched_account": "CRM account matches no company",
}


@dataclass(frozen=True)
class DealQuality:
    """How many opportunities were read, used and set aside, and why."""

    source: str
    read: int
    problems: Mapping[str, int]
    won: int
    lost: int
    no_close_date: int = 0
    several_companies: int = 0
    first_created: str | None = None
    last_created: str | None = None

    @property
    def used(self) -> int:
        """Closed deals with an outcome, a created date and a matched company."""
        return self.won + self.lost

    def lines(self) -> list[str]:
        """The counts in words, one line each, only those that are not zero."""
        out = [f"{self.read:,} opportunities read from {self.source}"]
        out += [f"set aside {n:,}: {PROBLEMS[key]}" for key, n in self.problems.items() if n]
        if self.no_close_date:
            out.append(
                f"kept {self.no_close_date:,} closed deals without a close_date "
                "(only the created date is used)"
            )
        if self.several_companies:
            out.append(
                f"{self.several_companies:,} CRM accounts match several companies; "
                "each uses its best match"
            )
        period = ""
        if self.first_created:
            period = f", created {self.first_created} to {self.last_created}"
        rate = self.won / self.used if self.used else 0.0
        out.append(
            f"used {self.used:,} closed deals: {self.won:,} won, {self.lost:,} lost "
            f"(win rate {rate:.1%}){period}"
        )
        return out

    def as_dict(self) -> dict[str, Any]:
        """The counts for a JSON report."""
        return {
            "source": self.source,
            "read": self.read,
            "set_aside": dict(self.problems),
            "no_close_date": self.no_close_date,
            "accounts_matching_several_companies": self.several_companies,
            "used": self.used,
            "won": self.won,
            "lost": self.lost,
            "first_created": self.first_created,
            "last_created": self.last_created,
        }


@dataclass(frozen=True)
class Evidence:
    """Usable closed deals with their companies, the CRM accounts behind them, and counts.

    Attributes:
        deals: One row per deal: ``DEAL_COLUMNS`` then every company column.
        accounts: One row per matched CRM account that has a usable deal:
            ``account_id``, ``company_id``, ``status`` (null if the CRM has none).
        quality: What was read and set aside.
        events: Event tables by signal name, cut down to the deals' companies.
        population: Every company, lazily (for sizing a proposed list); None if unknown.
        population_events: The whole event tables by signal name, lazily.
    """

    deals: pl.DataFrame
    accounts: pl.DataFrame
    quality: DealQuality
    events: dict[str, pl.LazyFrame] = field(default_factory=dict)
    population: pl.LazyFrame | None = None
    population_events: dict[str, pl.LazyFrame] = field(default_factory=dict)


def _classify(opps: pl.DataFrame, crm_ids: pl.Series) -> pl.DataFrame:
    """Add ``_problem``: the first reason an opportunity cannot be used, null if none."""
    checks = [
        ("duplicate_id", pl.col("opportunity_id").is_first_distinct().not_()),
        ("no_outcome", pl.col("is_closed").is_null()),
        ("open", pl.col("is_closed").not_()),
        ("no_outcome", pl.col("is_won").is_null()),
        ("no_created_date", pl.col("created_date").is_null()),
        ("close_before_create", (pl.col("close_date") < pl.col("created_date")).fill_null(False)),
        (
            "unknown_account",
            pl.col("account_id").is_null() | ~pl.col("account_id").is_in(crm_ids.implode()),
        ),
    ]
    problem = pl.lit(None, dtype=pl.String)
    for name, test in reversed(checks):
        problem = pl.when(test).then(pl.lit(name)).otherwise(problem)
    return opps.with_columns(_problem=problem)


def _best_company(pairs: pl.DataFrame) -> pl.DataFrame:
    """One company per account: highest score, a domain match first, then lowest id."""
    return (
        pairs.with_columns(_by_domain=pl.col("method") == "domain")
        .sort(
            ["account_id", "score", "_by_domain", "company_id"],
            descending=[False, True, True, False],
        )
        .unique("account_id", keep="first", maintain_order=True)
        .select(
            "account_id",
            "company_id",
            match_method=pl.col("method"),
            match_score=pl.col("score"),
        )
    )


def prepare_deals(
    opportunities: pl.DataFrame,
    crm: pl.DataFrame,
    companies: pl.LazyFrame,
    *,
    source: str = "opportunities",
    pairs: pl.DataFrame | None = None,
) -> Evidence:
    """Match closed deals to companies through the CRM and count what cannot be used.

    Args:
        opportunities: Canonical opportunities (``opportunity_id``, ``account_id``,
            ``created_date``, ``close_date``, ``is_closed``, ``is_won``, ``amount``).
        crm: CRM accounts (``account_id``, ``name``, ``domain``, optionally ``status``).
        companies: Companies in the canonical schema.
        source: The opportunities' path, for messages.
        pairs: Matches already made (``company_id``, ``account_id``, ``method``,
            ``score``), e.g. a stored ``listbuilder match`` run; None matches here.

    Raises:
        DataError: No closed deal at all, none left once the unusable ones are set
            aside, or only won or only lost deals (no rate can be compared then).
    """
    opps = _closed_opportunities(opportunities, source)
    read = opps.height
    opps = _classify(opps, crm.get_column("account_id"))
    pairs = _account_pairs(opps, crm, companies, pairs)
    several = (
        pairs.group_by("account_id")
        .agg(pl.col("company_id").n_unique().alias("n"))
        .filter(pl.col("n") > 1)
        .height
    )
    best = _best_company(pairs)
    opps = opps.join(best, on="account_id", how="left", maintain_order="left").with_columns(
        _problem=pl.when(pl.col("_problem").is_null() & pl.col("company_id").is_null())
        .then(pl.lit("unmatched_account"))
        .otherwise(pl.col("_problem"))
    )
    counts = dict(opps.get_column("_problem").drop_nulls().value_counts().iter_rows())
    problems = {key: int(counts.get(key, 0)) for key in PROBLEMS}
    deals = _usable_deals(opps, companies)
    won = int(deals.get_column("is_won").sum())
    quality = DealQuality(
        source=source,
        read=read,
        problems=problems,
        won=won,
        lost=deals.height - won,
        no_close_date=int(deals.get_column("close_date").null_count()),
        several_companies=several,
        first_created=_iso(deals.get_column("created_date").min()),
        last_created=_iso(deals.get_column("created_date").max()),
    )
    _check_usable(quality)
    return Evidence(deals, _deal_accounts(deals, crm), quality)


def _closed_opportunities(opportunities: pl.DataFrame, source: str) -> pl.DataFrame:
    """The opportunities with the optional columns added, once there is a closed deal."""
    if "created_date" not in opportunities.columns:
        raise DataError(
            f"opportunities file {source} has no created_date column; signals are "
            "evaluated as of each deal's created date, so it is required here"
        )
    opps = opportunities.with_columns(
        *(pl.lit(None, dtype).alias(c) for c, dtype in _OPTIONAL.items() if c not in opportunities)
    )
    read = opps.height
    if read == 0:
        raise DataError(f"opportunities file {source} holds no opportunities")
    closed_n = opps.get_column("is_closed").fill_null(False).sum()
    if closed_n == 0:
        raise DataError(
            f"opportunities file {source} has no closed deals ({read:,} opportunities, "
            "none with is_closed true); profile and backtest learn from won and lost deals"
        )
    return opps


def _account_pairs(
    opps: pl.DataFrame,
    crm: pl.DataFrame,
    companies: pl.LazyFrame,
    pairs: pl.DataFrame | None,
) -> pl.DataFrame:
    """Company-account matches for the accounts of the usable opportunities."""
    candidates = opps.filter(pl.col("_problem").is_null())
    wanted = candidates.select("account_id").unique()
    crm_keys = [c for c in ("account_id", "name", "domain", "country") if c in crm.columns]
    crm_part = crm.join(wanted, on="account_id", how="semi").select(crm_keys)
    if pairs is None:
        company_keys = [
            c
            for c in ("company_id", "name", "domain", "country")
            if c in companies.collect_schema()
        ]
        return match_crm(companies.select(company_keys).collect(), crm_part)
    return pairs.join(wanted, on="account_id", how="semi")


def _usable_deals(opps: pl.DataFrame, companies: pl.LazyFrame) -> pl.DataFrame:
    """The opportunities without a problem, with their company's attributes."""
    used = opps.filter(pl.col("_problem").is_null()).select(DEAL_COLUMNS)
    ids = used.select("company_id").unique()
    attributes = companies.join(ids.lazy(), on="company_id", how="semi").collect()
    return used.join(
        attributes.unique("company_id", keep="first", maintain_order=True),
        on="company_id",
        how="inner",
        maintain_order="left",
        suffix="_company",
    ).sort("created_date", "opportunity_id")


def _deal_accounts(deals: pl.DataFrame, crm: pl.DataFrame) -> pl.DataFrame:
    """One row per account with a usable deal: its company and lower-cased CRM status."""
    status = (
        crm.select("account_id", status=pl.col("status").cast(pl.String).str.to_lowercase())
        if "status" in crm.columns
        else crm.select("account_id", status=pl.lit(None, pl.String))
    )
    return (
        deals.select("account_id", "company_id")
        .unique("account_id", keep="first", maintain_order=True)
        .join(status.unique("account_id"), on="account_id", how="left", maintain_order="left")
        .sort("account_id")
    )


_OPTIONAL: dict[str, pl.DataType] = {
    "close_date": pl.Date(),
    "amount": pl.Float64(),
}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _check_usable(quality: DealQuality) -> None:
    """Raise when no rate can be computed from what is left, saying why."""
    if quality.used == 0:
        reasons = "; ".join(f"{PROBLEMS[k]}: {n:,}" for k, n in quality.problems.items() if n)
        raise DataError(
            f"no usable closed deals in {quality.source}: of {quality.read:,} opportunities, "
            f"all were set aside ({reasons})"
        )
    if quality.won == 0 or quality.lost == 0:
        kind = "lost" if quality.won == 0 else "won"
        raise DataError(
            f"all {quality.used:,} usable closed deals in {quality.source} were {kind}; "
            "comparing win rates needs both won and lost deals"
        )


def gather_evidence(
    companies: Source,
    crm: Source,
    opportunities: Source,
    jobs: Source | None = None,
    funding: Source | None = None,
    *,
    widest_days: int = 365,
    matches: str | Path | None = None,
    events: Mapping[str, Source] | None = None,
    whole_history: frozenset[str] = frozenset(),
) -> Evidence:
    """Read the inputs and build the deals table, with events cut down to what it needs.

    Events are kept only for the deals' companies and for dates from ``widest_days``
    before the first deal to the last one, then held in memory: the evaluation joins them
    to the deals once per rules file or signal, and a ten-million-row postings table is
    scanned once. ``matches`` is a stored ``listbuilder match`` run directory whose
    matches are used instead of matching again (see ``read_stored_matches``). ``events``
    are further event tables by name (``exec_hires``, ``intent``, ``headcount``...), which
    ``Evidence.events`` then holds beside ``hiring`` and ``funding``. Tables in
    ``whole_history`` (growth measurements, whose "then" may lie before any window) keep
    every row up to the last deal.
    """
    pairs = read_stored_matches(matches, companies, crm) if matches is not None else None
    try:
        evidence = prepare_deals(
            opportunities.frame.collect(),
            crm.frame.collect(),
            companies.frame,
            source=opportunities.path,
            pairs=pairs,
        )
        sources: dict[str, Source | None] = {"hiring": jobs, "funding": funding, **(events or {})}
        cut = _cut_events(sources, evidence.deals, widest_days, whole_history)
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError, OSError) as exc:
        raise DataError(f"could not process the input data: {_one_line(exc)}") from None
    return Evidence(
        evidence.deals,
        evidence.accounts,
        evidence.quality,
        cut,
        population=companies.frame,
        population_events={k: s.frame for k, s in sources.items() if s is not None},
    )


MATCH_COLUMNS = {"company_id": pl.String, "account_id": pl.String, "method": pl.String}


def read_stored_matches(run_dir: str | Path, companies: Source, crm: Source) -> pl.DataFrame:
    """The pairs of a stored ``listbuilder match`` run, checked against the inputs.

    The run's ``summary.json`` records the sha256 of the companies and CRM files it
    matched; they must be the files given now, or the stored matches would pair ids that
    mean something else. Returns ``company_id``, ``account_id``, ``method``, ``score``.

    Raises:
        DataError: ``run_dir`` is not a match run, its ``matches.csv`` lacks a column or
            cannot be read, or it was made from other companies or CRM files.
    """
    run = Path(run_dir)
    summary_path, matches_path = run / "summary.json", run / "matches.csv"
    if not (summary_path.is_file() and matches_path.is_file()):
        raise DataError(
            f"--matches {run}: not a match run directory (it needs matches.csv and "
            "summary.json, as `listbuilder match --out DIR` writes them)"
        )
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        inputs = summary["inputs"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        raise DataError(f"{summary_path}: not the summary of a match run") from None
    for role, source in (("companies", companies), ("crm", crm)):
        stored = (inputs.get(role) or {}).get("sha256")
        if stored != sha256_of(list(source.files)):
            raise DataError(
                f"--matches {run} was made from {role} file "
                f"{(inputs.get(role) or {}).get('path')}, not from {source.path} as given "
                "now (their sha256 differ); run `listbuilder match` again on these inputs"
            )
    try:
        frame = pl.read_csv(matches_path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read {matches_path}: {_one_line(exc)}") from None
    missing = [c for c in (*MATCH_COLUMNS, "score") if c not in frame.columns]
    if missing:
        raise DataError(f"{matches_path} lacks column(s) {', '.join(missing)}")
    try:
        score = pl.col("score").cast(pl.Float64)
        return frame.select(*MATCH_COLUMNS, score=score)
    except pl.exceptions.InvalidOperationError:
        raise DataError(f"{matches_path}: a `score` is not a number") from None


def score_deals(rules: Rules, evidence: Evidence) -> pl.DataFrame:
    """Score every deal's company with ``rules``, signals as of the deal's created date.

    Returns ``opportunity_id``, ``is_won``, ``amount``, per segment ``i`` the columns
    ``_elig{i}``, ``_score{i}`` and ``_qual{i}``, then ``_seg`` (the first segment the
    deal's company qualifies for) and ``_tier`` (the index of the tier its score reaches
    in that segment; null when it would not have been listed). Tier and list caps are
    not applied: they depend on everyone else on a list at that date, not on the deal.
    """
    # Unused for signals (each deal has its own date); score_companies wants a date.
    last = evidence.deals.get_column("created_date").max()
    assert isinstance(last, dt.date)
    lf = score_companies(
        rules, evidence.deals.lazy(), evidence.events, last, signals_as_of="created_date"
    )
    segs = rules.segments
    per_segment = [c for i in range(len(segs)) for c in (f"_elig{i}", f"_score{i}", f"_qual{i}")]
    tier = pl.lit(None, dtype=pl.Int32)
    for i, seg in reversed(list(enumerate(segs))):
        reached = pl.lit(None, dtype=pl.Int32)
        for ix in reversed(range(len(seg.tiers))):
            reached = pl.when(reaches(seg, i, ix)).then(pl.lit(ix, pl.Int32)).otherwise(reached)
        tier = pl.when(pl.col("_seg") == i).then(reached).otherwise(tier)
    return (
        lf.with_columns(_tier=tier)
        .select("opportunity_id", "is_won", "amount", *per_segment, "_seg", "_tier")
        .collect()
    )


def _cut_events(
    sources: Mapping[str, Source | None],
    deals: pl.DataFrame,
    widest_days: int,
    whole_history: frozenset[str] = frozenset(),
) -> dict[str, pl.LazyFrame]:
    ids = deals.select("company_id").unique().lazy()
    first = deals.get_column("created_date").min()
    last = deals.get_column("created_date").max()
    out = {}
    for signal, source in sources.items():
        if source is None:
            continue
        date_col = EVENT_DATE[signal]
        lower = pl.lit(first) - pl.duration(days=widest_days)
        if signal in whole_history:
            lower = pl.lit(None, pl.Date)
        cut = source.frame.join(ids, on="company_id", how="semi").filter(
            (pl.col(date_col) >= lower).fill_null(True) & (pl.col(date_col) <= pl.lit(last))
        )
        out[signal] = cut.collect().lazy()
    return out


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500]


# --------------------------------------------------------------------------------------
# Rates
# --------------------------------------------------------------------------------------


def wilson_bounds(won: pl.Expr, n: pl.Expr, z: float = Z95) -> tuple[pl.Expr, pl.Expr]:
    """The Wilson score interval of a proportion ``won / n``, as (low, high) expressions.

    Unlike the normal approximation it stays inside [0, 1] and is sensible for small
    groups and rates near 0 or 1, which is exactly where win rates of niche attributes sit.
    """
    n = n.cast(pl.Float64)
    p = won.cast(pl.Float64) / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom
    return (centre - half).clip(0.0, 1.0), (centre + half).clip(0.0, 1.0)


def wilson_interval(won: int, n: int, z: float = Z95) -> tuple[float, float]:
    """``wilson_bounds`` for plain numbers (for reports and tests)."""
    if n == 0:
        return (math.nan, math.nan)
    p = won / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate_columns(
    won: str, n: str, overall: float, min_n: int, *, prefix: str = "win"
) -> list[pl.Expr]:
    """Rate, Wilson interval, lift over ``overall`` (with its interval), z and too-few flag.

    The lift interval is the rate's interval divided by the overall rate, which is
    treated as known: it is computed from every deal, far more than any one group. ``z``
    is the group's distance from the overall rate in standard errors,
    ``(rate - overall) / sqrt(overall * (1 - overall) / n)``: how much evidence there
    is, where the lift says how big the difference is.
    """
    low, high = wilson_bounds(pl.col(won), pl.col(n))
    rate = pl.col(won).cast(pl.Float64) / pl.col(n)
    spread = overall * (1.0 - overall)
    return [
        rate.alias(f"{prefix}_rate"),
        low.alias("ci_low"),
        high.alias("ci_high"),
        (rate / overall).alias("lift"),
        (low / overall).alias("lift_low"),
        (high / overall).alias("lift_high"),
        ((rate - overall) / (spread / pl.col(n).cast(pl.Float64)).sqrt()).alias("z"),
        (pl.col(n) < min_n).alias("too_few"),
    ]


def money(value: float | None) -> str:
    """``$21,300`` style, or ``-`` when there is nothing to show."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"${value:,.0f}"


def percent(value: float | None) -> str:
    """``36.9%`` style, or ``-``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.1%}"
