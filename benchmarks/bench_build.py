"""Benchmark `listbuilder build` against a hand-written polars query of the same work.

Usage:
    python benchmarks/bench_build.py [--data DIR] [--repeat N]

Generates the benchmark dataset into DIR if it is not there (5,000,000 companies,
10,000,000 job postings, 1,700,000 funding rounds, 200,000 CRM accounts; see
data/generate), then runs each side N times, each in a fresh process, and reports the
median wall time and peak resident memory of each and their ratios. Not part of the test
suite: timings belong in a quiet machine's report, not in a pass/fail test.
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

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 1)
SIZES = {"companies": 5_000_000, "jobs": 10_000_000, "funding": 1_700_000, "crm": 200_000}


def ensure_data(data: Path) -> None:
    """Generate the benchmark dataset unless it is already there."""
    if (data / "companies.parquet").exists():
        return
    cmd = [sys.executable, str(ROOT / "data" / "generate"), "--out", str(data), "--no-behaviour"]
    for key, value in SIZES.items():
        cmd += [f"--{key}", str(value)]
    print("generating", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True)


def one_run(side: str, data: Path, out: Path) -> None:
    """Run one side once in this process and print its wall time and peak memory."""
    start = time.perf_counter()
    if side == "listbuilder":
        from listbuilder.outputs.run import run_build

        run_build(
            rules_path=ROOT / "benchmarks" / "rules.toml",
            companies_path=data / "companies.parquet",
            jobs_path=data / "jobs.parquet",
            funding_path=data / "funding.parquet",
            crm_path=data / "crm.csv",
            as_of=AS_OF,
            out=out,
        )
    else:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from handwritten import run

        run(data, out, AS_OF)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"side": side, "seconds": seconds, "peak_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--side", choices=["listbuilder", "handwritten"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        one_run(args.side, args.data, args.out)
        return
    ensure_data(args.data)
    results: dict[str, list[dict[str, float]]] = {"handwritten": [], "listbuilder": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            # Alternate the order so neither side always runs with a warmer page cache.
            sides = ["handwritten", "listbuilder"] if i % 2 == 0 else ["listbuilder", "handwritten"]
            for side in sides:
                cmd = [sys.executable, __file__, "--side", side, "--data", str(args.data)]
                cmd += ["--out", str(Path(tmp) / side)]
                line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                record = json.loads(line.strip().splitlines()[-1])
                results[side].append(record)
                print(f"  {side:12s} {record['seconds']:7.2f} s  {record['peak_mb']:8.0f} MB")
        # The comparison is fair only if both sides did the same work: same lists, byte for byte.
        for name in ("core_saas.csv", "emea_mid_market.csv"):
            same = (Path(tmp) / "handwritten" / name).read_bytes() == (
                Path(tmp) / "listbuilder" / name
            ).read_bytes()
            print(f"  {name}: {'identical on both sides' if same else 'DIFFERS'}")
            if not same:
                sys.exit(f"{name} differs between the two sides")
    med = {
        side: {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mb": statistics.median(r["peak_mb"] for r in runs),
        }
        for side, runs in results.items()
    }
    hand, lb = med["handwritten"], med["listbuilder"]
    print()
    print(f"{'':12s} {'median s':>9s} {'peak MB':>9s}")
    for side in ("handwritten", "listbuilder"):
        print(f"{side:12s} {med[side]['seconds']:9.2f} {med[side]['peak_mb']:9.0f}")
    time_ratio = lb["seconds"] / hand["seconds"]
    memory_ratio = lb["peak_mb"] / hand["peak_mb"]
    print(f"{'ratio':12s} {time_ratio:9.2f} {memory_ratio:9.2f}")


if __name__ == "__main__":
    main()
