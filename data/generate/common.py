"""Shared by every table: the as-of date, seed, schemas and file names, the industry and
country mixes, and the vectorised sampling helpers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

AS_OF = dt.date(2026, 11, 1)
SEED = 20261101
WINDOW_DAYS = 730

# Sizes of the committed sample. Jobs are six per company so that, with dates spread
# evenly over two years, about a tenth of companies have a sales posting in the last 60 days.
SAMPLE_SIZES = {
    "n_companies": 50_000,
    "n_jobs": 300_000,
    "n_funding": 17_000,
    "n_crm": 3_000,
    "n_opportunities": 12_000,
    "n_exec_hires": 3_000,
    "n_intent": 150_000,
    "n_layoffs": 1_200,
}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "companies": {
        "company_id": pl.String(),
        "name": pl.String(),
        "domain": pl.String(),
        "industry": pl.String(),
        "employees": pl.Int64(),
        "revenue_usd": pl.Float64(),
        "country": pl.String(),
        "founded_year": pl.Int64(),
        "funding_stage": pl.String(),
        "technologies": pl.List(pl.String()),
    },
    "jobs": {
        "company_id": pl.String(),
        "posted_date": pl.Date(),
        "title": pl.String(),
        "department": pl.String(),
    },
    "funding": {
        "company_id": pl.String(),
        "announced_date": pl.Date(),
        "round_type": pl.String(),
        "amount_usd": pl.Float64(),
    },
    "crm": {
        "account_id": pl.String(),
        "name": pl.String(),
        "domain": pl.String(),
        "status": pl.String(),
    },
    "crm_truth": {
        "account_id": pl.String(),
        "company_id": pl.String(),
        "variant": pl.String(),
    },
    "exec_hires": {"company_id": pl.String(), "date": pl.Date(), "title": pl.String()},
    "intent": {"company_id": pl.String(), "date": pl.Date(), "topic": pl.String()},
    "layoffs": {
        "company_id": pl.String(),
        "date": pl.Date(),
        "employees_affected": pl.Int64(),
    },
    "headcount": {"company_id": pl.String(), "date": pl.Date(), "employees": pl.Int64()},
    "opportunities": {
        "opportunity_id": pl.String(),
        "account_id": pl.String(),
        "created_date": pl.Date(),
        "close_date": pl.Date(),
        "is_closed": pl.Boolean(),
        "is_won": pl.Boolean(),
        "amount": pl.Float64(),
    },
}
FILES = {
    "companies": "companies.parquet",
    "jobs": "jobs.parquet",
    "funding": "funding.parquet",
    "crm": "crm.csv",
    "crm_truth": "crm_truth.csv",
    "opportunities": "opportunities.parquet",
    "exec_hires": "exec_hires.parquet",
    "intent": "intent.parquet",
    "layoffs": "layoffs.parquet",
    "headcount": "headcount.parquet",
}

INDUSTRIES = {
    "software": 0.17,
    "fintech": 0.07,
    "healthcare": 0.07,
    "manufacturing": 0.08,
    "retail": 0.06,
    "logistics": 0.04,
    "education": 0.04,
    "media": 0.04,
    "real estate": 0.05,
    "construction": 0.05,
    "professional services": 0.08,
    "telecommunications": 0.02,
    "energy": 0.03,
    "hospitality": 0.04,
    "insurance": 0.03,
    "biotech": 0.03,
    "e-commerce": 0.04,
    "cybersecurity": 0.03,
    "marketing services": 0.05,
    "government": 0.02,
}
TECH_INDUSTRIES = ("software", "fintech", "cybersecurity", "e-commerce")
VC_INDUSTRIES = (*TECH_INDUSTRIES, "biotech")
TRADITIONAL_INDUSTRIES = (
    "manufacturing",
    "construction",
    "real estate",
    "hospitality",
    "professional services",
    "government",
    "retail",
    "logistics",
)

COUNTRIES = {
    "US": 0.45,
    "GB": 0.08,
    "CA": 0.055,
    "DE": 0.055,
    "FR": 0.04,
    "AU": 0.035,
    "NL": 0.025,
    "IN": 0.045,
    "SE": 0.015,
    "ES": 0.02,
    "IT": 0.02,
    "BR": 0.025,
    "JP": 0.015,
    "IE": 0.012,
    "SG": 0.012,
    "CH": 0.01,
    "DK": 0.008,
    "NO": 0.007,
    "FI": 0.006,
    "BE": 0.008,
    "PL": 0.01,
    "MX": 0.01,
    "IL": 0.01,
    "NZ": 0.006,
    "AT": 0.006,
}


def stream_rng(seed: int, stream: int) -> np.random.Generator:
    """An independent generator per table, so one table's size never shifts another's."""
    return np.random.default_rng([seed, stream])


def weights_to_probs(weights: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    """The keys of ``weights`` and their weights scaled to sum to 1."""
    p = np.asarray(list(weights.values()), dtype=np.float64)
    return list(weights), p / p.sum()


def choose(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """``n`` category codes drawn with probabilities ``p`` (normalised first)."""
    p = np.asarray(p, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum())


def pick_by_group(rng: np.random.Generator, groups: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Draw one category per row from its group's distribution (that row of ``table``).

    The groups' CDFs are laid end to end (group g spans [g, g+1)), so a single
    ``searchsorted`` of ``group + u`` serves every row at once.
    """
    table = np.asarray(table, dtype=np.float64)
    n_groups, k = table.shape
    cdf = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0  # rounding must never push a draw into the next group
    flat = (cdf + np.arange(n_groups)[:, None]).ravel()
    groups = np.asarray(groups, dtype=np.int64)
    u = rng.random(len(groups))
    idx = np.searchsorted(flat, groups + u, side="right") - groups * k
    return np.minimum(idx, k - 1)


def labels(values: Sequence[str | None], codes: np.ndarray) -> pl.Series:
    """Strings for category codes; the code ``len(values)`` gives null."""
    vocab = pl.Series([*values, None], dtype=pl.String)
    return vocab.gather(pl.Series(np.asarray(codes, dtype=np.uint32)))


def with_nulls(
    rng: np.random.Generator, codes: np.ndarray, null_code: int, share: float
) -> np.ndarray:
    """``codes`` with about ``share`` of them replaced by ``null_code``."""
    return np.where(rng.random(len(codes)) < share, null_code, codes)


def band_of(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """The band of each value: how many of the ascending ``edges`` it reaches."""
    return np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right")


def draw_sorted(rng: np.random.Generator, weight: np.ndarray, k: int) -> np.ndarray:
    """``k`` indices drawn with replacement in proportion to ``weight``, in ascending order.

    Sorted uniforms make the ``searchsorted`` walk the CDF in order, several times faster
    than ``Generator.choice`` on millions of categories; the rows are re-ordered later anyway.
    """
    cdf = np.cumsum(weight, dtype=np.float64)
    u = np.sort(rng.random(k)) * cdf[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), np.flatnonzero(weight > 0)[-1])


def oldest_first(days_back: np.ndarray) -> np.ndarray:
    """Stable order by date, oldest first (a radix sort, since day numbers fit 16 bits)."""
    return np.argsort((WINDOW_DAYS - 1 - days_back).astype(np.uint16), kind="stable")


def dates_before(as_of: dt.date, days_back: np.ndarray) -> pl.Series:
    """The dates ``days_back`` days before ``as_of``."""
    base = np.datetime64(as_of, "D")
    return pl.Series(base - days_back.astype("timedelta64[D]"), dtype=pl.Date)


def company_ids(idx: np.ndarray, n_companies: int) -> pl.Series:
    """Company ids (``C0000001``) of 0-based row numbers, wide enough for ``n_companies``."""
    width = max(7, len(str(n_companies)))
    digits = pl.Series(np.asarray(idx, dtype=np.int64) + 1).cast(pl.String).str.zfill(width)
    return ("C" + digits).rename("company_id")


def slug_expr(expr: pl.Expr) -> pl.Expr:
    """Lower-case letters and digits only, as in a domain."""
    return expr.str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")


def norm_name(expr: pl.Expr) -> pl.Expr:
    """A name compared loosely: lower case, runs of other characters one space."""
    return expr.str.to_lowercase().str.replace_all(r"[^a-z0-9]+", " ").str.strip_chars()


def norm_domain(expr: pl.Expr) -> pl.Expr:
    """A domain as written in a CRM back to its bare form (no scheme, path, mailbox or www)."""
    return (
        expr.str.to_lowercase()
        .str.replace(r"^[a-z]+://", "")
        .str.replace(r"[/?#].*$", "")
        .str.replace(r"^[^@]*@", "")
        .str.replace(r"^www\.", "")
    )


def salesforce_ids(rng: np.random.Generator, n: int, prefix: str, start: int) -> pl.Series:
    """Unique, increasing 15-character Salesforce-style ids after a 4-character prefix."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    counter = start + np.cumsum(rng.integers(1, 2_000, n))
    digits = []
    for _ in range(11):
        digits.append(counter % 62)
        counter = counter // 62
    chars = pl.DataFrame(
        {f"d{i}": labels(list(alphabet), d) for i, d in enumerate(reversed(digits))}
    )
    return chars.select(pl.concat_str([pl.lit(prefix), pl.all()]).alias("id")).to_series()
