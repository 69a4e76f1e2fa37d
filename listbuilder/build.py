"""The list build: sources -> rules -> CRM match -> tiers -> files.

``build_lists`` does the work on frames and returns them; ``run_build`` reads the inputs,
calls it and writes the run directory atomically. The whole-dataset part (signals,
eligibility, scores, segment choice, funnel counts) is one lazy query; only the accounts
that qualify for a segment are materialised, so CRM matching and tiering cost follows the
size of the lists rather than of the dataset.
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from listbuilder.errors import DataError, RulesError
from listbuilder.io import atomic_directory, sha256_of, write_csv
from listbuilder.matching import match_crm
from listbuilder.rules import Rules, Segment, load_rules
from listbuilder.scoring import reasons_expr, score_companies
from listbuilder.sources import Source, read_source
from listbuilder.tiers import TierPlan, assign_tiers

LEAD_COLUMNS = ("segment", "tier", "rank", "score", "reasons", "company_id", "name", "domain")
CRM_COLUMNS = ("crm_account_id", "crm_match_method", "crm_match_score")
_SIGNAL_TABLE = {"hiring": "jobs", "funding": "funding"}


@dataclass(frozen=True)
class SegmentList:
    """One segment's finished list and the counts that explain its size."""

    segment: Segment
    frame: pl.DataFrame
    funnel: dict[str, int]
    plans: list[TierPlan]


@dataclass(frozen=True)
class BuildResult:
    """Everything a build produces, before it is written anywhere."""

    as_of: dt.date
    companies_read: int
    lists: list[SegmentList]
    suppressed: pl.DataFrame
    event_rows: dict[str, int]


def _best_crm_match(
    candidates: pl.DataFrame, crm: pl.DataFrame, exclude_status: tuple[str, ...]
) -> pl.DataFrame:
    """One row per matched company: the suppressing account if any, else the best match."""
    keys = [c for c in ("company_id", "name", "domain", "country") if c in candidates.columns]
    pairs = match_crm(candidates.select(keys), crm)
    accounts = crm.select(
        "account_id",
        crm_status=pl.col("status"),
        crm_name=pl.col("name"),
        crm_domain=pl.col("domain"),
    )
    return (
        pairs.join(accounts, on="account_id", how="inner")
        .with_columns(
            _excluded=pl.col("crm_status")
            .str.to_lowercase()
            .is_in(list(exclude_status))
            .fill_null(False)
        )
        # A customer among several matches must win: never pitch a customer.
        .sort(
            ["company_id", "_excluded", "score", "account_id"],
            descending=[False, True, True, False],
        )
        .unique("company_id", keep="first", maintain_order=True)
        .select(
            "company_id",
            "_excluded",
            "crm_status",
            "crm_name",
            "crm_domain",
            crm_account_id=pl.col("account_id"),
            crm_match_method=pl.col("method"),
            crm_match_score=pl.col("score"),
        )
    )


def build_lists(
    rules: Rules,
    companies: pl.LazyFrame,
    *,
    as_of: dt.date,
    jobs: pl.LazyFrame | None = None,
    funding: pl.LazyFrame | None = None,
    crm: pl.DataFrame | None = None,
) -> BuildResult:
    """Score, qualify, dedupe against the CRM and tier every segment's list.

    Args:
        rules: Parsed rules (check them against the data first with ``check_inputs``).
        companies: Companies in the canonical schema.
        as_of: Signal windows end on this date; later events are ignored.
        jobs: Job postings, needed when a rule uses the ``hiring`` signal.
        funding: Funding rounds, needed when a rule uses the ``funding`` signal.
        crm: CRM accounts (``account_id``, ``name``, ``domain``, ``status``).
    """
    company_columns = list(companies.collect_schema())
    events = {k: v for k, v in (("hiring", jobs), ("funding", funding)) if v is not None}
    segs = rules.segments
    lf = score_companies(rules, companies, events, as_of)
    counts_q = lf.select(
        pl.len().alias("read"),
        *(pl.col(f"_elig{i}").sum().alias(f"eligible{i}") for i in range(len(segs))),
        *(pl.col(f"_qual{i}").sum().alias(f"qualified{i}") for i in range(len(segs))),
    )
    queries = [counts_q, lf.filter(pl.col("_seg").is_not_null())]
    queries += [frame.select(pl.len()) for frame in events.values()]
    counts_df, candidates, *event_lens = pl.collect_all(queries)
    counts = counts_df.row(0, named=True)

    if crm is not None and candidates.height:
        candidates = candidates.join(
            _best_crm_match(candidates, crm, rules.exclude_status),
            on="company_id",
            how="left",
            maintain_order="left",
        ).with_columns(pl.col("_excluded").fill_null(False))
    else:
        candidates = candidates.with_columns(
            _excluded=pl.lit(False),
            crm_status=pl.lit(None, pl.String),
            crm_name=pl.lit(None, pl.String),
            crm_domain=pl.lit(None, pl.String),
            crm_account_id=pl.lit(None, pl.String),
            crm_match_method=pl.lit(None, pl.String),
            crm_match_score=pl.lit(None, pl.Float64),
        )

    rest = [c for c in company_columns if c not in LEAD_COLUMNS]
    lists = []
    suppressed_parts = []
    for i, seg in enumerate(segs):
        assigned = candidates.filter(pl.col("_seg") == i).with_columns(
            score=pl.col(f"_score{i}"), segment=pl.lit(seg.name)
        )
        suppressed = assigned.filter(pl.col("_excluded"))
        ranked = assigned.filter(~pl.col("_excluded")).sort(
            ["score", "company_id"], descending=[True, False], maintain_order=True
        )
        listed, plans = assign_tiers(ranked, seg.tiers, seg.max_accounts)
        listed = listed.with_columns(reasons=reasons_expr(seg, i)).select(
            *LEAD_COLUMNS, *CRM_COLUMNS, *rest
        )
        suppressed_parts.append(
            suppressed.sort(["score", "company_id"], descending=[True, False]).select(
                "company_id",
                "name",
                "domain",
                "segment",
                "score",
                "crm_account_id",
                "crm_status",
                "crm_name",
                "crm_domain",
                "crm_match_method",
                "crm_match_score",
            )
        )
        funnel = {
            "companies_read": counts["read"],
            "eligible": counts[f"eligible{i}"],
            "qualified": counts[f"qualified{i}"],
            "taken_by_earlier_segment": counts[f"qualified{i}"] - assigned.height,
            "suppressed_by_crm": suppressed.height,
            "listed": listed.height,
            "not_listed_caps": ranked.height - listed.height,
        }
        lists.append(SegmentList(seg, listed, funnel, plans))
    return BuildResult(
        as_of=as_of,
        companies_read=counts["read"],
        lists=lists,
        suppressed=pl.concat(suppressed_parts),
        event_rows={
            _SIGNAL_TABLE[name]: df.item() for name, df in zip(events, event_lens, strict=True)
        },
    )


RESERVED = {"segment", "tier", "rank", "score", "reasons", *CRM_COLUMNS}


def check_inputs(
    rules: Rules, companies: Source, jobs: Source | None, funding: Source | None
) -> None:
    """Check the rules against the data's columns before any data is read.

    Raises:
        RulesError: A rule names a column the data lacks, or a signal without its table.
        DataError: The companies data uses a column name the lists reserve.
    """
    rules.check_against(companies.schema, companies.path)
    clash = sorted(RESERVED & set(companies.schema))
    if clash:
        raise DataError(
            f"companies file {companies.path} has column(s) {', '.join(clash)}, which the "
            "lists write themselves; rename them in the data or the source mapping"
        )
    problems = []
    tables = {"hiring": jobs, "funding": funding}
    flags = {"hiring": "--jobs", "funding": "--funding"}
    for criterion in rules.signals():
        source = tables[criterion.signal]
        if source is None:
            problems.append(
                f"{criterion.path}.signal: `{criterion.signal}` needs the "
                f"{_SIGNAL_TABLE[criterion.signal]} table; pass {flags[criterion.signal]}"
            )
            continue
        needed = []
        if criterion.departments:
            needed.append("department")
        if criterion.round_types:
            needed.append("round_type")
        if criterion.min_amount_usd is not None:
            needed.append("amount_usd")
        needed += ["round_type"] if criterion.signal == "funding" else []
        for column in dict.fromkeys(needed):
            if column not in source.schema:
                problems.append(
                    f"{criterion.path}: needs column `{column}` in {source.path}; "
                    f"it has: {', '.join(source.schema)}"
                )
    if problems:
        raise RulesError(rules.path, problems)


def run_build(
    *,
    rules_path: str | Path,
    companies_path: str | Path,
    out: str | Path,
    as_of: dt.date,
    jobs_path: str | Path | None = None,
    funding_path: str | Path | None = None,
    crm_path: str | Path | None = None,
) -> dict[str, Any]:
    """Read the inputs, build every segment's list and write the run directory.

    The run directory ``out`` is replaced whole on success and untouched on failure.
    Returns the summary that is also written to ``summary.json``.
    """
    rules = load_rules(rules_path)
    companies = read_source(companies_path, "companies")
    jobs = read_source(jobs_path, "jobs") if jobs_path else None
    funding = read_source(funding_path, "funding") if funding_path else None
    crm = read_source(crm_path, "crm") if crm_path else None
    check_inputs(rules, companies, jobs, funding)
    sources = [s for s in (companies, jobs, funding, crm) if s is not None]
    # Hashing hundreds of MB is I/O the query does not need to wait for.
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashes = {s.role: pool.submit(sha256_of, list(s.files)) for s in sources}
        try:
            crm_df = crm.frame.collect() if crm else None
            result = build_lists(
                rules,
                companies.frame,
                as_of=as_of,
                jobs=jobs.frame if jobs else None,
                funding=funding.frame if funding else None,
                crm=crm_df,
            )
        except pl.exceptions.PolarsError as exc:
            raise DataError(f"could not process the input data: {_one_line(exc)}") from None
        rows = {"companies": result.companies_read, **result.event_rows}
        if crm_df is not None:
            rows["crm"] = crm_df.height
        summary = _summary(rules, result, sources, rows, hashes)
    write_run(result, summary, out)
    return summary


def _summary(
    rules: Rules,
    result: BuildResult,
    sources: list[Source],
    rows: dict[str, int],
    hashes: dict[str, Future[str]],
) -> dict[str, Any]:
    return {
        "as_of": result.as_of.isoformat(),
        "rules": {"path": rules.path, "sha256": rules.sha256},
        "inputs": {
            s.role: {"path": s.path, "rows": rows.get(s.role), "sha256": hashes[s.role].result()}
            for s in sources
        },
        "segments": [
            {
                "name": sl.segment.name,
                "description": sl.segment.description,
                "file": f"{sl.segment.name}.parquet",
                "funnel": sl.funnel,
                "tiers": {p.name: p.size for p in sl.plans},
            }
            for sl in result.lists
        ],
        "suppressed": result.suppressed.height,
    }


def write_run(result: BuildResult, summary: dict[str, Any], out: str | Path) -> None:
    """Write lists, suppressed accounts and the summary; replace ``out`` only on success."""
    with atomic_directory(out) as tmp:
        for sl in result.lists:
            sl.frame.write_parquet(tmp / f"{sl.segment.name}.parquet", statistics=False)
            write_csv(sl.frame, tmp / f"{sl.segment.name}.csv")
        write_csv(result.suppressed, tmp / "suppressed.csv")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def format_summary(summary: dict[str, Any]) -> str:
    """A small aligned table of each segment's funnel, for the terminal."""
    tier_names: list[str] = []
    for seg in summary["segments"]:
        tier_names += [t for t in seg["tiers"] if t not in tier_names]
    header = ["segment", "eligible", "qualified", "suppressed", *tier_names, "listed"]
    rows = [header]
    for seg in summary["segments"]:
        f = seg["funnel"]
        rows.append(
            [
                seg["name"],
                f"{f['eligible']:,}",
                f"{f['qualified']:,}",
                f"{f['suppressed_by_crm']:,}",
                *(f"{seg['tiers'].get(t, 0):,}" if t in seg["tiers"] else "-" for t in tier_names),
                f"{f['listed']:,}",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    read = summary["inputs"]["companies"]["rows"]
    return "\n".join([f"as of {summary['as_of']}: {read:,} companies read", *lines])


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:500]
