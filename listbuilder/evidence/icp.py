"""The proposed ICP: segments, each with its filters and fitted scorecard, tiers set on the
held-out deals, and the holdout figures that say how well it ranks new deals.

``propose_icp`` trains on the older deals and validates on the newest (``inference.
temporal_split``). Segments come from ``segments.find_segments`` (one unless the deals
show groups whose wins have clearly different drivers).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from listbuilder.errors import DataError
from listbuilder.evidence.backtest import Auc, bootstrap_auc
from listbuilder.evidence.deals import Evidence, percent, score_deals
from listbuilder.evidence.inference import POINTS_PER_LOG_ODDS, Split, account_index
from listbuilder.evidence.proposal import (
    Filter,
    Line,
    Term,
    adjusted_lifts,
    calibration,
    choose_filters,
    filter_candidates,
    filter_lines,
    render,
    scale_note,
    set_tiers,
    term_lines,
    terms_of,
    tier_lines,
    tier_table,
    wrap,
)
from listbuilder.evidence.scorecard import Fit, design, fit_scorecard, predict_log_odds
from listbuilder.rules import EventCriterion, Rules, parse_rules, score_companies

MIN_CLOSED_DEALS = 50
"""Below this many closed deals ``profile`` proposes nothing: any pattern would be noise."""

PLACEHOLDER = -(10**9)

TableFn = Callable[[np.ndarray], pl.DataFrame]
"""The per-value table of a subset of deals (a boolean mask over every deal)."""


@dataclass(frozen=True)
class Scope:
    """Which deals and companies a segment covers: includes and excludes, as rules lines."""

    name: str
    description: str
    include: tuple[Filter, ...] = ()
    exclude: tuple[Filter, ...] = ()

    def expr(self) -> pl.Expr:
        """True for rows inside the scope."""
        out = pl.lit(True)
        for f in self.include:
            out = out & f.condition().expr()
        for f in self.exclude:
            out = out & ~f.condition().expr()
        return out


@dataclass(frozen=True)
class SegmentPlan:
    """One proposed segment: its scope, filters, scorecard and tiers."""

    scope: Scope
    filters: tuple[Filter, ...]
    terms: tuple[Term, ...]
    fit: Fit
    train_deals: int
    train_won: int
    tiers: tuple[tuple[str, int, str], ...]
    checked: pl.DataFrame = dataclasses.field(default_factory=pl.DataFrame)
    """Filter candidates with their adjusted lifts (``adjusted``, ``adjusted_low``,
    ``adjusted_high``), whether or not they became filters."""


@dataclass(frozen=True)
class Validation:
    """How the proposed rules did on the held-out deals.

    Attributes:
        split: The temporal split; ``in_sample`` when nothing was held out.
        base_rate: The held-out deals' win rate.
        auc: How well the rules rank held-out winners above losers (excluded deals
            rank last), with a bootstrap interval.
        tiers: Per segment and tier: held-out deals, wins, win rate, interval, lift and
            the companies scoring as much.
        calibration: Per segment and score band: predicted and observed win rate.
        list_sizes: Companies each segment would list (all tiers, before CRM
            suppression and caps); empty without company data.
    """

    split: Split
    base_rate: float
    auc: Auc
    tiers: pl.DataFrame
    calibration: pl.DataFrame
    list_sizes: dict[str, int]
    as_of: dt.date | None

    @property
    def in_sample(self) -> bool:
        """True when no deal was held out (every figure is then on the training deals)."""
        return self.split.holdout == 0


@dataclass(frozen=True)
class Proposal:
    """The proposed rules file and everything behind it."""

    segments: tuple[SegmentPlan, ...]
    segment_note: str
    text: str
    rules: Rules
    validation: Validation


def refuse_if_too_few(evidence: Evidence, mask: np.ndarray, split: Split) -> None:
    """Raise, with the reason, when there are too few deals to propose anything.

    Raises:
        DataError: Fewer than ``MIN_CLOSED_DEALS`` closed deals, or a training or held-out
            part without both a win and a loss.
    """
    q = evidence.quality
    if q.used < MIN_CLOSED_DEALS:
        raise DataError(
            f"only {q.used:,} usable closed deals in {q.source} ({q.won:,} won, {q.lost:,} "
            f"lost); profile needs at least {MIN_CLOSED_DEALS} before it proposes rules, "
            "because with fewer any pattern it finds is as likely chance as real"
        )
    won = evidence.deals.get_column("is_won").to_numpy()
    for name, part in (("training", won[~mask]), ("held-out", won[mask])):
        if split.holdout == 0 and name == "held-out":
            continue
        if part.size == 0:
            raise DataError(
                f"no {name} deals: every deal was created on or after {split.cutoff}, so "
                "the newest cannot be held out by date; use --holdout 0"
            )
        if part.all() or not part.any():
            raise DataError(
                f"the {name} deals ({part.size:,}, split at {split.cutoff}) are all "
                f"{'won' if part.all() else 'lost'}; a win rate needs both "
                "won and lost deals: use a different --holdout"
            )


def plan_segment(
    scope: Scope,
    units: pl.DataFrame,
    long: pl.DataFrame,
    train: np.ndarray,
    table_of: TableFn,
    min_deals: int,
    *,
    replicates: int,
    seed: int,
    c: float | None = None,
) -> SegmentPlan:
    """Filters and scorecard of one segment, from its training deals.

    ``units`` holds every deal (``_row`` 0 .. n - 1), ``train`` marks the training ones.
    Filter candidates (``proposal.filter_candidates``: significant and extreme one at a
    time) are confirmed against a scorecard fitted without them: a value is excluded
    only if its deals also win far less than that scorecard expects from everything else
    about them. A value that looks bad only because it travels with small companies (say)
    is thereby left to the points of what it travels with. ``c``: the inverse penalty,
    when already chosen on these deals; else chosen once here and used for both fits.
    """
    inside = units.select(scope.expr().fill_null(False)).to_series().to_numpy()
    rows = train & inside
    table = table_of(rows)
    candidates = filter_candidates(table, min_deals)
    adjusted = None
    if candidates.height:
        skip = candidates.select("attribute", "value")
        first = _fit_rows(units, long, rows, min_deals, skip, replicates=0, seed=seed, c=c)
        c = first.fit.c
        adjusted = adjusted_lifts(candidates, units, long, rows, first.logit, seed)
    # The segment's own bounds already hold one key per attribute they test.
    bounded = {f.attribute for f in (*scope.include, *scope.exclude)}
    filters = [f for f in choose_filters(candidates, adjusted) if f.attribute not in bounded]
    keep = rows.copy()
    if filters:
        out = pl.lit(False)
        for f in filters:
            out = out | f.condition().expr()
        keep &= ~units.select(out.fill_null(False)).to_series().to_numpy()
    y = units.get_column("is_won").to_numpy()[keep]
    if len(np.unique(y)) < 2:
        raise DataError(
            f"segment {scope.name}: its {len(y):,} training deals are all "
            f"{'won' if y.all() else 'lost'}; nothing to fit a scorecard on"
        )
    final = _fit_rows(units, long, keep, min_deals, None, replicates=replicates, seed=seed, c=c)
    return SegmentPlan(
        scope,
        tuple(filters),
        tuple(terms_of(final.fit, final.counts)),
        final.fit,
        int(keep.sum()),
        int(y.sum()),
        (("Tier 1", PLACEHOLDER, ""),),
        adjusted if adjusted is not None else pl.DataFrame(),
    )


@dataclass(frozen=True)
class _Fitted:
    fit: Fit
    counts: pl.DataFrame
    logit: np.ndarray  # fitted log-odds of every deal (NaN outside the rows fitted)


def _fit_rows(
    units: pl.DataFrame,
    long: pl.DataFrame,
    keep: np.ndarray,
    min_deals: int,
    skip: pl.DataFrame | None,
    *,
    replicates: int,
    seed: int,
    c: float | None = None,
) -> _Fitted:
    """Fit the scorecard on the deals in ``keep`` over values with at least ``min_deals``
    of them, some won and some lost (less ``skip``)."""
    kept = units.filter(pl.Series(keep))
    positions = np.flatnonzero(keep)
    renumber = pl.DataFrame({"_row": positions, "_new": np.arange(len(positions))})
    kept_long = long.join(renumber, on="_row").with_columns(_row=pl.col("_new"))
    counts = kept_long.group_by("attribute", "value").agg(
        n=pl.len(), won=pl.col("_won").sum().cast(pl.Int64)
    )
    wanted = counts.filter(
        (pl.col("n") >= min_deals)
        & (pl.col("won") > 0)
        & (pl.col("n") - pl.col("won") > 0)
        & (pl.col("n") < kept.height)
    )
    if skip is not None and skip.height:
        wanted = wanted.join(skip, on=["attribute", "value"], how="anti")
    keys = wanted.sort("attribute", "value").select("attribute", "value")
    x = design(kept_long, len(positions), keys)
    y = kept.get_column("is_won").cast(pl.Int8).to_numpy()
    fit = fit_scorecard(
        x,
        y,
        account_index(kept.get_column("account_id")),
        keys,
        replicates=replicates,
        seed=seed,
        c=c,
    )
    logit = np.full(units.height, np.nan)
    logit[positions] = predict_log_odds(fit, x)
    return _Fitted(fit, counts, logit)


def render_rules(
    plans: Sequence[SegmentPlan],
    header: Sequence[str],
    probes: dict[str, EventCriterion],
    note: str,
) -> str:
    """The whole rules file, segments in priority order."""
    lines: list[Line] = []
    for i, plan in enumerate(plans):
        scope = plan.scope
        if i:
            lines.append(Line(None))
        lines += [
            Line("[[segments]]", note if i == 0 else f"segment {i + 1}, in priority order"),
            Line(f"name = {_quote(scope.name)}", "proposed by listbuilder profile"),
            Line(f"description = {_quote(scope.description)}"),
        ]
        if scope.include:
            lines += [Line(None), Line("[segments.include]", "the segment: every one must hold")]
            lines += [Line(f.code(), "; ".join(f.reasons)) for f in scope.include]
        exclude = [*scope.exclude, *plan.filters]
        lines += filter_lines(exclude)
        for term in plan.terms:
            lines += term_lines(term, probes)
        lines += tier_lines(plan.tiers)
    return render(header, lines)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def header_lines(evidence: Evidence, split: Split, plans: Sequence[SegmentPlan]) -> list[str]:
    """The rules file's opening comment: where the rules came from and how to read them."""
    q = evidence.quality
    held = (
        f"Trained on the {split.train:,} deals created before {split.cutoff}; the "
        f"{split.holdout:,} created since ({split.share:.0%}) were held out to set the "
        "tiers and check the ranking (profile.md)."
        if split.holdout
        else "No deals were held out: the tiers and figures are on the training deals."
    )
    text = [
        "Proposed ICP rules, drawn by `listbuilder profile` from closed deals; review "
        f"before use. Evidence: {q.used:,} closed deals in {q.source}, created "
        f"{q.first_created} to {q.last_created}. {held}",
        "",
        "Excludes are made only on overwhelming evidence: a value significant after "
        "controlling the false discovery rate over every value tested, and extreme (no "
        "win in 30 or more deals, or a lift below 0.5 whose interval lies below 0.8). "
        "Every other difference is points from a penalised logistic regression "
        "(L1, penalty by cross-validation over accounts). " + scale_note(),
    ]
    out: list[str] = []
    for para in text:
        out += wrap(para) if para else [""]
    return out


def holdout_scores(
    rules: Rules, evidence: Evidence, held_deals: pl.DataFrame, plans: Sequence[SegmentPlan]
) -> pl.DataFrame:
    """Score the held-out deals with ``rules``: per deal its segment (the first whose
    scope admits it, null if none), score, predicted log-odds and outcome."""
    scored = score_deals(rules, dataclasses.replace(evidence, deals=held_deals))
    seg = pl.lit(None, pl.Int64)
    score = pl.lit(None, pl.Int64)
    logit = pl.lit(None, pl.Float64)
    for i in reversed(range(len(plans))):
        elig = pl.col(f"_elig{i}")
        seg = pl.when(elig).then(pl.lit(i, pl.Int64)).otherwise(seg)
        score = pl.when(elig).then(pl.col(f"_score{i}").cast(pl.Int64)).otherwise(score)
        fitted = plans[i].fit.intercept + pl.col(f"_score{i}") / POINTS_PER_LOG_ODDS
        logit = pl.when(elig).then(fitted).otherwise(logit)
    return scored.select(
        "is_won",
        segment=seg,
        score=score,
        logit=logit,
        _seg="_seg",
        _tier="_tier",
    )


def population_scores(rules: Rules, evidence: Evidence, as_of: dt.date) -> pl.DataFrame | None:
    """Companies per (segment, score): every company the segment's scope and filters admit,
    signals as of ``as_of``. None without company data."""
    if evidence.population is None:
        return None
    missing = [c.signal for c in rules.signals() if c.signal not in evidence.population_events]
    if missing:
        return None
    lf = score_companies(rules, evidence.population, evidence.population_events, as_of)
    seg = pl.lit(None, pl.Int64)
    score = pl.lit(None, pl.Int64)
    for i in reversed(range(len(rules.segments))):
        elig = pl.col(f"_elig{i}")
        seg = pl.when(elig).then(pl.lit(i, pl.Int64)).otherwise(seg)
        score = pl.when(elig).then(pl.col(f"_score{i}").cast(pl.Int64)).otherwise(score)
    return (
        lf.select(segment=seg, score=score)
        .drop_nulls("segment")
        .group_by("segment", "score")
        .agg(n=pl.len())
        .sort("segment", "score")
        .collect()
    )


def propose_icp(
    evidence: Evidence,
    units: pl.DataFrame,
    long: pl.DataFrame,
    probes: Sequence[EventCriterion],
    mask: np.ndarray,
    split: Split,
    table_of: TableFn,
    scopes: Sequence[Scope],
    segment_note: str,
    min_deals: int,
    *,
    replicates: int,
    seed: int,
    c: float | None = None,
) -> Proposal:
    """Plan each segment on the training deals, set tiers on the held-out ones, validate.

    ``units`` is every deal with ``_row`` (0 .. n - 1) and ``_won``; ``long`` its values;
    ``mask`` marks the held-out deals. With nothing held out, the tiers and figures are
    set on the training deals, and say so. ``c``: the inverse penalty already chosen on
    all training deals (used when there is one segment).
    """
    train = ~mask
    plans = [
        plan_segment(
            s,
            units,
            long,
            train,
            table_of,
            min_deals,
            replicates=replicates,
            seed=seed,
            c=c if len(scopes) == 1 and not (s.include or s.exclude) else None,
        )
        for s in scopes
    ]
    by_label = {p.label: p for p in probes}
    header = header_lines(evidence, split, plans)
    draft = render_rules(plans, header, by_label, segment_note)
    rules = parse_rules(tomllib.loads(draft), "proposed_rules.toml")
    check = mask if split.holdout else train
    held_deals = evidence.deals.filter(pl.Series(check))
    held = holdout_scores(rules, evidence, held_deals, plans)
    base = float(held.get_column("is_won").mean())  # type: ignore[arg-type]
    as_of = evidence.deals.get_column("created_date").max()
    assert isinstance(as_of, dt.date)
    population = population_scores(rules, evidence, as_of)
    final = []
    for i, plan in enumerate(plans):
        mine = held.filter(pl.col("segment") == i).select("score", "is_won")
        pop = population.filter(pl.col("segment") == i) if population is not None else None
        tiers = set_tiers(mine, pop, base, min_deals)
        final.append(dataclasses.replace(plan, tiers=tuple(tiers)))
    text = render_rules(final, header, by_label, segment_note)
    rules = parse_rules(tomllib.loads(text), "proposed_rules.toml")
    validation = validate(rules, evidence, held_deals, final, population, split, as_of)
    return Proposal(tuple(final), segment_note, text, rules, validation)


def validate(
    rules: Rules,
    evidence: Evidence,
    held_deals: pl.DataFrame,
    plans: Sequence[SegmentPlan],
    population: pl.DataFrame | None,
    split: Split,
    as_of: dt.date,
) -> Validation:
    """Holdout AUC, per-tier win rates and the calibration table of the final rules."""
    held = holdout_scores(rules, evidence, held_deals, plans)
    base = float(held.get_column("is_won").mean())  # type: ignore[arg-type]
    key = held.get_column("logit").fill_null(-math.inf)
    auc = bootstrap_auc(key.rank("dense"), held.get_column("is_won"))
    tables, calibrations, sizes = [], [], {}
    for i, plan in enumerate(plans):
        name = plan.scope.name
        mine = held.select(
            "is_won", score=pl.when(pl.col("segment") == i).then(pl.col("score"))
        ).filter(pl.col("score").is_not_null())
        tiers = [(t, m) for t, m, _ in plan.tiers]
        rows = tier_table(mine, tiers, base).filter(pl.col("tier") != "not listed")
        pop = population.filter(pl.col("segment") == i) if population is not None else None
        companies = [
            int(pop.filter(pl.col("score") >= m).get_column("n").sum()) if pop is not None else None
            for _, m in tiers
        ]
        if pop is not None:
            sizes[name] = companies[-1]
            # Companies per tier, not at-or-above: subtract the tier above.
            companies = [c - (companies[j - 1] if j else 0) for j, c in enumerate(companies)]
        tables.append(
            rows.with_columns(segment=pl.lit(name), companies=pl.Series(companies, dtype=pl.Int64))
        )
        cal = calibration(
            held.filter(pl.col("segment") == i).select(
                "score", "is_won", predicted=1 / (1 + (-pl.col("logit")).exp())
            )
        )
        if cal.height:
            calibrations.append(cal.with_columns(segment=pl.lit(name)))
    listed = pl.lit(False)
    for i, plan in enumerate(plans):
        listed = listed | (
            (pl.col("segment") == i) & (pl.col("score") >= plan.tiers[-1][1])
        ).fill_null(False)
    rest = held.filter(~listed).select("is_won", score=pl.lit(None, pl.Int64))
    off = tier_table(rest, [], base).with_columns(
        segment=pl.lit(""), companies=pl.lit(None, pl.Int64)
    )
    table = pl.concat([*tables, off], how="diagonal_relaxed").select(
        "segment",
        "tier",
        "min_score",
        "deals",
        "won",
        "win_rate",
        "ci_low",
        "ci_high",
        "lift",
        "companies",
    )
    cal_table = pl.concat(calibrations) if calibrations else pl.DataFrame()
    return Validation(split, base, auc, table, cal_table, sizes, as_of)


def describe_tiers(validation: Validation) -> list[str]:
    """The per-tier held-out figures, one line each."""
    out = []
    for r in validation.tiers.iter_rows(named=True):
        if not r["deals"]:
            continue
        where = f"{r['segment']} {r['tier']}".strip()
        companies = f", {r['companies']:,} companies" if r["companies"] is not None else ""
        out.append(
            f"{where}: {r['deals']:,} deals, win rate {percent(r['win_rate'])} "
            f"({percent(r['ci_low'])}-{percent(r['ci_high'])}), lift {r['lift']:.2f}{companies}"
        )
    return out
