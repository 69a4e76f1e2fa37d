"""Benchmark a build that reads a 50-million-row intent table.

Usage:
    python benchmarks/bench_intent.py [--data DIR] [--rows N] [--repeat N]

Uses the build benchmark's companies (5,000,000; generated into DIR as bench_build.py
does if missing) and writes an intent table of N rows (default 50,000,000: company, date,
topic) into DIR/intent/ as ten parquet files, chunk by chunk, so writing it never holds the
whole table either. Then runs a build whose rules read it with three criteria (a count, a
`min_distinct` over topics, and a `contains` on the topic) and an exclude test, each in a
fresh process, and reports the wall time and peak resident memory beside the table's size
in memory. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_build import ensure_data  # noqa: E402

AS_OF = dt.date(2026, 11, 1)
TOPICS = [
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
]
RULES = """
[[segments]]
name = "in_market"
max_accounts = 5000

[segments.include]
employees = { min = 50, max = 5000 }

[segments.exclude]
signals = [{ signal = "intent", within_days = 7, where = { topic = ["payroll"] }, min_count = 5 }]

[[segments.score]]
label = "researching"
signal = "intent"
within_days = 30
min_count = 3
points = 1
group = "intent"

[[segments.score]]
label = "researching our category"
signal = "intent"
where = { topic = ["sales engagement", "outbound automation", "abm"] }
within_days = 30
min_distinct = { topic = 2 }
points = 2
group = "intent"

[[segments.score]]
label = "automation"
signal = "intent"
where = { topic = { contains = ["automation"] } }
within_days = 90
points = 1
group = "intent"

[[segments.tiers]]
name = "Hot"
min_intent = 3
[[segments.tiers]]
name = "Warm"
min_intent = 1
"""
CHUNKS = 10


def ensure_intent(data: Path, rows: int, n_companies: int) -> Path:
    """Write ``rows`` intent events over the companies, chunk by chunk, unless present."""
    folder = data / f"intent_{rows}"
    if folder.is_dir() and len(list(folder.glob("*.parquet"))) == CHUNKS:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261101)
    # A third of companies ever show up; those that do, unevenly.
    active = np.flatnonzero(rng.random(n_companies) < 0.3)
    weight = rng.pareto(1.5, len(active)) + 1
    cdf = np.cumsum(weight) / weight.sum()
    per = rows // CHUNKS
    for k in range(CHUNKS):
        n = per if k < CHUNKS - 1 else rows - per * (CHUNKS - 1)
        company = active[np.minimum(np.searchsorted(cdf, rng.random(n)), len(active) - 1)]
        days_back = rng.integers(0, 730, n)
        frame = pl.DataFrame(
            {
                "company_id": pl.Series(company + 1).cast(pl.String).str.zfill(7),
                "date": pl.Series(
                    np.datetime64(AS_OF) - days_back.astype("timedelta64[D]"), dtype=pl.Date
                ),
                "topic": pl.Series(np.array(TOPICS)[rng.integers(0, len(TOPICS), n)]),
            }
        ).with_columns(company_id="C" + pl.col("company_id"))
        frame.write_parquet(folder / f"part-{k:02d}.parquet", compression="zstd")
        print(f"  wrote {folder / f'part-{k:02d}.parquet'} ({n:,} rows)", flush=True)
    return folder


def one_run(data: Path, intent: Path, out: Path) -> None:
    from listbuilder.outputs.run import run_build

    rules = out.parent / "intent_rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    start = time.perf_counter()
    summary = run_build(
        rules_path=rules,
        companies_path=data / "companies.parquet",
        events_paths={"intent": intent},
        as_of=AS_OF,
        out=out,
    )
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    listed = summary["segments"][0]["funnel"]["listed"]
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "listed": listed}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        one_run(args.data, args.run, args.out)
        return
    ensure_data(args.data)
    n_companies = pl.scan_parquet(args.data / "companies.parquet").select(pl.len()).collect()
    intent = ensure_intent(args.data, args.rows, int(n_companies.item()))
    # One part's size times the parts: loading the whole table here would defeat the point.
    parts = sorted(intent.glob("*.parquet"))
    table_mb = pl.read_parquet(parts[0]).estimated_size("mb") * len(parts)
    print(f"intent table: {args.rows:,} rows, {table_mb:,.0f} MB in memory")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            cmd = [sys.executable, __file__, "--data", str(args.data), "--run", str(intent)]
            cmd += ["--out", str(Path(tmp) / "out")]
            line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            record = json.loads(line.strip().splitlines()[-1])
            runs.append(record)
            print(
                f"  build {record['seconds']:7.2f} s  {record['peak_mb']:8.0f} MB peak  "
                f"{record['listed']:,} listed"
            )
    print(
        f"median {statistics.median(r['seconds'] for r in runs):.2f} s, peak "
        f"{statistics.median(r['peak_mb'] for r in runs):,.0f} MB "
        f"(the table alone would take {table_mb:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
