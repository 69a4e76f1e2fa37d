"""Funding rounds that climb, round by round, to each company's current stage."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from .common import (
    SCHEMAS,
    WINDOW_DAYS,
    band_of,
    company_ids,
    dates_before,
    draw_sorted,
    labels,
    oldest_first,
    stream_rng,
)
from .companies import FUNDING_STAGES, SIZE_EDGES

ROUND_TYPES = ("Pre-Seed", "Seed", "Series A", "Series B", "Series C", "Series D", "Series E")
ROUND_MEDIAN_USD = (6e5, 2.5e6, 1.2e7, 3.2e7, 6e7, 1.1e8, 2e8)


def draw_funding(n_rounds: int, hidden: pl.DataFrame, as_of: dt.date, seed: int) -> pl.DataFrame:
    """Funding rounds, drawn mostly for venture-stage companies; later rounds rank higher."""
    rng = stream_rng(seed, 3)
    n = hidden.height
    size = hidden.get_column("size").to_numpy()
    stage = hidden.get_column("stage").to_numpy()
    growth = hidden.get_column("growth").to_numpy()
    by_stage = np.array([0.03, 1.0, 1.3, 1.3, 1.1, 0.9, 0.8, 0.15, 0.1, 0.35])
    weight = by_stage[stage] * np.where(growth, 2.5, 1.0)
    company = draw_sorted(rng, weight, n_rounds)
    days_back = rng.integers(0, WINDOW_DAYS, n_rounds)

    # Within a company, oldest first: the last round reaches the company's current stage,
    # each earlier one a step below.
    order = np.lexsort((-days_back, company))
    company, days_back = company[order], days_back[order]
    starts = np.flatnonzero(np.r_[True, company[1:] != company[:-1]])
    counts = np.diff(np.r_[starts, len(company)])
    rank = np.arange(len(company)) - np.repeat(starts, counts)
    steps_to_last = np.repeat(counts, counts) - 1 - rank
    band = band_of(size, SIZE_EDGES)
    top_by_stage = np.array([0, 1, 2, 3, 4, 5, 6, 6, 6, 0])
    top = np.where(stage == len(FUNDING_STAGES), np.minimum(band + 1, 6), top_by_stage[stage])[
        company
    ]
    ordinal = np.maximum(top - steps_to_last, 0)
    p_debt = np.array([1.0, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.6, 0.6, 0.1])[stage[company]]
    debt = rng.random(len(company)) < p_debt

    median = np.asarray(ROUND_MEDIAN_USD)[ordinal]
    debt_median = 2e6 * np.sqrt(size[company] / 50.0)
    amount = np.where(debt, debt_median, median) * rng.lognormal(0.0, 0.6, len(company))
    # Announced amounts are round: two significant figures.
    magnitude = 10.0 ** (np.floor(np.log10(np.maximum(amount, 1.0))) - 1)
    amount = np.round(amount / magnitude) * magnitude
    amount_null = rng.random(len(company)) < 0.07
    round_code = np.where(debt, len(ROUND_TYPES), ordinal)

    order = oldest_first(days_back)
    return pl.DataFrame(
        {
            "company_id": company_ids(company[order], n),
            "announced_date": dates_before(as_of, days_back[order]),
            "round_type": labels([*ROUND_TYPES, "Debt"], round_code[order]),
            "amount_usd": pl.Series(amount[order], dtype=pl.Float64).set(
                pl.Series(amount_null), None
            ),
        }
    ).cast(SCHEMAS["funding"])  # type: ignore[arg-type]
