"""The example rules (benchmarks/rules.toml) written by hand as one polars lazy query.

This is the yardstick for ``bench_build.py``: what a competent engineer would write for
these exact rules with no rules engine, producing the same lists. It shares only the CRM
matching function, the domain normaliser and the output writer with the package, so both
sides do the same joins and write the same files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl

from listbuilder.files import write_csv
from listbuilder.inputs import domain_expr
from listbuilder.match import match_crm

SIZE_STACK = ["hubspot", "salesforce", "outreach", "salesloft", "gong"]
EMEA = ["GB", "DE", "FR", "NL", "SE", "IE", "ES", "IT"]
EMEA_INDUSTRIES = [
    "software",
    "fintech",
    "professional services",
    "marketing services",
    "e-commerce",
]


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _tiers(df: pl.DataFrame, tiers: list[tuple[str, int, int | None]], cap: int) -> pl.DataFrame:
    df = df.sort(["score", "company_id"], descending=[True, False], maintain_order=True)
    dom = domain_expr("domain")
    df = df.filter(dom.is_null() | (pl.int_range(pl.len()).over(dom) == 0))
    start, bounds = 0, []
    for name, min_score, tier_cap in tiers:
        reach = int((df["score"] >= min_score).sum())
        end = reach if tier_cap is None else min(reach, start + tier_cap)
        end = min(max(end, start), cap)
        bounds.append((name, end))
        start = end
    pos = pl.int_range(pl.len(), dtype=pl.Int64)
    tier = pl.lit(None, pl.String)
    for name, end in reversed(bounds):
        tier = pl.when(pos < end).then(pl.lit(name)).otherwise(tier)
    return df.head(start).with_columns(tier=tier, rank=pos + 1)


def run(data: Path, out: Path, as_of: dt.date) -> None:
    """Build both example segments from ``data`` into ``out``."""
    companies = pl.scan_parquet(data / "companies.parquet")
    jobs = pl.scan_parquet(data / "jobs.parquet")
    funding = pl.scan_parquet(data / "funding.parquet")
    crm = pl.read_csv(data / "crm.csv", schema_overrides={"account_id": pl.String})
    hiring, rounds = _events(jobs, funding, as_of)
    lf = _scored(companies, hiring, rounds)
    counts, cand, n_jobs, n_funding = pl.collect_all(
        [
            lf.select(
                pl.len(),
                pl.col("e0").sum(),
                pl.col("e1").sum(),
                pl.col("q0").sum(),
                pl.col("q1").sum(),
            ),
            lf.filter(pl.col("seg").is_not_null()),
            jobs.select(pl.len()),
            funding.select(pl.len()),
        ]
    )
    pairs = match_crm(cand.select("company_id", "name", "domain", "country"), crm)
    best = (
        pairs.join(crm.select("account_id", "status"), on="account_id")
        .with_columns(x=pl.col("status").str.to_lowercase().is_in(["customer", "open_opportunity"]))
        .sort(["company_id", "x", "score", "account_id"], descending=[False, True, True, False])
        .unique("company_id", keep="first", maintain_order=True)
        .select("company_id", "account_id", "method", "x", mscore=pl.col("score"))
    )
    rest = [c for c in companies.collect_schema() if c not in ("company_id", "name", "domain")]
    cand = cand.join(best, on="company_id", how="left", maintain_order="left").with_columns(
        pl.col("x").fill_null(False)
    )
    out.mkdir(parents=True, exist_ok=True)
    segments = _write_segments(cand, rest, out)
    write_csv(
        cand.filter(pl.col("x")).select("company_id", "name", "account_id"), out / "suppressed.csv"
    )
    inputs = {
        name: _sha(data / f"{name}{ext}")
        for name, ext in (
            ("companies", ".parquet"),
            ("jobs", ".parquet"),
            ("funding", ".parquet"),
            ("crm", ".csv"),
        )
    }
    summary = {
        "counts": counts.row(0),
        "rows": [n_jobs.item(), n_funding.item()],
        "inputs": inputs,
        "segments": segments,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))


def _events(
    jobs: pl.LazyFrame, funding: pl.LazyFrame, as_of: dt.date
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Per company: sales postings in the last 60 and 90 days, and its fresh and recent rounds."""
    d60, d90 = as_of - dt.timedelta(days=60), as_of - dt.timedelta(days=90)
    d180, d365 = as_of - dt.timedelta(days=180), as_of - dt.timedelta(days=365)
    dept = pl.col("department").str.to_lowercase()
    hiring = (
        jobs.filter(pl.col("posted_date").is_between(d90, as_of))
        .group_by("company_id")
        .agg(
            h60=((pl.col("posted_date") >= d60) & dept.is_in(["sales", "revenue operations"]))
            .fill_null(False)
            .sum(),
            h90=(dept == "sales").fill_null(False).sum(),
        )
    )
    fresh = (
        (pl.col("announced_date") >= d180)
        & pl.col("round_type").str.to_lowercase().is_in(["series a", "series b"])
        & (pl.col("amount_usd") >= 5_000_000)
    ).fill_null(False)
    rounds = (
        funding.filter(pl.col("announced_date").is_between(d365, as_of))
        .sort(["company_id", "announced_date", "round_type"])
        .group_by("company_id")
        .agg(
            f_n=fresh.sum(),
            f_type=pl.col("round_type").filter(fresh).last(),
            f_date=pl.col("announced_date").filter(fresh).last(),
            r_n=pl.len(),
            r_type=pl.col("round_type").last(),
            r_date=pl.col("announced_date").last(),
        )
    )
    return hiring, rounds


def _scored(companies: pl.LazyFrame, hiring: pl.LazyFrame, rounds: pl.LazyFrame) -> pl.LazyFrame:
    """Every company with both segments' includes (e), criteria (c, k), scores and segment."""
    ind = pl.col("industry").str.to_lowercase()
    tech = pl.col("technologies").list.eval(pl.element().str.to_lowercase())
    emp = pl.col("employees")
    stage = pl.col("funding_stage").str.to_lowercase()
    has = (tech.list.eval(pl.element().is_in(SIZE_STACK)).list.any()).fill_null(False)
    return (
        companies.join(hiring, on="company_id", how="left", maintain_order="left")
        .join(rounds, on="company_id", how="left", maintain_order="left")
        .with_columns(
            e0=(
                ind.is_in(["software", "fintech"])
                & emp.is_between(50, 1000)
                & pl.col("country").str.to_lowercase().is_in(["us", "ca"])
            ).fill_null(False)
            & ~(
                (stage == "public").fill_null(False)
                | tech.list.eval(pl.element() == "legacy-crm").list.any().fill_null(False)
            ),
            e1=(
                pl.col("country").str.to_lowercase().is_in([c.lower() for c in EMEA])
                & emp.is_between(200, 5000)
                & ind.is_in(EMEA_INDUSTRIES)
            ).fill_null(False)
            & ~(stage == "public").fill_null(False),
            c0=emp.is_between(50, 200).fill_null(False),
            c1=(stage == "series d").fill_null(False),
            c2=pl.col("technologies").is_null(),
            c3=has,
            c4=(pl.col("h60") >= 1).fill_null(False),
            c5=(pl.col("h60") >= 3).fill_null(False),
            c6=(pl.col("f_n") >= 1).fill_null(False),
            k0=tech.list.eval(pl.element().is_in(["salesforce", "hubspot", "dynamics"]))
            .list.any()
            .fill_null(False),
            k1=(pl.col("revenue_usd") >= 50_000_000).fill_null(False),
            k2=(pl.col("h90") >= 1).fill_null(False),
            k3=(pl.col("r_n") >= 1).fill_null(False),
        )
        .with_columns(
            s0=pl.col("c0").cast(pl.Int64) * 2
            - pl.col("c1").cast(pl.Int64)
            - pl.col("c2").cast(pl.Int64)
            + pl.col("c3").cast(pl.Int64) * 2
            + pl.col("c4").cast(pl.Int64)
            + pl.col("c5").cast(pl.Int64) * 2
            + pl.col("c6").cast(pl.Int64) * 2,
            s1=pl.col("k0").cast(pl.Int64) * 2
            + pl.col("k1").cast(pl.Int64)
            + pl.col("k2").cast(pl.Int64) * 2
            + pl.col("k3").cast(pl.Int64),
        )
        .with_columns(q0=pl.col("e0") & (pl.col("s0") >= 2), q1=pl.col("e1") & (pl.col("s1") >= 2))
        .with_columns(seg=pl.when("q0").then(0).when("q1").then(1).otherwise(None).cast(pl.Int32))
    )


def _postings(n: str, days: int) -> pl.Expr:
    noun = pl.when(pl.col(n) == 1).then(pl.lit("posting")).otherwise(pl.lit("postings"))
    return pl.format("{} {} in {}d", n, noun, pl.lit(days))


def _rounds(n: str, kind: str, date: str) -> pl.Expr:
    latest = pl.format(
        "{}, {}", pl.col(kind).fill_null("round"), pl.col(date).dt.strftime("%Y-%m-%d")
    )
    return (
        pl.when(pl.col(n) > 1).then(pl.format("{} rounds, latest {}", n, latest)).otherwise(latest)
    )


def _reasons() -> tuple[pl.Expr, pl.Expr]:
    """Each segment's reasons column, worded as listbuilder words them."""
    reasons0 = pl.concat_str(
        [
            pl.when("c0").then(pl.lit("core size band +2")),
            pl.when("c1").then(pl.lit("late stage -1")),
            pl.when("c2").then(pl.lit("no tech data -1")),
            pl.when("c3").then(pl.lit("modern go-to-market stack +2")),
            pl.when("c4").then(pl.format("hiring sellers +1 ({})", _postings("h60", 60))),
            pl.when("c5").then(pl.format("hiring a sales team +2 ({})", _postings("h60", 60))),
            pl.when("c6").then(
                pl.format("fresh funding +2 ({})", _rounds("f_n", "f_type", "f_date"))
            ),
        ],
        separator="; ",
        ignore_nulls=True,
    )
    reasons1 = pl.concat_str(
        [
            pl.when("k0").then(pl.lit("integrated CRM +2")),
            pl.when("k1").then(pl.lit("revenue over $50M +1")),
            pl.when("k2").then(pl.format("hiring sellers +2 ({})", _postings("h90", 90))),
            pl.when("k3").then(
                pl.format("recent round +1 ({})", _rounds("r_n", "r_type", "r_date"))
            ),
        ],
        separator="; ",
        ignore_nulls=True,
    )
    return reasons0, reasons1


def _write_segments(cand: pl.DataFrame, rest: list[str], out: Path) -> list[dict[str, object]]:
    """Tier, rank and write each segment's list; return each one's name and size."""
    reasons0, reasons1 = _reasons()
    plan = [
        (
            "core_saas",
            0,
            reasons0,
            [("Tier 1", 6, 50), ("Tier 2", 4, 500), ("Tier 3", 2, None)],
            5000,
        ),
        (
            "emea_mid_market",
            1,
            reasons1,
            [("Tier 1", 5, 30), ("Tier 2", 3, 300), ("Tier 3", 2, None)],
            3000,
        ),
    ]
    # The most each segment's criteria can give (their positive points).
    max_points = {0: 9, 1: 6}
    segments: list[dict[str, object]] = []
    for name, i, reasons, tiers, cap in plan:
        seg = cand.filter(pl.col("seg") == i).with_columns(score=pl.col(f"s{i}"))
        score = pl.col("score")
        listed = _tiers(seg.filter(~pl.col("x")), tiers, cap).with_columns(
            reasons=reasons,
            segment=pl.lit(name),
            # A true division (not by a scalar, which polars turns into a multiplication
            # by the reciprocal): the lists print the same percent to the last digit.
            percent=(score * 100).cast(pl.Float64) / (score * 0 + max_points[i]).cast(pl.Float64),
            fit_score=score,
            intent_score=pl.lit(0, pl.Int64),
        )
        listed = listed.select(
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
            pl.col("account_id").alias("crm_account_id"),
            pl.col("method").alias("crm_match_method"),
            pl.col("mscore").alias("crm_match_score"),
            *rest,
        )
        listed.write_parquet(out / f"{name}.parquet", statistics=False)
        write_csv(listed, out / f"{name}.csv")
        segments.append({"name": name, "listed": listed.height})
    return segments
