"""Backtest rules against closed deals: would the list have found the deals that were won?

Each closed deal's company is scored with the rules as of the deal's created date (signals
point in time, ``evidence.score_deals``) and placed in the tier its score reaches, or
counted as not listed. Per rules file and segment the report gives deals, win rate (95%
Wilson interval), lift over all deals' win rate and average won amount per tier, and how
well the score ranks winners above losers: the ROC AUC by the rank (Mann-Whitney) formula,
with a percentile bootstrap interval. Several rules files side by side answer "is the new
ICP better than the old one?".

Caps (``max_accounts``) are not applied, since they depend on every other account on a
list at that date, and neither is CRM suppression: every deal's account is in the CRM.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from listbuilder.build import check_inputs, missing_event_tables
from listbuilder.errors import ConfigError, RulesError
from listbuilder.evidence.deals import (
    Evidence,
    gather_evidence,
    money,
    percent,
    score_deals,
    wilson_interval,
)
from listbuilder.evidence.inference import Split, temporal_split
from listbuilder.files import atomic_directory, check_output_dir, write_csv
from listbuilder.inputs import read_event_tables, read_source
from listbuilder.rules import GrowthCriterion, Rules, load_rules

BOOTSTRAP_REPLICATES = 2000
BOOTSTRAP_SEED = 20261101
NOT_LISTED = "not listed"
ALL_TIERS = "all tiers"
ROW_COLUMNS = (
    "rules",
    "segment",
    "tier",
    "min_score",
    "deals",
    "won",
    "lost",
    "win_rate",
    "ci_low",
    "ci_high",
    "lift",
    "avg_won_amount",
    "auc",
    "auc_low",
    "auc_high",
)


@dataclass(frozen=True)
class Auc:
    """ROC AUC with its bootstrap interval; NaN where it cannot be computed."""

    value: float
    low: float
    high: float

    def text(self) -> str:
        """``0.64 (0.62-0.66)``, or ``-``."""
        if math.isnan(self.value):
            return "-"
        return f"{self.value:.3f} ({self.low:.3f}-{self.high:.3f})"


@dataclass(frozen=True)
class RulesBacktest:
    """One rules file's backtest: a row per tier, segment, and the not-listed deals."""

    path: str
    sha256: str
    rows: pl.DataFrame
    listed: dict[str, Any]
    not_listed: dict[str, Any]
    auc: Auc


@dataclass(frozen=True)
class Backtest:
    """Every rules file's backtest on the same deals."""

    evidence: Evidence
    baseline: dict[str, Any]
    results: list[RulesBacktest]
    replicates: int
    seed: int
    split: Split | None = None


def roc_auc(score: pl.Series, won: pl.Series) -> float:
    """ROC AUC by the rank formula: (sum of winners' ranks - P(P+1)/2) / (P * N).

    Ties get their average rank, so a tie between a winner and a loser counts one half:
    the probability that a random winner scores above a random loser.
    """
    frame = pl.DataFrame({"s": score, "w": won})
    row = frame.select(
        pos=pl.col("w").sum().cast(pl.Float64),
        neg=(~pl.col("w")).sum().cast(pl.Float64),
        ranks=pl.col("s").rank("average").filter(pl.col("w")).sum(),
    ).row(0, named=True)
    if not row["pos"] or not row["neg"]:
        return math.nan
    return (row["ranks"] - row["pos"] * (row["pos"] + 1) / 2) / (row["pos"] * row["neg"])


def bootstrap_auc(
    score: pl.Series,
    won: pl.Series,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = BOOTSTRAP_SEED,
) -> Auc:
    """ROC AUC with a 95% percentile interval from resampling the deals with replacement.

    Resampling n deals with replacement draws each distinct (score, outcome) cell a
    multinomial number of times, so every replicate is one multinomial draw over the
    cells and the AUC follows from cumulative counts: thousands of replicates cost
    milliseconds whatever the number of deals. The generator is seeded: the interval is
    the same on every run.
    """
    point = roc_auc(score, won)
    if math.isnan(point):
        return Auc(math.nan, math.nan, math.nan)
    cells = (
        pl.DataFrame({"s": score, "w": won})
        .group_by("s")
        .agg(pos=pl.col("w").sum(), neg=(~pl.col("w")).sum())
        .sort("s")
    )
    pos = cells.get_column("pos").to_numpy().astype(np.float64)
    neg = cells.get_column("neg").to_numpy().astype(np.float64)
    k = len(pos)
    counts = np.concatenate([pos, neg])
    n = int(counts.sum())
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n, size=replicates).astype(np.float64)
    p, q = draws[:, :k], draws[:, k:]
    below = np.cumsum(q, axis=1) - q  # losers scoring strictly less, per score level
    wins = (p * (below + 0.5 * q)).sum(axis=1)
    pairs = p.sum(axis=1) * q.sum(axis=1)
    ok = pairs > 0
    values = wins[ok] / pairs[ok]
    low, high = np.quantile(values, [0.025, 0.975])
    return Auc(point, float(low), float(high))


def _stats(frame: pl.DataFrame, baseline_rate: float) -> dict[str, Any]:
    n = frame.height
    won = int(frame.get_column("is_won").sum()) if n else 0
    amounts = frame.filter(pl.col("is_won")).get_column("amount").drop_nulls()
    rate = won / n if n else math.nan
    low, high = wilson_interval(won, n)
    return {
        "deals": n,
        "won": won,
        "lost": n - won,
        "win_rate": rate,
        "ci_low": low,
        "ci_high": high,
        "lift": rate / baseline_rate if n else math.nan,
        "avg_won_amount": float(amounts.mean()) if amounts.len() else math.nan,  # type: ignore[arg-type]
    }


def backtest_rules(
    rules: Rules,
    evidence: Evidence,
    baseline_rate: float,
    *,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = BOOTSTRAP_SEED,
) -> RulesBacktest:
    """Score the deals with ``rules`` and tabulate tiers, segments and the not-listed."""
    scored = score_deals(rules, evidence)
    rows: list[dict[str, Any]] = []
    nan_auc = {"auc": math.nan, "auc_low": math.nan, "auc_high": math.nan}
    for i, seg in enumerate(rules.segments):
        in_seg = scored.filter(pl.col("_seg") == i)
        for ix, tier in enumerate(seg.tiers):
            part = in_seg.filter(pl.col("_tier") == ix)
            stats = _stats(part, baseline_rate)
            rows.append(
                {
                    "segment": seg.name,
                    "tier": tier.name,
                    "min_score": tier.min_score,
                    **stats,
                    **nan_auc,
                }
            )
        # How well this segment's score ranks winners among the deals it admits.
        eligible = scored.filter(pl.col(f"_elig{i}"))
        auc = bootstrap_auc(
            eligible.get_column(f"_score{i}"), eligible.get_column("is_won"), replicates, seed
        )
        rows.append(
            {
                "segment": seg.name,
                "tier": ALL_TIERS,
                "min_score": seg.min_score,
                **_stats(in_seg, baseline_rate),
                "auc": auc.value,
                "auc_low": auc.low,
                "auc_high": auc.high,
            }
        )
    not_listed = _stats(scored.filter(pl.col("_seg").is_null()), baseline_rate)
    rows.append({"segment": "", "tier": NOT_LISTED, "min_score": None, **not_listed, **nan_auc})
    listed = _stats(scored.filter(pl.col("_seg").is_not_null()), baseline_rate)
    # The list as a ranking: Tier 1 above Tier 2 above ... above not listed.
    level = -pl.col("_tier").fill_null(len(max((s.tiers for s in rules.segments), key=len)))
    overall_auc = bootstrap_auc(
        scored.select(level.cast(pl.Int64)).to_series(),
        scored.get_column("is_won"),
        replicates,
        seed,
    )
    frame = pl.DataFrame(
        [{"rules": rules.path, **r} for r in rows],
        schema={
            "rules": pl.String,
            "segment": pl.String,
            "tier": pl.String,
            "min_score": pl.Int64,
            "deals": pl.Int64,
            "won": pl.Int64,
            "lost": pl.Int64,
            "win_rate": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "lift": pl.Float64,
            "avg_won_amount": pl.Float64,
            "auc": pl.Float64,
            "auc_low": pl.Float64,
            "auc_high": pl.Float64,
        },
    ).with_columns(pl.col(pl.Float64).fill_nan(None))
    return RulesBacktest(rules.path, rules.sha256, frame, listed, not_listed, overall_auc)


def backtest_evidence(
    rules_list: Sequence[Rules],
    evidence: Evidence,
    *,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = BOOTSTRAP_SEED,
    holdout: float = 0.0,
) -> Backtest:
    """Backtest each rules file on the same deals against the same baseline.

    ``holdout`` above 0 keeps only the newest share of deals by created date, split as
    ``profile`` splits them (``inference.temporal_split``): rules proposed by ``profile``
    with the same ``--holdout`` are then judged on deals they were not fitted on.

    Raises:
        RulesError: A rules file reads an event table the evidence was not gathered with.
    """
    for rules in rules_list:
        missing = missing_event_tables(rules, evidence.events)
        if missing:
            raise RulesError(rules.path, missing)
    split = None
    if holdout > 0:
        mask, split = temporal_split(evidence.deals.get_column("created_date"), holdout)
        evidence = dataclasses.replace(evidence, deals=evidence.deals.filter(pl.Series(mask)))
    deals = evidence.deals
    baseline = _stats(deals, 1.0)
    baseline["lift"] = 1.0
    results = [
        backtest_rules(r, evidence, baseline["win_rate"], replicates=replicates, seed=seed)
        for r in rules_list
    ]
    return Backtest(evidence, baseline, results, replicates, seed, split)


def run_backtest(
    *,
    rules_paths: Sequence[str | Path],
    companies_path: str | Path,
    crm_path: str | Path,
    opportunities_path: str | Path,
    out: str | Path,
    jobs_path: str | Path | None = None,
    funding_path: str | Path | None = None,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = BOOTSTRAP_SEED,
    holdout: float = 0.0,
    matches: str | Path | None = None,
    events_paths: Mapping[str, str | Path] | None = None,
) -> Backtest:
    """Read the inputs, backtest every rules file and write backtest.csv and .json.

    ``holdout``: judge on the newest share of deals only (see ``backtest_evidence``);
    ``matches``: a stored ``listbuilder match`` run used instead of matching again.

    Raises:
        ConfigError: No rules file, or fewer than 100 bootstrap replicates.
        RulesError: A rules file is invalid or does not fit the data.
        DataError: The deals cannot be used (see ``evidence.prepare_deals``).
    """
    if not rules_paths:
        raise ConfigError("backtest needs at least one --rules file")
    if replicates < 100:
        raise ConfigError(f"--bootstrap must be at least 100 replicates, got {replicates}")
    check_output_dir(out, "backtest")
    rules_list = [load_rules(p) for p in rules_paths]
    companies = read_source(companies_path, "companies")
    tables = read_event_tables(jobs_path, funding_path, events_paths)
    for rules in rules_list:
        check_inputs(rules, companies, events=tables)
    reads = [c for r in rules_list for c in r.event_reads()]
    widest = max([c.within_days for c in reads] or [0])
    evidence = gather_evidence(
        companies,
        read_source(crm_path, "crm"),
        read_source(opportunities_path, "opportunities"),
        widest_days=widest,
        matches=matches,
        events=tables,
        whole_history=frozenset(c.table for c in reads if isinstance(c, GrowthCriterion)),
    )
    if not 0 <= holdout < 1:
        raise ConfigError(f"--holdout must be at least 0 and below 1, got {holdout}")
    result = backtest_evidence(
        rules_list, evidence, replicates=replicates, seed=seed, holdout=holdout
    )
    write_backtest(result, out)
    return result


def table(result: Backtest) -> pl.DataFrame:
    """Every rules file's rows in one frame, the baseline first."""
    base = pl.DataFrame(
        [{"rules": "", "segment": "", "tier": "all deals", "min_score": None, **result.baseline}],
        schema_overrides={"min_score": pl.Int64},
    )
    return pl.concat([base, *(r.rows for r in result.results)], how="diagonal_relaxed").select(
        ROW_COLUMNS
    )


def write_backtest(result: Backtest, out: str | Path) -> None:
    """Write backtest.csv (the table) and backtest.json (the same, with the inputs)."""
    frame = table(result)
    rounded = frame.with_columns(
        pl.col(c).round(2 if c == "avg_won_amount" else 4)
        for c, t in frame.schema.items()
        if t == pl.Float64
    )
    with atomic_directory(out, "backtest") as tmp:
        write_csv(rounded, tmp / "backtest.csv")
        (tmp / "backtest.json").write_text(
            json.dumps(_json(result), indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def _json(result: Backtest) -> dict[str, Any]:
    return {
        "deals": result.evidence.quality.as_dict(),
        "baseline": {k: _clean(v) for k, v in result.baseline.items()},
        "bootstrap": {"replicates": result.replicates, "seed": result.seed},
        "holdout": _split_json(result.split),
        "rules": [
            {
                "path": r.path,
                "sha256": r.sha256,
                "listed": {k: _clean(v) for k, v in r.listed.items()},
                "not_listed": {k: _clean(v) for k, v in r.not_listed.items()},
                "auc": {
                    "value": _clean(r.auc.value),
                    "low": _clean(r.auc.low),
                    "high": _clean(r.auc.high),
                },
                "rows": [
                    {k: _clean(v) for k, v in row.items()}
                    for row in r.rows.drop("rules").to_dicts()
                ],
            }
            for r in result.results
        ],
    }


def _split_json(split: Split | None) -> dict[str, Any] | None:
    if split is None:
        return None
    return {
        "created_from": split.cutoff.isoformat() if split.cutoff else None,
        "deals": split.holdout,
        "share": round(split.share, 6),
    }


def _aligned(rows: list[list[str]], left: int = 1) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i < left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _rate(row: dict[str, Any]) -> str:
    if not row["deals"]:
        return "-"
    return f"{percent(row['win_rate'])} ({row['ci_low']:.0%}-{row['ci_high']:.0%})"


def format_backtest(result: Backtest) -> str:
    """The terminal report: one line per rules file, then every tier of each."""
    base = result.baseline
    held = ""
    if result.split is not None:
        held = f" (held out: created {result.split.cutoff} or later)"
    lines = [
        *result.evidence.quality.lines(),
        "",
        f"baseline{held}: {base['deals']:,} closed deals, win rate {percent(base['win_rate'])}, "
        f"average won amount {money(base['avg_won_amount'])}",
        "",
    ]
    summary = [
        ["rules", "listed", "win rate", "lift", "not listed", "win rate", "lift", "AUC (95% CI)"]
    ]
    for r in result.results:
        summary.append(
            [
                r.path,
                f"{r.listed['deals']:,}",
                percent(r.listed["win_rate"]),
                _lift(r.listed["lift"]),
                f"{r.not_listed['deals']:,}",
                percent(r.not_listed["win_rate"]),
                _lift(r.not_listed["lift"]),
                r.auc.text(),
            ]
        )
    lines += _aligned(summary)
    for r in result.results:
        rows = [
            [
                "segment",
                "tier",
                "min",
                "deals",
                "won",
                "win rate (95% CI)",
                "lift",
                "avg won",
                "AUC (95% CI)",
            ]
        ]
        for row in r.rows.iter_rows(named=True):
            auc = Auc(
                row["auc"] if row["auc"] is not None else math.nan,
                row["auc_low"] or 0,
                row["auc_high"] or 0,
            )
            rows.append(
                [
                    row["segment"],
                    row["tier"],
                    "" if row["min_score"] is None else str(row["min_score"]),
                    f"{row['deals']:,}",
                    f"{row['won']:,}",
                    _rate(row),
                    _lift(row["lift"]),
                    money(row["avg_won_amount"]),
                    auc.text() if row["tier"] == ALL_TIERS else "",
                ]
            )
        lines += ["", r.path, *_aligned(rows, left=2)]
    return "\n".join(lines)


def _lift(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.2f}"
