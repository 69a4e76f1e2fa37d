"""Scaling benchmark: `listbuilder build` on each engine at several dataset sizes.

Usage:
    python benchmarks/bench_engines.py [--sizes 1000000,5000000,20000000]
        [--engines polars,duckdb] [--root DIR] [--repeat N] [--tile-from DIR]

For each size N it generates (once, into ROOT/N/) N companies with proportional event
tables: 2N job postings and 0.34N funding rounds, as the 5M benchmark dataset has, and a
200,000-account CRM (matching cost follows the qualified accounts, not N). With
``--tile-from DIR`` each size is instead copies of the dataset in DIR, re-keyed (see
``tile``): the way to reach 20M and 100M companies without hours of generation. Each engine
then builds the sample rules (rules/hiring_funding.toml) N times in a fresh process; the median
wall time, the peak resident memory of the process and a digest of the list files (equal
across engines when they wrote the same bytes) are printed as a Markdown table.
Not part of the test suite: timings belong in a quiet machine's report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 1)
CRM_ACCOUNTS = 200_000


def tile(base: Path, data: Path, companies: int) -> None:
    """Write a ``companies``-row dataset as copies of the one in ``base``, streamed.

    Copy k keeps every row of the base with ``-k`` after each company id and its domain's
    label (``acme.com`` -> ``acme-k.com``), so ids and domains stay unique; the event
    tables are copied with the same ids, and the CRM is the base's. Generating 100M
    companies row by row would take hours; tiling takes minutes and streams from disk.
    """
    import polars as pl

    n_base = pl.scan_parquet(base / "companies.parquet").select(pl.len()).collect().item()
    if companies % n_base:
        raise SystemExit(f"{companies:,} is not a multiple of the base's {n_base:,} companies")
    data.mkdir(parents=True, exist_ok=True)
    copies = range(companies // n_base)
    for table in ("companies", "jobs", "funding"):
        parts = []
        for k in copies:
            part = pl.scan_parquet(base / f"{table}.parquet").with_columns(
                pl.col("company_id") + f"-{k}"
            )
            if table == "companies":
                part = part.with_columns(pl.col("domain").str.replace(r"^([^.]+)", f"${{1}}-{k}"))
            parts.append(part)
        print(f"tiling {table} x{len(copies)}", file=sys.stderr, flush=True)
        pl.concat(parts).sink_parquet(data / f"{table}.parquet")
    (data / "crm.csv").write_bytes((base / "crm.csv").read_bytes())


def ensure_data(data: Path, companies: int, base: Path | None = None) -> None:
    """Generate one size's dataset unless it is already there (tiled from ``base``, when
    given)."""
    if (data / "companies.parquet").exists():
        return
    if base is not None:
        tile(base, data, companies)
        return
    sizes = {
        "companies": companies,
        "jobs": 2 * companies,
        "funding": int(0.34 * companies),
        "crm": CRM_ACCOUNTS,
        "opportunities": 0,
    }
    cmd = [sys.executable, str(ROOT / "data" / "generate"), "--out", str(data)]
    for key, value in sizes.items():
        cmd += [f"--{key}", str(value)]
    print("generating", " ".join(cmd[2:]), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)


def one_run(engine: str, data: Path, out: Path) -> None:
    """Build once in this process; print wall time and peak memory as JSON."""
    from listbuilder.outputs.run import run_build

    start = time.perf_counter()
    summary = run_build(
        rules_path=ROOT / "rules" / "hiring_funding.toml",
        companies_path=data / "companies.parquet",
        jobs_path=data / "jobs.parquet",
        funding_path=data / "funding.parquet",
        crm_path=data / "crm.csv",
        as_of=AS_OF,
        out=out,
        engine=engine,
    )
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    listed = sum(s["funnel"]["listed"] for s in summary["segments"])
    # The list files themselves (the summary names the engine, so it differs by design).
    digest = hashlib.sha256()
    for path in sorted(out.glob("*.csv")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    print(
        json.dumps(
            {"seconds": seconds, "peak_mb": peak_mb, "listed": listed, "lists": digest.hexdigest()}
        )
    )


def measure(engine: str, data: Path, repeat: int) -> dict[str, float]:
    """Median wall time and largest peak memory over ``repeat`` fresh processes."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            cmd = [sys.executable, __file__, "--one", engine, "--data", str(data)]
            cmd += ["--out", str(Path(tmp) / f"run{i}")]
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "listed": runs[0]["listed"],
        "lists": runs[0]["lists"][:12],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,5000000,20000000")
    parser.add_argument("--engines", default="polars,duckdb")
    parser.add_argument("--root", type=Path, default=ROOT / "benchmarks" / "data-engines")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--tile-from",
        type=Path,
        help="build each size as copies of the dataset in this folder (data/generate's "
        "output), instead of generating it",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.one, args.data, args.out)
        return
    print("| companies | engine | wall time (s) | peak memory (MB) | listed | list files' sha256 |")
    print("| ---: | --- | ---: | ---: | ---: | --- |")
    for size in (int(s) for s in args.sizes.split(",")):
        data = args.root / str(size)
        ensure_data(data, size, args.tile_from)
        for engine in args.engines.split(","):
            r = measure(engine, data, args.repeat)
            print(
                f"| {size:,} | {engine} | {r['seconds']:.1f} | {r['peak_mb']:,.0f} "
                f"| {r['listed']:,} | {r['lists']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
