"""Benchmark `listbuilder profile` and `backtest`: 50,000 deals against 5,000,000 companies.

Usage:
    python benchmarks/bench_evidence.py [--data DIR] [--repeat N] [--no-matches]

Generates the benchmark dataset into DIR if it is not there (5,000,000 companies,
10,000,000 job postings, 1,700,000 funding rounds, 200,000 CRM accounts and 50,000
opportunities; see data/generate), then runs each command N times, each in a fresh
process, and reports the median wall time and peak resident memory, with the time spent
matching CRM accounts to companies. By default the CRM is matched once beforehand
(`listbuilder match`, stored in DIR/match and timed on its own) and both commands read
that run with ``--matches``, as a scheduled job would; ``--no-matches`` makes each
command match again. ``backtest`` compares two rules files on the held-out newest 25% of
deals: benchmarks/rules.toml and the rules ``profile`` proposed. Not part of the test suite:
timings belong in a quiet machine's report.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {
    "companies": 5_000_000,
    "jobs": 10_000_000,
    "funding": 1_700_000,
    "crm": 200_000,
    "opportunities": 50_000,
}


def ensure_data(data: Path) -> None:
    """Generate the benchmark dataset unless it is already there, opportunities included."""
    if (data / "companies.parquet").exists() and (data / "opportunities.parquet").exists():
        return
    cmd = [sys.executable, str(ROOT / "data" / "generate"), "--out", str(data), "--no-behaviour"]
    for key, value in SIZES.items():
        cmd += [f"--{key}", str(value)]
    print("generating", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True)


def inputs(data: Path) -> dict[str, Path]:
    return {
        "companies_path": data / "companies.parquet",
        "crm_path": data / "crm.csv",
        "opportunities_path": data / "opportunities.parquet",
        "jobs_path": data / "jobs.parquet",
        "funding_path": data / "funding.parquet",
    }


def ensure_matches(data: Path) -> Path:
    """Match the benchmark CRM once into DIR/match, timed; reuse it when it is there."""
    run = data / "match"
    if (run / "summary.json").exists():
        return run
    from listbuilder.match import run_match

    start = time.perf_counter()
    run_match(companies_path=data / "companies.parquet", crm_path=data / "crm.csv", out=run)
    print(f"  match     {time.perf_counter() - start:7.2f} s (once, stored in {run})")
    return run


def one_run(command: str, data: Path, out: Path, matches: Path | None) -> None:
    """Run one command once in this process; print its wall time, matching time, memory."""
    import listbuilder.evidence.deals as evidence

    matching = 0.0
    real_match = evidence.match_crm

    def timed_match(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal matching
        start = time.perf_counter()
        try:
            return real_match(*args, **kwargs)
        finally:
            matching += time.perf_counter() - start

    evidence.match_crm = timed_match  # type: ignore[assignment]
    start = time.perf_counter()
    if command == "profile":
        from listbuilder.evidence.profile import run_profile

        profile = run_profile(out=out, matches=matches, **inputs(data))  # type: ignore[arg-type]
        deals = profile.evidence.quality.used
    else:
        from listbuilder.evidence.backtest import run_backtest

        rules = [ROOT / "benchmarks" / "rules.toml", out.parent / "proposed_rules.toml"]
        result = run_backtest(
            rules_paths=rules,
            out=out,
            holdout=0.25,
            matches=matches,
            **inputs(data),  # type: ignore[arg-type]
        )
        deals = result.evidence.quality.used
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record = {
        "command": command,
        "seconds": seconds,
        "matching_seconds": matching,
        "peak_mb": peak_mb,
        "deals": deals,
    }
    print(json.dumps(record))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--command", choices=["profile", "backtest"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--matches", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-matches", action="store_true", help="match again in each run")
    args = parser.parse_args()
    if args.command:
        one_run(args.command, args.data, args.out, args.matches)
        return
    ensure_data(args.data)
    matches = None if args.no_matches else ensure_matches(args.data)
    results: dict[str, list[dict[str, float]]] = {"profile": [], "backtest": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for command in ("profile", "backtest"):
                out = Path(tmp) / command
                cmd = [sys.executable, __file__, "--command", command, "--data", str(args.data)]
                cmd += ["--out", str(out)]
                if matches is not None:
                    cmd += ["--matches", str(matches)]
                line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                record = json.loads(line.strip().splitlines()[-1])
                results[command].append(record)
                if command == "profile":
                    # The backtest compares the example rules with the ones proposed here.
                    proposed = out / "proposed_rules.toml"
                    (Path(tmp) / "proposed_rules.toml").write_bytes(proposed.read_bytes())
                print(
                    f"  {command:9s} {record['seconds']:7.2f} s "
                    f"(matching {record['matching_seconds']:6.2f} s)  "
                    f"{record['peak_mb']:8.0f} MB  {record['deals']:,} deals"
                )
    print()
    print(f"{'':9s} {'median s':>9s} {'matching s':>11s} {'peak MB':>9s}")
    for command, runs in results.items():
        print(
            f"{command:9s} {statistics.median(r['seconds'] for r in runs):9.2f} "
            f"{statistics.median(r['matching_seconds'] for r in runs):11.2f} "
            f"{statistics.median(r['peak_mb'] for r in runs):9.0f}"
        )


if __name__ == "__main__":
    main()
