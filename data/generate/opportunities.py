"""Opportunities on the CRM accounts, won or lost by a known logistic model."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from .common import SCHEMAS, WINDOW_DAYS, dates_before, salesforce_ids, stream_rng

# Opportunities: who wins is a logistic model of the account's true company, so that
# `listbuilder profile` and `backtest` have a known pattern to recover. The log-odds of a
# win are the base plus every effect that applies, plus the account's own noise.
OPP_BASE_LOGIT = -1.4
OPP_INDUSTRY_EFFECT = {
    "software": 1.0,
    "fintech": 1.0,
    "government": -1.2,
    "hospitality": -1.2,
    "education": -1.2,
}
OPP_CORE_BAND = (50, 999)  # employees, both ends included
OPP_CORE_BAND_EFFECT = 0.6
OPP_MICRO_BAND = (1, 9)
OPP_MICRO_BAND_EFFECT = -0.6
OPP_LEGACY_CRM_EFFECT = -1.0  # technologies include legacy-crm
OPP_HIRING_DEPARTMENTS = ("sales", "revenue operations")
OPP_HIRING_DAYS = 60  # a posting in the 60 days up to and including the created date
OPP_HIRING_EFFECT = 0.9
OPP_FUNDING_DAYS = 180  # a round of any type in the 180 days up to the created date
OPP_FUNDING_EFFECT = 0.7
OPP_ACCOUNT_NOISE_SD = 0.5  # per account, on the log-odds
OPP_OUTSIDE_WEIGHT = 0.5  # accounts not in the dataset get half the deals of the others
# Dirty rows, as real CRM exports have them (shares of all opportunities).
OPP_NO_CREATED_SHARE = 0.003
OPP_CLOSE_BEFORE_CREATE_SHARE = 0.002
OPP_DELETED_ACCOUNT_SHARE = 0.002


def _events_before(
    deals: pl.DataFrame, events: pl.DataFrame, date_col: str, days: int
) -> pl.Series:
    """Per deal, does its company have an event in the ``days`` up to its created date?"""
    hits = (
        deals.select("row", "company_id", "created")
        .join(events.select("company_id", date_col), on="company_id", how="inner")
        .filter(
            pl.col(date_col).is_between(
                pl.col("created") - pl.duration(days=days), pl.col("created"), closed="both"
            )
        )
        .select("row")
        .unique()
    )
    return deals.select(pl.col("row").is_in(hits.get_column("row").implode())).to_series()


def draw_opportunities(
    n_opps: int,
    companies: pl.DataFrame,
    crm: pl.DataFrame,
    truth: pl.DataFrame,
    jobs: pl.DataFrame,
    funding: pl.DataFrame,
    as_of: dt.date,
    seed: int,
) -> pl.DataFrame:
    """Opportunities on CRM accounts over the two years to ``as_of``, won per OPP_* above.

    Signals are read as of each deal's created date, exactly as listbuilder evaluates
    them, so a hiring posting dated after a deal was opened never influenced it.
    """
    rng = stream_rng(seed, 5)
    if n_opps == 0 or crm.height == 0:
        return pl.DataFrame(schema=SCHEMAS["opportunities"])
    accounts = truth.select("account_id", "company_id").join(
        companies.select("company_id", "industry", "employees", "technologies"),
        on="company_id",
        how="left",
        maintain_order="left",
    )
    inside = accounts.get_column("company_id").is_not_null().to_numpy()
    weight = rng.gamma(2.0, 1.0, accounts.height) * np.where(inside, 1.0, OPP_OUTSIDE_WEIGHT)
    account = rng.choice(accounts.height, size=n_opps, p=weight / weight.sum())
    noise = rng.normal(0.0, OPP_ACCOUNT_NOISE_SD, accounts.height)[account]
    days_back = rng.integers(0, WINDOW_DAYS, n_opps)
    deals = accounts[account].with_columns(
        row=pl.Series(np.arange(n_opps)),
        created=dates_before(as_of, days_back),
    )
    logit = _win_logit(deals, jobs, funding, noise)
    employees = deals.get_column("employees").fill_null(-1).to_numpy()
    won = rng.random(n_opps) < 1.0 / (1.0 + np.exp(-logit))

    # Sales cycles of two weeks to several months; a deal whose close date is still ahead
    # of as_of is open, and its close date is the expected one, as in Salesforce.
    cycle = 14 + np.rint(rng.gamma(2.0, 25.0, n_opps)).astype(np.int64)
    closed = cycle <= days_back
    size = np.where(employees > 0, employees, np.exp(rng.normal(np.log(40.0), 1.9, n_opps)))
    amount = 12_000.0 * (np.maximum(size, 1.0) / 50.0) ** 0.45 * rng.lognormal(0.0, 0.5, n_opps)
    amount = np.maximum(np.round(amount, -2), 500.0)
    amount_null = rng.random(n_opps) < 0.04

    # Dirty rows: a missing created date, a close date before the created date, and an
    # account deleted from the CRM since (its id is in no CRM export).
    u = rng.random(n_opps)
    no_created = u < OPP_NO_CREATED_SHARE
    backwards = (u >= OPP_NO_CREATED_SHARE) & (
        u < OPP_NO_CREATED_SHARE + OPP_CLOSE_BEFORE_CREATE_SHARE
    )
    deleted = rng.random(n_opps) < OPP_DELETED_ACCOUNT_SHARE
    close_back = np.where(backwards, days_back + rng.integers(1, 30, n_opps), days_back - cycle)
    closed |= backwards

    order = np.lexsort((np.arange(n_opps), -days_back))
    frame = pl.DataFrame(
        {
            "account_id": deals.get_column("account_id"),
            "created_date": dates_before(as_of, days_back).set(pl.Series(no_created), None),
            "close_date": dates_before(as_of, close_back),
            "is_closed": pl.Series(closed),
            "is_won": pl.Series(closed & won),
            "amount": pl.Series(amount, dtype=pl.Float64).set(pl.Series(amount_null), None),
        }
    )[order]
    ghost_ids = salesforce_ids(rng, int(deleted.sum()), "001B", start=9_000_000)
    account_ids = frame.get_column("account_id").scatter(np.flatnonzero(deleted), ghost_ids)
    return (
        frame.with_columns(
            opportunity_id=salesforce_ids(rng, n_opps, "006A", start=9_000_000),
            account_id=account_ids,
        )
        .select(list(SCHEMAS["opportunities"]))
        .cast(SCHEMAS["opportunities"])  # type: ignore[arg-type]
    )


def _win_logit(
    deals: pl.DataFrame, jobs: pl.DataFrame, funding: pl.DataFrame, noise: np.ndarray
) -> np.ndarray:
    """Each deal's log-odds of a win: base, account noise, then every effect that applies.

    The terms are added in this order so the sums, and so the outcomes, stay bit-for-bit.
    """
    departments = [d.lower() for d in OPP_HIRING_DEPARTMENTS]
    hiring = _events_before(
        deals,
        jobs.filter(pl.col("department").str.to_lowercase().is_in(departments)),
        "posted_date",
        OPP_HIRING_DAYS,
    ).to_numpy()
    funded = _events_before(deals, funding, "announced_date", OPP_FUNDING_DAYS).to_numpy()

    industry = deals.get_column("industry").fill_null("").to_numpy()
    employees = deals.get_column("employees").fill_null(-1).to_numpy()
    legacy = (
        deals.select(pl.col("technologies").list.contains("legacy-crm").fill_null(False))
        .to_series()
        .to_numpy()
    )
    logit = np.full(deals.height, OPP_BASE_LOGIT) + noise
    for name, effect in OPP_INDUSTRY_EFFECT.items():
        logit += np.where(industry == name, effect, 0.0)
    core = (employees >= OPP_CORE_BAND[0]) & (employees <= OPP_CORE_BAND[1])
    micro = (employees >= OPP_MICRO_BAND[0]) & (employees <= OPP_MICRO_BAND[1])
    logit += np.where(core, OPP_CORE_BAND_EFFECT, 0.0)
    logit += np.where(micro, OPP_MICRO_BAND_EFFECT, 0.0)
    logit += np.where(legacy, OPP_LEGACY_CRM_EFFECT, 0.0)
    logit += np.where(hiring, OPP_HIRING_EFFECT, 0.0)
    logit += np.where(funded, OPP_FUNDING_EFFECT, 0.0)
    return logit
