"""How large a CRM one machine matches: `bench_match.py` at several CRM sizes.

Usage:
    python benchmarks/bench_match_scale.py [--companies N] [--crm 200000,1000000,2000000]
        [--root DIR] [--repeat N]

In a build only the qualified accounts are matched, so N (default 200,000) stands for
a large list, not a dataset. For each CRM size the data is generated once into
ROOT/<size>/ and `listbuilder match` runs in a fresh process (see bench_match.py);
wall time and peak memory are printed per size. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_match


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=200_000)
    parser.add_argument("--crm", default="200000,1000000,2000000")
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "matchscale")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print("| qualified accounts | CRM accounts | wall time (s) | peak memory (MB) | pairs scored |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for crm in (int(s) for s in args.crm.split(",")):
        bench_match.SIZES.update(companies=args.companies, crm=crm)
        data = args.root / f"{args.companies}x{crm}"
        bench_match.ensure_data(data)
        with tempfile.TemporaryDirectory() as tmp:
            runs = [bench_match.one_run(data, Path(tmp) / f"r{i}") for i in range(args.repeat)]
        seconds = statistics.median(r["seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        pairs = statistics.median(r["candidate_pairs"] for r in runs)
        print(f"| {args.companies:,} | {crm:,} | {seconds:.1f} | {peak:,.0f} | {pairs:,.0f} |")


if __name__ == "__main__":
    main()
