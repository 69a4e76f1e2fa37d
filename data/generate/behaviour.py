"""Behavioural signals: executive hires, intent research, layoffs and a monthly headcount
history, each drawn from the companies' hidden size, growth and industry.

Rates follow what B2B data vendors report: a few percent of companies hire an executive
in a year (more of them while growing), intent feeds are large and lean to tech buyers,
layoffs hit a percent or two of companies a year (mostly those not growing), and headcount
grows 25-60% a year at growing companies and drifts between -8% and +10% elsewhere.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from .common import (
    SCHEMAS,
    WINDOW_DAYS,
    company_ids,
    dates_before,
    draw_sorted,
    labels,
    oldest_first,
    stream_rng,
)

EXEC_TITLES = (
    "VP Sales",
    "Chief Revenue Officer",
    "Head of Sales",
    "VP Marketing",
    "Chief Marketing Officer",
    "VP Engineering",
    "Chief Technology Officer",
    "Chief Financial Officer",
    "Chief Operating Officer",
    "VP Customer Success",
)
EXEC_TITLE_WEIGHTS = np.array([10, 4, 6, 8, 3, 9, 3, 5, 3, 5], dtype=np.float64)
INTENT_TOPICS = (
    "sales engagement",
    "outbound automation",
    "abm",
    "crm",
    "data enrichment",
    "conversation intelligence",
    "marketing automation",
    "cloud security",
    "erp",
    "payroll",
)
# P(topic) for non-tech companies and for tech companies: tech buyers research sales tools.
INTENT_MIX = np.array(
    [
        [0.05, 0.03, 0.03, 0.14, 0.06, 0.03, 0.12, 0.10, 0.24, 0.20],
        [0.14, 0.10, 0.10, 0.14, 0.10, 0.08, 0.12, 0.12, 0.05, 0.05],
    ]
)
HEADCOUNT_MONTHS = 24
HEADCOUNT_COVERAGE = 0.6  # companies with any history at all
HEADCOUNT_NULL_SHARE = 0.03  # a month the vendor failed to measure


def draw_exec_hires(n_hires: int, hidden: pl.DataFrame, as_of: dt.date, seed: int) -> pl.DataFrame:
    """Executive hires: bigger and growing companies hire more leaders."""
    rng = stream_rng(seed, 6)
    n = hidden.height
    size = hidden.get_column("size").to_numpy().astype(np.float64)
    growth = hidden.get_column("growth").to_numpy()
    weight = np.log1p(size) * np.where(growth, 3.0, 1.0)
    company = draw_sorted(rng, weight, n_hires)
    title = rng.choice(len(EXEC_TITLES), n_hires, p=EXEC_TITLE_WEIGHTS / EXEC_TITLE_WEIGHTS.sum())
    days_back = rng.integers(0, WINDOW_DAYS, n_hires)
    order = oldest_first(days_back)
    return pl.DataFrame(
        {
            "company_id": company_ids(company[order], n),
            "date": dates_before(as_of, days_back[order]),
            "title": labels(EXEC_TITLES, title[order]),
        }
    ).cast(SCHEMAS["exec_hires"])  # type: ignore[arg-type]


def draw_intent(n_events: int, hidden: pl.DataFrame, as_of: dt.date, seed: int) -> pl.DataFrame:
    """Intent research, one topic per event; a researching company comes back in bursts."""
    rng = stream_rng(seed, 7)
    n = hidden.height
    size = hidden.get_column("size").to_numpy().astype(np.float64)
    tech = hidden.get_column("tech").to_numpy()
    growth = hidden.get_column("growth").to_numpy()
    # Most companies never show up in an intent feed; the ones that do, show up often.
    active = rng.random(n) < np.where(tech, 0.35, 0.12)
    weight = np.sqrt(size) * np.where(growth, 2.0, 1.0) * active
    if weight.sum() == 0:
        weight = np.ones(n)
    company = draw_sorted(rng, weight, n_events)
    topic_table = INTENT_MIX
    kind = tech.astype(np.int64)[company]
    cdf = np.cumsum(topic_table, axis=1)[kind]
    topic = np.minimum((rng.random(n_events)[:, None] > cdf).sum(axis=1), len(INTENT_TOPICS) - 1)
    # A burst: each company researches around its own centre date.
    centre = rng.integers(0, WINDOW_DAYS, n)[company]
    days_back = np.clip(centre + rng.normal(0, 20, n_events).astype(np.int64), 0, WINDOW_DAYS - 1)
    order = oldest_first(days_back)
    return pl.DataFrame(
        {
            "company_id": company_ids(company[order], n),
            "date": dates_before(as_of, days_back[order]),
            "topic": labels(INTENT_TOPICS, topic[order]),
        }
    ).cast(SCHEMAS["intent"])  # type: ignore[arg-type]


def draw_layoffs(n_layoffs: int, hidden: pl.DataFrame, as_of: dt.date, seed: int) -> pl.DataFrame:
    """Layoffs: mostly at companies that are not growing; a share of staff each time."""
    rng = stream_rng(seed, 8)
    n = hidden.height
    size = hidden.get_column("size").to_numpy().astype(np.float64)
    growth = hidden.get_column("growth").to_numpy()
    weight = np.log1p(size) * np.where(growth, 0.3, 1.0)
    company = draw_sorted(rng, weight, n_layoffs)
    share = rng.uniform(0.03, 0.25, n_layoffs)
    affected = np.maximum(np.round(size[company] * share), 1).astype(np.int64)
    days_back = rng.integers(0, WINDOW_DAYS, n_layoffs)
    order = oldest_first(days_back)
    return pl.DataFrame(
        {
            "company_id": company_ids(company[order], n),
            "date": dates_before(as_of, days_back[order]),
            "employees_affected": affected[order],
        }
    ).cast(SCHEMAS["layoffs"])  # type: ignore[arg-type]


def draw_headcount(hidden: pl.DataFrame, as_of: dt.date, seed: int) -> pl.DataFrame:
    """A monthly headcount history (first of each month) ending at today's size."""
    rng = stream_rng(seed, 9)
    n = hidden.height
    size = hidden.get_column("size").to_numpy().astype(np.float64)
    growth = hidden.get_column("growth").to_numpy()
    yearly = np.where(growth, rng.uniform(0.25, 0.60, n), rng.uniform(-0.08, 0.10, n))
    monthly = (1.0 + yearly) ** (1.0 / 12.0)
    covered = np.flatnonzero(rng.random(n) < HEADCOUNT_COVERAGE)
    months_back = np.arange(HEADCOUNT_MONTHS)
    company = np.repeat(covered, HEADCOUNT_MONTHS)
    back = np.tile(months_back, len(covered))
    noise = rng.normal(1.0, 0.02, len(company))
    employees = np.maximum(np.round(size[company] / monthly[company] ** back * noise), 1)
    first = as_of.replace(day=1)
    month_index = first.year * 12 + first.month - 1 - back
    dates = pl.date_range(dt.date(2000, 1, 1), dt.date(2100, 1, 1), "1mo", eager=True).gather(
        pl.Series(month_index - 2000 * 12)
    )
    measured = pl.Series(employees.astype(np.int64)).set(
        pl.Series(rng.random(len(company)) < HEADCOUNT_NULL_SHARE), None
    )
    return (
        pl.DataFrame({"company_id": company_ids(company, n), "date": dates, "employees": measured})
        .sort(["date", "company_id"])
        .cast(SCHEMAS["headcount"])  # type: ignore[arg-type]
    )
