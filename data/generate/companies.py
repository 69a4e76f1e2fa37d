"""The companies table, and the hidden draws (size, stage, growth) the other tables use."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pyarrow as pa

from .common import (
    COUNTRIES,
    INDUSTRIES,
    SCHEMAS,
    TECH_INDUSTRIES,
    TRADITIONAL_INDUSTRIES,
    VC_INDUSTRIES,
    band_of,
    choose,
    company_ids,
    labels,
    pick_by_group,
    stream_rng,
    weights_to_probs,
    with_nulls,
)
from .names import (
    assign_domains,
    core_vocabulary,
    draw_cores,
    draw_descriptors,
    draw_suffixes,
    draw_tlds,
    family_weights,
    full_name,
)

FUNDING_STAGES = (
    "Bootstrapped",
    "Seed",
    "Series A",
    "Series B",
    "Series C",
    "Series D",
    "Series E+",
    "Private Equity",
    "Public",
)
# P(stage | size band) for venture-friendly industries; bands by employees:
# <10, 10-49, 50-199, 200-999, 1000-4999, 5000+.
SIZE_EDGES = (10, 50, 200, 1000, 5000)
STAGE_BY_BAND = np.array(
    [
        [0.62, 0.30, 0.06, 0.01, 0.00, 0.00, 0.00, 0.01, 0.00],
        [0.45, 0.25, 0.20, 0.07, 0.02, 0.00, 0.00, 0.01, 0.00],
        [0.30, 0.08, 0.22, 0.22, 0.10, 0.03, 0.01, 0.04, 0.00],
        [0.20, 0.02, 0.06, 0.18, 0.20, 0.12, 0.06, 0.12, 0.04],
        [0.15, 0.00, 0.01, 0.04, 0.10, 0.12, 0.12, 0.26, 0.20],
        [0.10, 0.00, 0.00, 0.00, 0.02, 0.04, 0.06, 0.28, 0.50],
    ]
)

# Technographics come in slots: a company has at most one CRM, one cloud, and so on.
TECH_SLOTS: dict[str, tuple[str, ...]] = {
    "crm": ("salesforce", "hubspot", "dynamics", "pipedrive", "legacy-crm"),
    "cloud": ("aws", "gcp", "azure"),
    "engagement": ("outreach", "salesloft"),
    "support": ("zendesk", "intercom"),
    "erp": ("netsuite", "sap", "quickbooks"),
}
# P(choice | size band) per slot, last column "none"; bands <50, 50-999, 1000+.
TECH_SLOT_PROBS: dict[str, np.ndarray] = {
    "crm": np.array(
        [
            [0.12, 0.30, 0.03, 0.10, 0.10, 0.35],
            [0.42, 0.25, 0.08, 0.03, 0.08, 0.14],
            [0.55, 0.05, 0.20, 0.00, 0.10, 0.10],
        ]
    ),
    "cloud": np.array(
        [[0.30, 0.10, 0.10, 0.50], [0.45, 0.15, 0.20, 0.20], [0.45, 0.15, 0.30, 0.10]]
    ),
    "engagement": np.array([[0.05, 0.04, 0.91], [0.22, 0.18, 0.60], [0.25, 0.15, 0.60]]),
    "support": np.array([[0.15, 0.10, 0.75], [0.25, 0.12, 0.63], [0.30, 0.05, 0.65]]),
    "erp": np.array([[0.02, 0.00, 0.30, 0.68], [0.18, 0.05, 0.10, 0.67], [0.15, 0.35, 0.00, 0.50]]),
}
# Independent tools: P(has it | size band).
TECH_FLAGS: dict[str, tuple[float, float, float]] = {
    "gong": (0.03, 0.15, 0.25),
    "zoominfo": (0.05, 0.20, 0.22),
    "snowflake": (0.02, 0.12, 0.25),
    "segment": (0.03, 0.10, 0.08),
    "slack": (0.30, 0.45, 0.40),
    "workday": (0.00, 0.05, 0.30),
    "stripe": (0.08, 0.10, 0.08),
    "shopify": (0.02, 0.02, 0.01),
    "marketo": (0.01, 0.10, 0.20),
    "pardot": (0.01, 0.08, 0.12),
}
MAX_TECHNOLOGIES = 8


# Revenue per employee differs by industry; the others keep a multiplier of 1.
REVENUE_MULTIPLIER = {
    "software": 1.2,
    "fintech": 1.3,
    "retail": 0.8,
    "hospitality": 0.5,
    "education": 0.6,
    "government": 0.7,
    "energy": 1.4,
    "insurance": 1.3,
}


def draw_companies(n: int, as_of: dt.date, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The companies table, and the hidden draws the other tables are built from.

    Every draw comes from one stream in a fixed order (industry, country, size, stage,
    age, growth, revenue, names, domains, technologies), so the steps below must be called
    in this order for the same seed to give the same table.
    """
    rng = stream_rng(seed, 1)
    inside, _ = core_vocabulary(seed)
    industries, p_industry = weights_to_probs(INDUSTRIES)
    countries, p_country = weights_to_probs(COUNTRIES)
    industry = with_nulls(rng, choose(rng, p_industry, n), len(industries), 0.02)
    country = with_nulls(rng, choose(rng, p_country, n), len(countries), 0.02)
    is_tech = np.isin(industry, [industries.index(i) for i in TECH_INDUSTRIES])

    # Size drives almost everything else, so draw it first: log-normal, median ~40.
    size = np.exp(rng.normal(np.log(40.0), 1.9, n))
    size = np.clip(np.rint(size), 1, 400_000).astype(np.int64)
    stage = _draw_stage(rng, industry, industries, size)
    founded = _draw_founded(rng, size, stage, as_of)

    # A latent "growing" flag ties hiring and funding to each other and to the ICP.
    p_growth = 0.10 + 0.20 * ((stage >= 1) & (stage <= 4)) + 0.10 * is_tech
    growth = rng.random(n) < p_growth

    multiplier = np.ones(len(industries) + 1)
    for name, m in REVENUE_MULTIPLIER.items():
        multiplier[industries.index(name)] = m
    revenue = size * rng.uniform(150_000, 250_000, n) * rng.lognormal(0.0, 0.35, n)
    revenue = np.round(revenue * multiplier[industry], -3)
    revenue_null = rng.random(n) < 0.10
    employees_null = rng.random(n) < 0.05

    parts = _name_parts(rng, inside, industry, country).with_columns(
        country=labels(countries, country)
    )
    domain = assign_domains(parts)
    domain_null = rng.random(n) < 0.03

    technologies = _technologies(rng, size, industry, industries)
    tech_null = rng.random(n) < 0.12

    companies = pl.DataFrame(
        {
            "company_id": company_ids(np.arange(n), n),
            "name": parts.select(
                full_name(pl.col("core"), pl.col("descriptor"), pl.col("sep"), pl.col("suffix"))
            ).to_series(),
            "domain": domain,
            "industry": labels(industries, industry),
            "employees": pl.Series(size).set(pl.Series(employees_null), None),
            "revenue_usd": pl.Series(revenue, dtype=pl.Float64).set(pl.Series(revenue_null), None),
            "country": parts.get_column("country"),
            "founded_year": pl.Series(founded, dtype=pl.Int64),
            "funding_stage": labels(FUNDING_STAGES, stage),
            "technologies": technologies.set(pl.Series(tech_null), None),
        }
    ).with_columns(domain=pl.when(pl.Series(domain_null)).then(None).otherwise(pl.col("domain")))
    hidden = parts.with_columns(
        size=pl.Series(size),
        stage=pl.Series(stage),
        industry_code=pl.Series(industry),
        tech=pl.Series(is_tech),
        growth=pl.Series(growth),
    )
    return companies.cast(SCHEMAS["companies"]), hidden  # type: ignore[arg-type]


def _draw_stage(
    rng: np.random.Generator, industry: np.ndarray, industries: list[str], size: np.ndarray
) -> np.ndarray:
    """A funding stage code per company, by size band and kind of industry (null: the last)."""
    is_vc = np.isin(industry, [industries.index(i) for i in VC_INDUSTRIES])
    is_trad = np.isin(industry, [industries.index(i) for i in TRADITIONAL_INDUSTRIES])
    band = band_of(size, SIZE_EDGES)
    # Venture stages are for venture industries; elsewhere most of that mass is
    # bootstrapped (small firms) or private equity (large ones).
    kind = np.where(is_vc, 0, np.where(is_trad, 2, 1))
    tables = []
    for moved in (0.0, 0.45, 0.8):
        t = STAGE_BY_BAND.copy()
        venture = t[:, 1:7] * moved
        t[:, 1:7] -= venture
        to_pe = np.array([0.0, 0.0, 0.1, 0.4, 0.6, 0.6])
        t[:, 0] += venture.sum(axis=1) * (1 - to_pe)
        t[:, 7] += venture.sum(axis=1) * to_pe
        tables.append(t)
    stage = pick_by_group(rng, kind * len(STAGE_BY_BAND) + band, np.vstack(tables))
    null_share = np.where(industry == industries.index("government"), 0.6, 0.14)
    return np.where(rng.random(len(size)) < null_share, len(FUNDING_STAGES), stage)


def _draw_founded(
    rng: np.random.Generator, size: np.ndarray, stage: np.ndarray, as_of: dt.date
) -> np.ndarray:
    """Founding years: young firms are small and venture-backed; old ones large, public or PE."""
    scale = 4.0 + 5.0 * np.log10(size)
    early = (stage == 1) | (stage == 2)
    mature = (stage == 7) | (stage == 8)
    scale = scale * np.select([early, mature], [0.5, 1.5], 1.0)
    age = rng.gamma(1.5, scale / 1.5)
    last_year = as_of.year - 1
    return np.clip(last_year - np.floor(age), 1950, last_year).astype(np.int64)


def _name_parts(
    rng: np.random.Generator,
    inside: dict[str, list[str]],
    industry: np.ndarray,
    country: np.ndarray,
) -> pl.DataFrame:
    """Core, family, descriptor, legal suffix (and its separator) and TLD of every name."""
    n = len(industry)
    cores = draw_cores(rng, inside, n, family_weights(inside, n))
    descriptor = draw_descriptors(
        rng, industry, cores.get_column("family"), cores.get_column("core")
    )
    suffix, sep = draw_suffixes(rng, country, share=0.35)
    return cores.with_columns(
        descriptor=descriptor, suffix=suffix, sep=sep, tld=draw_tlds(rng, country, industry)
    )


def _technologies(
    rng: np.random.Generator, size: np.ndarray, industry: np.ndarray, industries: list[str]
) -> pl.Series:
    """Up to eight tools per company: one per slot (CRM, cloud, ...) plus independent tools."""
    n = len(size)
    band = band_of(size, (50, 1000))
    tech = np.isin(industry, [industries.index(i) for i in TECH_INDUSTRIES])
    shops = np.isin(industry, [industries.index(i) for i in ("retail", "e-commerce")])
    slot = {name: pick_by_group(rng, band, TECH_SLOT_PROBS[name]) for name in TECH_SLOTS}
    salesforce = slot["crm"] == 0
    boost = {
        "stripe": np.where(tech | shops, 3.5, 1.0),
        "shopify": np.where(shops, 20.0, 1.0),
        "snowflake": np.where(tech, 2.0, 1.0),
        "segment": np.where(tech, 2.5, 0.5),
        "slack": np.where(tech, 1.8, 1.0),
        # Pardot is sold with Salesforce; HubSpot users rarely add Marketo.
        "pardot": np.where(salesforce, 3.0, 0.1),
        "marketo": np.where(slot["crm"] == 1, 0.2, 1.0),
    }
    have = {}
    for name, probs in TECH_FLAGS.items():
        p = np.asarray(probs)[band] * boost.get(name, 1.0)
        have[name] = rng.random(n) < np.minimum(p, 0.9)
    order = [
        "crm",
        "marketo",
        "pardot",
        "engagement",
        "gong",
        "zoominfo",
        "cloud",
        "snowflake",
        "segment",
        "stripe",
        "shopify",
        "support",
        "slack",
        "erp",
        "workday",
    ]
    vocab = [t for name in order for t in TECH_SLOTS.get(name, (name,))]
    codes = np.empty((n, len(order)), dtype=np.int16)
    for j, name in enumerate(order):
        if name in TECH_SLOTS:
            options = TECH_SLOTS[name]
            first = vocab.index(options[0])
            codes[:, j] = np.where(slot[name] < len(options), first + slot[name], -1)
        else:
            codes[:, j] = np.where(have[name], vocab.index(name), -1)
    # Lists are assembled as Arrow offsets plus values: one pass, no per-row objects,
    # which matters at five million rows.
    keep = codes >= 0
    keep &= np.cumsum(keep, axis=1, dtype=np.int8) <= MAX_TECHNOLOGIES
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    values = pa.array(vocab, type=pa.large_string()).take(pa.array(codes[keep]))
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), values)
    return pl.Series("technologies", lists, dtype=pl.List(pl.String))
