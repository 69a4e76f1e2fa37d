"""Proposed rules from the evidence: filters only on overwhelming evidence, a fitted
scorecard for everything else, tiers set and checked on the newest deals.

The older deals train: they decide the filters (``choose_filters``) and fit the scorecard
(``scorecard.fit_scorecard``). The newest deals, which played no part in either, judge
the result: the rules file is parsed, every held-out deal is scored with it as of its
created date, and the tiers are set on those scores, sized against the whole company
data so the list is one a team can work.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from listbuilder.evidence.deals import percent, wilson_interval
from listbuilder.evidence.inference import (
    FDR,
    POINTS_PER_DOUBLING,
    POINTS_PER_LOG_ODDS,
    account_index,
    account_weights,
)
from listbuilder.evidence.scorecard import Fit
from listbuilder.evidence.values import (
    BANDS,
    MISSING,
    condition,
    condition_value,
    contiguous,
    probe_keys,
    toml_value,
)
from listbuilder.rules import Condition, EventCriterion, SignalCriterion

NO_WIN_DEALS = 30  # no win in this many deals is a filter
EXTREME_LIFT = 0.5  # ... and so is a lift below this ...
EXTREME_LIFT_HIGH = 0.8  # ... whose whole interval lies below this
FILTERABLE = ("industry", "employees", "revenue_usd", "country", "funding_stage", "technologies")
LIST_MIN, LIST_MAX = 2_000, 10_000
TOP_SHARE = 0.10  # Tier 1 holds at least this share of the held-out deals listed


@dataclass(frozen=True)
class Filter:
    """An exclude: values of one attribute that (nearly) never win, and why."""

    attribute: str
    values: tuple[str, ...]
    reasons: tuple[str, ...]

    def code(self) -> str:
        """The line under ``[segments.exclude]``."""
        return f"{self.attribute} = {toml_value(condition_value(self.attribute, self.values))}"

    def condition(self) -> Condition:
        """The parsed condition, to find the deals it removes."""
        return condition(self.attribute, self.values, f"proposed.exclude.{self.attribute}")


@dataclass(frozen=True)
class Term:
    """One scorecard line: a value, its fitted coefficient and the points it earns."""

    attribute: str
    value: str
    coef: float
    low: float
    high: float
    selected: float
    points: int
    deals: int
    won: int


def _marginal(r: dict[str, Any], min_deals: int) -> str | None:
    """Why a value is a filter candidate, or None: FDR-significant and extreme."""
    if r["q"] is None or r["q"] > FDR or r["attribute"] not in FILTERABLE:
        return None
    if r["won"] == 0 and r["deals"] >= NO_WIN_DEALS:
        return f"no win in {r['deals']:,} deals"
    low_enough = r["lift_high"] is not None and r["lift_high"] < EXTREME_LIFT_HIGH
    if r["deals"] >= min_deals and r["lift"] < EXTREME_LIFT and low_enough:
        return (
            f"lift {r['lift']:.2f} below {EXTREME_LIFT} with its whole interval below "
            f"{EXTREME_LIFT_HIGH}"
        )
    return None


def filter_candidates(table: pl.DataFrame, min_deals: int) -> pl.DataFrame:
    """The rows of a training table that may become excludes, with ``why``.

    A candidate's FDR-adjusted p-value (``q``) is at most ``FDR`` and it is extreme: no
    win in ``NO_WIN_DEALS`` deals or more, or a lift below ``EXTREME_LIFT`` whose
    account-bootstrap interval lies wholly below ``EXTREME_LIFT_HIGH``.
    """
    rows = [
        {**r, "why": why}
        for r in table.iter_rows(named=True)
        if (why := _marginal(r, min_deals)) is not None
    ]
    if not rows:
        return table.clear().with_columns(why=pl.lit(None, pl.String))
    return pl.DataFrame(rows, schema={**table.schema, "why": pl.String})


def adjusted_lifts(
    candidates: pl.DataFrame,
    units: pl.DataFrame,
    long: pl.DataFrame,
    rows: np.ndarray,
    logit: np.ndarray,
    seed: int,
    replicates: int = 500,
) -> pl.DataFrame:
    """Observed over expected wins of each candidate's deals, with an account interval.

    ``logit`` is a scorecard's fitted log-odds for every deal in ``rows``, fitted without
    the candidates: the expected wins are what the deals' other attributes predict. A
    ratio near 1 means the value's low win rate is explained by what it travels with.
    """
    won = units.get_column("is_won").cast(pl.Float64).to_numpy()
    expected = 1.0 / (1.0 + np.exp(-logit))
    out = []
    for r in candidates.iter_rows(named=True):
        have = (
            long.filter((pl.col("attribute") == r["attribute"]) & (pl.col("value") == r["value"]))
            .get_column("_row")
            .to_numpy()
        )
        have = have[rows[have]]
        index = account_index(units.get_column("account_id").gather(have))
        o = np.bincount(index.codes, weights=won[have], minlength=index.accounts)
        e = np.bincount(index.codes, weights=expected[have], minlength=index.accounts)
        ratio = o.sum() / e.sum()
        draws = np.concatenate(
            [(w @ o) / (w @ e) for w in account_weights(index, replicates, seed)]
        )
        low, high = np.quantile(draws, [0.025, 0.975])
        out.append(
            {
                "attribute": r["attribute"],
                "value": r["value"],
                "adjusted": float(ratio),
                "adjusted_low": float(low),
                "adjusted_high": float(high),
            }
        )
    return pl.DataFrame(out)


def choose_filters(candidates: pl.DataFrame, adjusted: pl.DataFrame | None) -> list[Filter]:
    """Excludes: candidates whose deals also win far less than the scorecard expects.

    A candidate with no win in ``NO_WIN_DEALS`` deals is excluded as it is. Any other
    needs its adjusted lift (observed over expected wins, ``adjusted_lifts``) below
    ``EXTREME_LIFT`` with its interval wholly below ``EXTREME_LIFT_HIGH``; anything less
    earns points instead, so one noisy value cannot take a whole group of companies off
    the list. One rules-file key per attribute: bands must be contiguous (the run
    holding the most extreme band is kept), and ``(missing)`` is kept only when no known
    value of its attribute is excluded.
    """
    if candidates.height == 0:
        return []
    if adjusted is not None and adjusted.height:
        candidates = candidates.join(adjusted, on=["attribute", "value"], how="left")
    out = []
    for attribute in FILTERABLE:
        rows = []
        for r in candidates.filter(pl.col("attribute") == attribute).iter_rows(named=True):
            no_win = r["won"] == 0 and r["deals"] >= NO_WIN_DEALS
            adj = r.get("adjusted")
            if no_win:
                rows.append((r, r["why"]))
            elif adj is not None and adj < EXTREME_LIFT and r["adjusted_high"] < EXTREME_LIFT_HIGH:
                rows.append(
                    (
                        r,
                        f"{r['why']}; and {adj:.2f} times the wins the scorecard expects "
                        f"from the rest of these companies "
                        f"({r['adjusted_low']:.2f}-{r['adjusted_high']:.2f})",
                    )
                )
        known = [(r, w) for r, w in rows if r["value"] != MISSING]
        rows = known or rows
        if not rows:
            continue
        if attribute in BANDS and rows[0][0]["value"] != MISSING:
            rows = _contiguous_run(attribute, rows)
        rows.sort(key=lambda rw: rw[0]["value"])
        reasons = tuple(f"{_figure(r)}: {why}" for r, why in rows)
        out.append(Filter(attribute, tuple(r["value"] for r, _ in rows), reasons))
    return out


def _contiguous_run(
    attribute: str, rows: list[tuple[dict[str, Any], str]]
) -> list[tuple[dict[str, Any], str]]:
    order = [label for _, _, label in BANDS[attribute]]
    rows = sorted(rows, key=lambda rw: order.index(rw[0]["value"]))
    worst = min(range(len(rows)), key=lambda i: rows[i][0]["lift"])
    lo = hi = worst
    while lo > 0 and contiguous(attribute, [r["value"] for r, _ in rows[lo - 1 : hi + 1]]):
        lo -= 1
    while hi < len(rows) - 1 and contiguous(attribute, [r["value"] for r, _ in rows[lo : hi + 2]]):
        hi += 1
    return rows[lo : hi + 1]


def _figure(r: dict[str, Any]) -> str:
    q = "q < 0.001" if r["q"] < 0.001 else f"q {r['q']:.3f}"
    return (
        f"{r['value']}: {r['deals']:,} deals, {r['won']:,} won, lift {r['lift']:.2f} "
        f"({_num(r['lift_low'])}-{_num(r['lift_high'])}), {q}"
    )


def _num(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def terms_of(fit: Fit, counts: pl.DataFrame) -> list[Term]:
    """The scorecard's lines: values whose points are not zero, strongest first."""
    points = np.sign(fit.coef) * np.floor(np.abs(fit.coef * POINTS_PER_LOG_ODDS) + 0.5)
    keyed = fit.keys.with_columns(
        coef=fit.coef, low=fit.low, high=fit.high, selected=fit.selected, points=points
    ).join(counts, on=["attribute", "value"], how="left", maintain_order="left")
    out = [
        Term(
            r["attribute"],
            r["value"],
            r["coef"],
            r["low"],
            r["high"],
            r["selected"],
            int(r["points"]),
            int(r["n"] or 0),
            int(r["won"] or 0),
        )
        for r in keyed.iter_rows(named=True)
        if r["points"] != 0
    ]
    return sorted(out, key=lambda t: (-abs(t.points), t.attribute, t.value))


# --------------------------------------------------------------------------------------
# The rules text
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A line of the rules file and its comment (a blank line when ``code`` is None)."""

    code: str | None
    comment: str = ""


def filter_lines(filters: Sequence[Filter]) -> list[Line]:
    """``[segments.exclude]`` and one commented line per filter; nothing if none."""
    if not filters:
        return []
    lines = [Line(None), Line("[segments.exclude]", "any condition disqualifies")]
    for f in filters:
        lines.append(Line(f.code(), "why: " + "; ".join(f.reasons)))
    return lines


def term_lines(term: Term, probes: dict[str, EventCriterion]) -> list[Line]:
    """One ``[[segments.score]]`` block: the value's test and its points, commented."""
    sign = "+" if term.coef > 0 else ""
    kept = f"kept in {term.selected:.0%} of refits"
    interval = f"95% CI {term.low:+.2f} to {term.high:+.2f}"
    lines = [
        Line(None),
        Line(
            "[[segments.score]]",
            f"coefficient {sign}{term.coef:.2f} log-odds ({interval}, {kept}); "
            f"training: {term.deals:,} deals, {term.won:,} won",
        ),
    ]
    if term.attribute == "signal":
        probe = probes[term.value]
        lines.append(Line(f"label = {toml_value(term.value)}", "as of each deal's created date"))
        lines += [Line(key) for key in probe_keys(probe)]
        if isinstance(probe, SignalCriterion):
            lines.append(Line("min_count = 1", "one event in the window, as tested"))
    else:
        cond = condition(term.attribute, [term.value], "proposed")
        value = condition_value(term.attribute, [term.value])
        lines.append(Line(f"label = {toml_value(cond.describe())}"))
        lines.append(Line(f"when = {toml_value({term.attribute: value})}"))
    lines.append(
        Line(
            f"points = {term.points}",
            f"{term.coef:+.2f} x {POINTS_PER_LOG_ODDS:.2f} points per unit of log-odds",
        )
    )
    return lines


def tier_lines(tiers: Sequence[tuple[str, int, str]]) -> list[Line]:
    """The ``[[segments.tiers]]`` blocks, highest first."""
    lines = []
    for name, min_score, why in tiers:
        lines += [
            Line(None),
            Line("[[segments.tiers]]", "set on the held-out deals and the company data"),
            Line(f'name = "{name}"'),
            Line(f"min_score = {min_score}", why),
        ]
    return lines


def render(header: Sequence[str], lines: Sequence[Line]) -> str:
    """The rules file: the header comment, then every line with its comment aligned."""
    coded = [line for line in lines if line.code is not None]
    width = min(max(len(line.code or "") for line in coded), 40) + 2
    body = []
    for line in lines:
        if line.code is None:
            body.append("")
        elif line.comment:
            body.append(f"{line.code.ljust(width - 2)}  # {line.comment}")
        else:
            body.append(line.code)
    return "\n".join([*(f"# {h}" if h else "#" for h in header), "", *body]) + "\n"


def wrap(text: str) -> list[str]:
    """A paragraph as comment lines of at most 86 characters."""
    return textwrap.wrap(text, 86, break_on_hyphens=False)


def scale_note() -> str:
    """What a point is, for the header."""
    return (
        f"Points are the scorecard's coefficients (log-odds of a win) times "
        f"{POINTS_PER_LOG_ODDS:.2f}: every {POINTS_PER_DOUBLING} points double the odds, "
        "so a stronger driver gets more points."
    )


# --------------------------------------------------------------------------------------
# Tiers from the held-out deals and the company data
# --------------------------------------------------------------------------------------


def set_tiers(
    held: pl.DataFrame, population: pl.DataFrame | None, base_rate: float, min_deals: int
) -> list[tuple[str, int, str]]:
    """Up to three thresholds on the segment's held-out scores, sized on the companies.

    Args:
        held: ``score``, ``is_won`` of the held-out deals the segment admits.
        population: ``score``, ``n``: companies the segment admits, per score; None
            without company data.
        base_rate: The win rate of every held-out deal.

    The lowest tier is the lowest score at which at most ``LIST_MAX`` companies score as
    much or more (without company data: at which at most half the held-out deals do),
    raised while the held-out deals at or above it win less than the base rate. Tier 1
    is the highest score reached by at least ``TOP_SHARE`` of the held-out deals the
    lowest tier admits, and by at least ``min_deals``; Tier 2 the score between them
    closest to halfway in deals.
    """
    if held.height == 0:
        return [("Tier 1", 0, "no held-out deal passes the filters: nothing to set it from")]
    scores = held.get_column("score")
    pop = population if population is not None else pl.DataFrame(schema={"score": pl.Int64})
    candidates = (
        pl.concat([scores.unique(), pop.get_column("score").unique()]).unique().sort().to_list()
    )
    hs, hw = scores.to_numpy(), held.get_column("is_won").to_numpy()
    ps = pop.get_column("score").to_numpy() if population is not None else np.array([])
    pn = pop.get_column("n").to_numpy() if population is not None else np.array([])
    rows = []
    for t in candidates:
        at = hs >= t
        rows.append(
            {
                "t": int(t),
                "n": int(at.sum()),
                "won": int(hw[at].sum()),
                "companies": int(pn[ps >= t].sum()) if population is not None else None,
            }
        )
    total = held.height
    usable = [r for r in rows if r["n"] > 0]
    if population is not None:
        fits = [r for r in usable if r["companies"] <= LIST_MAX]
    else:
        fits = [r for r in usable if r["n"] <= total / 2]
    fits = fits or usable[-1:]
    low = next(
        (r for r in fits if r["won"] / r["n"] >= base_rate and r["n"] >= min(min_deals, total)),
        fits[-1],
    )
    # Tier 1: a tenth of the deals the list admits, and enough to measure.
    floor = max(min_deals, TOP_SHARE * low["n"])
    top = [r for r in usable if r["t"] > low["t"] and r["n"] >= floor]
    picked = [top[-1]] if top else []
    if top:
        between = [r for r in usable if low["t"] < r["t"] < top[-1]["t"]]
        if between:
            half = (top[-1]["n"] + low["n"]) / 2
            picked.append(min(between, key=lambda r: (abs(r["n"] - half), -r["t"])))
    picked.append(low)
    out = []
    for i, r in enumerate(picked):
        why = f"held-out deals scoring {r['t']} or more: {r['n']:,}, win rate "
        why += f"{percent(r['won'] / r['n'])} (lift {r['won'] / r['n'] / base_rate:.2f})"
        if r["companies"] is not None:
            why += f"; companies scoring as much: {r['companies']:,}"
        out.append((f"Tier {i + 1}", r["t"], why))
    return out


def tier_table(
    scored: pl.DataFrame, tiers: Sequence[tuple[str, int]], base_rate: float
) -> pl.DataFrame:
    """Held-out deals, wins, win rate (Wilson interval) and lift per tier and below.

    ``scored``: ``score`` (null: not admitted), ``is_won``.
    """
    rows = []
    upper = math.inf
    for name, min_score in tiers:
        part = scored.filter((pl.col("score") >= min_score) & (pl.col("score") < upper))
        rows.append(_rate_row(name, min_score, part, base_rate))
        upper = min_score
    rest = scored.filter(pl.col("score").is_null() | (pl.col("score") < upper))
    rows.append(_rate_row("not listed", None, rest, base_rate))
    return pl.DataFrame(rows, schema_overrides={"min_score": pl.Int64}, orient="row")


def _rate_row(name: str, min_score: int | None, part: pl.DataFrame, base: float) -> dict:
    n = part.height
    won = int(part.get_column("is_won").sum()) if n else 0
    low, high = wilson_interval(won, n)
    rate = won / n if n else math.nan
    return {
        "tier": name,
        "min_score": min_score,
        "deals": n,
        "won": won,
        "win_rate": rate,
        "ci_low": low,
        "ci_high": high,
        "lift": rate / base if n else math.nan,
    }


def calibration(scored: pl.DataFrame, bins: int = 8) -> pl.DataFrame:
    """Predicted against observed win rate on the held-out deals, in score bands.

    ``scored``: ``score``, ``predicted`` (the scorecard's probability), ``is_won``, for
    the deals a segment admits. The deals are cut into up to ``bins`` bands of about
    equal size by score; deals with the same score share a band.
    """
    if scored.height == 0:
        return pl.DataFrame()
    ranked = scored.with_columns(
        _band=(pl.col("score").rank("min") - 1) * bins // pl.len()
    ).with_columns(_band=pl.col("_band").cast(pl.Int64))
    table = (
        ranked.group_by("_band")
        .agg(
            score_from=pl.col("score").min(),
            score_to=pl.col("score").max(),
            deals=pl.len(),
            won=pl.col("is_won").sum(),
            predicted=pl.col("predicted").mean(),
        )
        .sort("_band")
        .drop("_band")
    )
    bounds = [wilson_interval(w, n) for w, n in table.select("won", "deals").iter_rows()]
    return table.with_columns(
        win_rate=pl.col("won") / pl.col("deals"),
        ci_low=pl.Series([b[0] for b in bounds]),
        ci_high=pl.Series([b[1] for b in bounds]),
    )
