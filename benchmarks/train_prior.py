"""Train the matching model's shipped prior (``listbuilder/match/prior.json``).

Usage:
    python benchmarks/train_prior.py

The prior is what a run too small to estimate from uses, and what every run's estimates
are pulled towards. It is trained on labelled sets whose truth is known: the matching
benchmark in ``tests/data`` (hand-written cases and generated ones) and the sample CRM
against the sample companies (``data/crm_truth.csv``). ``m`` is each level's share among
the true pairs, ``u`` its share among random pairs, and lambda the share of true pairs
among all pairs. The real-name benchmark (``tests/test_match_benchmark.py``) is not used:
it stays a held-out check. Deterministic: running it again writes the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from listbuilder.match import FIELDS, Model, compare, prepare
from listbuilder.match.model import random_pairs

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "listbuilder" / "match" / "prior.json"
# Added to every level's count, so no level the training set never shows weighs infinity.
SMOOTHING = 0.5


def labelled_sets() -> list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """(companies, crm, truth with ``company_id``/``account_id``) for each training set."""
    data = ROOT / "tests" / "data"
    bench = (
        pl.read_csv(data / "match_companies.csv", infer_schema=False),
        pl.read_csv(data / "match_crm.csv", infer_schema=False),
        pl.read_csv(data / "match_truth.csv", infer_schema=False),
    )
    sample = (
        pl.read_parquet(ROOT / "data" / "companies.parquet").select(
            "company_id", "name", "domain", "country"
        ),
        pl.read_csv(ROOT / "data" / "crm.csv", infer_schema=False),
        pl.read_csv(ROOT / "data" / "crm_truth.csv", infer_schema=False),
    )
    return [bench, sample]


def levels_of(
    pairs: pl.DataFrame, left: pl.DataFrame, right: pl.DataFrame
) -> dict[str, np.ndarray]:
    out = compare(pairs, left, right)
    return {f: out[f].to_numpy() for f in FIELDS}


def shares(levels: list[dict[str, np.ndarray]]) -> dict[str, list[float]]:
    result = {}
    for f, names in FIELDS.items():
        counts = sum(np.bincount(lv[f], minlength=len(names)) for lv in levels)
        counts = counts[: len(names)].astype(np.float64) + SMOOTHING
        counts[-1] = 0.0
        share = counts / counts.sum()
        share[-1] = 1.0
        result[f] = [round(float(x), 8) for x in share]
    return result


def train() -> Model:
    true_levels, random_levels = [], []
    n_true = n_total = 0
    for companies, crm, truth in labelled_sets():
        left = prepare(companies, "company_id").collect()
        right = prepare(crm, "account_id").collect()
        true = (
            truth.filter(pl.col("company_id").is_not_null() & (pl.col("company_id") != ""))
            .join(left.select(ci="idx", company_id="id"), on="company_id")
            .join(right.select(ai="idx", account_id="id"), on="account_id")
            .select("ci", "ai")
        )
        true_levels.append(levels_of(true, left, right))
        # True pairs drawn at random are left out: u describes pairs that are not one.
        sample = random_pairs(left.height, right.height).join(true, on=["ci", "ai"], how="anti")
        random_levels.append(levels_of(sample, left, right))
        n_true += true.height
        n_total += left.height * right.height
    m, u = shares(true_levels), shares(random_levels)
    return Model(
        {f: tuple(v) for f, v in m.items()},
        {f: tuple(v) for f, v in u.items()},
        round(n_true / n_total, 12),
    )


def main() -> None:
    model = train()
    data = model.to_dict()
    data.pop("source")
    OUT.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    weights = model.weights()
    print(f"wrote {OUT}; prior weight {model.prior_weight():+.2f}")
    for f, names in FIELDS.items():
        print(
            f"  {f}: " + ", ".join(f"{n} {w:+.1f}" for n, w in zip(names, weights[f], strict=True))
        )


if __name__ == "__main__":
    main()
