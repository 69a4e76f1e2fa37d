"""Benchmark `listbuilder match`: 1,000,000 companies against 200,000 CRM accounts.

Usage:
    python benchmarks/bench_match.py [--data DIR] [--repeat N]

Generates the dataset into DIR if it is not there (data/generate with 1,000,000
companies and 200,000 CRM accounts: 60% of the accounts are dataset companies written
differently, with legal forms, punctuation, case, typos, short names, URL and e-mail
domains and missing domains; 40% are organisations outside the dataset). Then runs
`listbuilder -v match` N times, each in a fresh process, and reports for each run and as
medians:

- wall time and peak resident memory of the process;
- the candidate pairs blocking let through and the time spent scoring them, from the
  run's own stage log and summary.json;
- the all-pairs estimate: that run's scoring time per compared pair times every
  company-account pair (1,000,000 x 200,000), i.e. what comparing without blocking
  would have cost at the same speed;
- precision and recall of matches.csv against the generator's crm_truth.csv;
- blocking recall: the share of the true pairs that blocking (or the same domain) puts
  forward to be compared at all, measured once in this process.

Not part of the test suite: timings belong in a quiet machine's report, not in a
pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"companies": 1_000_000, "crm": 200_000, "jobs": 1_000, "funding": 1_000}
SCORING_LINE = re.compile(r"scoring candidate pairs: ([0-9.]+)s(?:, ([0-9,]+) rows)?")


def ensure_data(data: Path) -> None:
    """Generate the benchmark dataset unless it is already there."""
    if (data / "companies.parquet").exists() and (data / "crm.csv").exists():
        return
    cmd = [sys.executable, str(ROOT / "data" / "generate"), "--out", str(data)]
    for key, value in SIZES.items():
        cmd += [f"--{key}", str(value)]
    print("generating", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True)


def one_run(data: Path, out: Path) -> dict[str, float]:
    """Run `listbuilder -v match` once in a fresh process; its figures."""
    cmd = [sys.executable, "-m", "listbuilder", "-v", "match"]
    cmd += ["--companies", str(data / "companies.parquet"), "--crm", str(data / "crm.csv")]
    cmd += ["--out", str(out)]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        stderr = log.read()
    if proc.returncode != 0:
        raise SystemExit(f"listbuilder match failed:\n{stderr}")
    scoring = SCORING_LINE.search(stderr)
    if scoring is None:
        raise SystemExit(f"no scoring stage in the log:\n{stderr}")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    pairs = summary["blocking"]["candidate_pairs"]
    all_pairs = summary["companies"]["rows"] * summary["crm"]["accounts"]
    scoring_seconds = float(scoring.group(1))
    per_pair = scoring_seconds / max(pairs, 1)
    precision, recall = accuracy(data, out)
    return {
        "seconds": seconds,
        # ru_maxrss is in kilobytes on Linux.
        "peak_mb": usage.ru_maxrss / 1024,
        "candidate_pairs": pairs,
        "all_pairs": all_pairs,
        "scoring_seconds": scoring_seconds,
        "seconds_per_pair": per_pair,
        "all_pairs_seconds": per_pair * all_pairs,
        "precision": precision,
        "recall": recall,
    }


def accuracy(data: Path, out: Path) -> tuple[float, float]:
    """Precision and recall of matches.csv against the generator's truth."""
    matches = pl.read_csv(out / "matches.csv", infer_schema=False)
    truth = pl.read_csv(data / "crm_truth.csv", infer_schema=False).drop_nulls("company_id")
    right = matches.join(truth, on=["account_id", "company_id"], how="semi").height
    return right / max(matches.height, 1), right / max(truth.height, 1)


def blocking_recall(data: Path) -> float:
    """The share of crm_truth.csv's pairs that the same domain or blocking puts forward."""
    from listbuilder.match import candidate_pairs, prepare
    from listbuilder.match.model import MAX_BLOCK_PAIRS

    companies = pl.read_parquet(data / "companies.parquet").select(
        "company_id", "name", "domain", "country"
    )
    crm = pl.read_csv(data / "crm.csv", infer_schema=False)
    left, right = pl.collect_all([prepare(companies, "company_id"), prepare(crm, "account_id")])
    same_domain = (
        left.filter(pl.col("dom").is_not_null())
        .select(ci="idx", dom="dom")
        .join(right.select(ai="idx", dom="dom"), on="dom")
        .select("ci", "ai")
    )
    named = pl.col("norm").is_not_null()
    blocks = candidate_pairs(
        left.filter(named).lazy(), right.filter(named).lazy(), max_block_pairs=MAX_BLOCK_PAIRS
    )
    found = pl.concat([same_domain, blocks.pairs]).unique()
    truth = (
        pl.read_csv(data / "crm_truth.csv", infer_schema=False)
        .drop_nulls("company_id")
        .join(left.select(ci="idx", company_id="id"), on="company_id")
        .join(right.select(ai="idx", account_id="id"), on="account_id")
    )
    return truth.join(found, on=["ci", "ai"], how="semi").height / max(truth.height, 1)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "matchbench")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ensure_data(args.data)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            record = one_run(args.data, Path(tmp) / f"run{i}")
            runs.append(record)
            print(
                f"run {i + 1}: {record['seconds']:6.1f} s wall, {record['peak_mb']:6.0f} MB peak, "
                f"{record['candidate_pairs']:,} pairs scored in {record['scoring_seconds']:.1f} s",
                flush=True,
            )
    med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    print()
    print(f"companies x CRM accounts     {SIZES['companies']:,} x {SIZES['crm']:,}")
    print(f"wall time (median)           {med['seconds']:.1f} s")
    print(f"peak memory (median)         {med['peak_mb']:,.0f} MB")
    print(f"candidate pairs compared     {med['candidate_pairs']:,.0f}")
    print(f"scoring time                 {med['scoring_seconds']:.1f} s")
    print(f"time per compared pair       {med['seconds_per_pair'] * 1e6:.2f} us")
    print(
        f"all pairs ({med['all_pairs']:,.0f})   "
        f"{_duration(med['all_pairs_seconds'])} at the same speed"
    )
    print(f"pairs saved by blocking      {1 - med['candidate_pairs'] / med['all_pairs']:.4%}")
    print(f"precision / recall           {med['precision']:.4f} / {med['recall']:.4f}")
    print(f"blocking recall              {blocking_recall(args.data):.4f}")


if __name__ == "__main__":
    main()
