"""Deals won by a known pattern, for testing what ``profile`` proposes.

Companies carry planted drivers and planted attributes of no effect; deals are won by a
logistic model of their company and of a signal as of the deal's created date, with an
account's own noise. A leak trap: won deals are followed (after their created date, so
never visible to a point-in-time profile) by ``onboarding`` postings, a signal that
would look perfect if the future leaked in.

True log-odds of a win: ``BASE`` plus ``DRIVERS`` (below) plus the account's noise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from listbuilder.evidence import prepare_deals
from listbuilder.evidence.deals import Evidence

START = dt.date(2024, 1, 1)
DAYS = 730
BASE = -1.3
INDUSTRIES = ("software", "government", "retail", "media", "logistics", "energy", "biotech")
COUNTRIES = ("US", "GB", "DE", "FR", "CA", "BR")
TOOLS = ("legacy-crm", "slack", "aws", "zoom", "notion")
STAGES = ("Seed", "Series A", "Series B", "Public")
DEPARTMENTS = ("sales", "engineering", "finance", "onboarding")
# Planted effects on the log-odds of a win: (attribute, value) -> effect.
DRIVERS = {
    ("industry", "software"): 1.0,
    ("industry", "government"): -2.5,
    ("employees", "50-999"): 0.7,
    ("technologies", "legacy-crm"): -0.8,
    ("signal", "hiring: sales, 60 days"): 1.0,
}
NO_EFFECT = {
    "industry": ("retail", "media", "logistics", "energy", "biotech"),
    "country": COUNTRIES,
    "technologies": ("slack", "aws", "zoom", "notion"),
    "funding_stage": STAGES,
}
LEAK = "onboarding"
US_DRIVERS = {("industry", "software"): 1.8, ("signal", "hiring: sales, 60 days"): 1.2}
ELSEWHERE_DRIVERS = {("employees", "200+"): 1.8, ("funding_stage", "Series B"): 1.2}


@dataclass(frozen=True)
class Synthetic:
    """The evidence and, per deal (``opportunity_id``), the true probability of a win."""

    evidence: Evidence
    truth: pl.DataFrame


def generate(
    seed: int,
    *,
    companies: int = 20_000,
    accounts: int = 2_500,
    deals: int = 8_000,
    two_segments: bool = False,
) -> Synthetic:
    """One realisation of the pattern.

    ``two_segments``: instead of ``DRIVERS``, US companies win by ``US_DRIVERS`` and the
    others by ``ELSEWHERE_DRIVERS`` (two kinds of customer, two different reasons).
    """
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:06d}" for i in range(companies)])
    industry = rng.choice(INDUSTRIES, companies, p=[0.2, 0.06, 0.2, 0.15, 0.15, 0.12, 0.12])
    employees = np.exp(rng.normal(4.0, 1.4, companies)).astype(np.int64) + 1
    share = [0.5, 0.1, 0.1, 0.1, 0.1, 0.1] if two_segments else None
    country = rng.choice(COUNTRIES, companies, p=share)
    stage = rng.choice(STAGES, companies)
    has = rng.random((companies, len(TOOLS))) < np.array([0.15, 0.5, 0.4, 0.3, 0.2])
    tools = [[TOOLS[j] for j in np.flatnonzero(row)] for row in has]
    company_frame = pl.DataFrame(
        {
            "company_id": ids,
            "name": [f"Company {i}" for i in range(companies)],
            "domain": [f"c{i}.example" for i in range(companies)],
            "industry": industry,
            "employees": employees,
            "country": country,
            "funding_stage": stage,
            "technologies": tools,
        },
        schema_overrides={"technologies": pl.List(pl.String)},
    )
    # CRM accounts: a random subset of the companies, matched one to one.
    chosen = np.sort(rng.choice(companies, accounts, replace=False))
    account_ids = np.array([f"A{i:05d}" for i in range(accounts)])
    crm = pl.DataFrame(
        {
            "account_id": account_ids,
            "name": [f"Company {i}" for i in chosen],
            "domain": [f"c{i}.example" for i in chosen],
            "status": ["prospect"] * accounts,
        }
    )
    pairs = pl.DataFrame(
        {"company_id": ids[chosen], "account_id": account_ids, "method": "domain", "score": 100.0}
    )
    # Deals: accounts draw them by a gamma propensity, on dates spread over two years.
    propensity = rng.gamma(1.5, 1.0, accounts)
    owner = rng.choice(accounts, deals, p=propensity / propensity.sum())
    created_day = rng.integers(0, DAYS, deals)
    # Sales postings: each account's company posts a few over the period.
    per = rng.poisson(2.0, accounts)
    post_owner = np.repeat(np.arange(accounts), per)
    post_day = rng.integers(-90, DAYS, post_owner.size)
    posts = pl.DataFrame({"a": post_owner, "day": post_day})
    deal_frame = pl.DataFrame({"d": np.arange(deals), "a": owner, "day": created_day})
    hit = (
        deal_frame.join(posts, on="a", suffix="_post")
        .filter((pl.col("day_post") <= pl.col("day")) & (pl.col("day_post") >= pl.col("day") - 60))
        .select("d")
        .unique()
        .get_column("d")
        .to_numpy()
    )
    sales = np.zeros(deals, dtype=bool)
    sales[hit] = True
    c = chosen[owner]
    logit = BASE + rng.normal(0, 0.5, accounts)[owner]
    logit += np.where(industry[c] == "software", 1.0, 0.0)
    logit += np.where(industry[c] == "government", -2.5, 0.0)
    logit += np.where((employees[c] >= 50) & (employees[c] <= 999), 0.7, 0.0)
    logit += np.where(has[c, 0], -0.8, 0.0)
    logit += np.where(sales, 1.0, 0.0)
    if two_segments:
        us = country[c] == "US"
        logit = BASE + rng.normal(0, 0.3, accounts)[owner]
        logit += np.where(us, 1.8 * (industry[c] == "software") + 1.2 * sales, 0.0)
        logit += np.where(~us, 1.8 * (employees[c] >= 200) + 1.2 * (stage[c] == "Series B"), 0.0)
    p = 1 / (1 + np.exp(-logit))
    won = rng.random(deals) < p
    opp_ids = np.array([f"O{i:06d}" for i in range(deals)])
    created = [START + dt.timedelta(days=int(x)) for x in created_day]
    opps = pl.DataFrame(
        {
            "opportunity_id": opp_ids,
            "account_id": account_ids[owner],
            "created_date": created,
            "close_date": [d + dt.timedelta(days=30) for d in created],
            "is_closed": [True] * deals,
            "is_won": won,
            "amount": [10_000.0] * deals,
        }
    )
    # Other departments at random; onboarding after each won deal (the leak trap).
    noise_n = accounts * 3
    noise = pl.DataFrame(
        {
            "company_id": ids[chosen[rng.integers(0, accounts, noise_n)]],
            "posted_date": [
                START + dt.timedelta(days=int(x)) for x in rng.integers(-90, DAYS, noise_n)
            ],
            "department": rng.choice(DEPARTMENTS[1:3], noise_n),
        }
    )
    won_idx = np.flatnonzero(won)
    leak = pl.DataFrame(
        {
            "company_id": ids[c[won_idx]],
            "posted_date": [
                created[i] + dt.timedelta(days=int(k))
                for i, k in zip(won_idx, rng.integers(1, 25, won_idx.size), strict=True)
            ],
            "department": [LEAK] * won_idx.size,
        }
    )
    sales_posts = pl.DataFrame(
        {
            "company_id": ids[chosen[post_owner]],
            "posted_date": [START + dt.timedelta(days=int(x)) for x in post_day],
            "department": ["sales"] * post_owner.size,
        }
    )
    jobs = pl.concat([sales_posts, noise, leak]).with_columns(title=pl.lit("a role"))
    evidence = prepare_deals(opps, crm, company_frame.lazy(), source="synthetic", pairs=pairs)
    evidence = replace(
        evidence,
        events={"hiring": jobs.lazy()},
        population=company_frame.lazy(),
        population_events={"hiring": jobs.lazy()},
    )
    truth = pl.DataFrame({"opportunity_id": opp_ids, "p": p})
    return Synthetic(evidence, truth)
