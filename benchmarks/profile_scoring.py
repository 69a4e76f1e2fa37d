"""Where the build's scoring stage spends its time, node by node, beside the hand-written
query's.

Usage:
    python benchmarks/profile_scoring.py [--data DIR]

Polars 2 runs queries on its streaming engine, which has no per-node profile, so the
stage is timed by parts: each event table's aggregation alone, the companies' includes
alone, and the whole query (signals, eligibility, scores, qualification: what
``build_lists`` collects before CRM matching), for benchmarks/rules.toml
and for the same parts of benchmarks/handwritten.py. Each part is collected ``--repeat``
times (3); the median is printed. The data is the build benchmark's (see bench_build.py).
Not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

AS_OF = dt.date(2026, 11, 1)


def engine_parts(data: Path) -> dict[str, pl.LazyFrame]:
    from listbuilder.inputs import read_events, read_source
    from listbuilder.rules import included_col, load_rules, score_companies
    from listbuilder.rules.signals import aggregate_signal

    rules = load_rules(ROOT / "benchmarks" / "rules.toml")
    companies = read_source(data / "companies.parquet", "companies").frame
    events = {
        "hiring": read_events(data / "jobs.parquet", "hiring").frame,
        "funding": read_events(data / "funding.parquet", "funding").frame,
    }
    segs = range(len(rules.segments))
    parts = {
        f"{name} aggregation": aggregate_signal(
            frame, [c for c in rules.event_reads() if c.table == name], AS_OF
        )
        for name, frame in events.items()
    }
    no_signals = score_companies(
        dataclasses.replace(
            rules,
            segments=tuple(
                dataclasses.replace(s, score=tuple(c for c in s.score if c not in s.signals()))
                for s in rules.segments
            ),
        ),
        companies,
        {},
        AS_OF,
    )
    parts["companies without signals"] = no_signals.filter(
        pl.any_horizontal([included_col(i) for i in segs])
    )
    whole = score_companies(rules, companies, events, AS_OF)
    parts["whole scoring query"] = whole.filter(pl.any_horizontal([included_col(i) for i in segs]))
    return parts


def handwritten_parts(data: Path) -> dict[str, pl.LazyFrame]:
    """The hand-written query's parts, up to the point the build's scoring stage covers."""
    import handwritten

    captured: dict[str, pl.LazyFrame] = {}
    real = pl.collect_all

    def capture(queries, **kwargs):  # type: ignore[no-untyped-def]
        captured["whole scoring query"] = queries[1]
        raise StopIteration

    pl.collect_all = capture  # type: ignore[assignment]
    try:
        handwritten.run(data, Path("/nonexistent"), AS_OF)
    except StopIteration:
        pass
    finally:
        pl.collect_all = real  # type: ignore[assignment]
    return captured


def report(name: str, parts: dict[str, pl.LazyFrame], repeat: int) -> None:
    print(f"\n{name}")
    for part, lf in parts.items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            rows = lf.collect().height
            times.append(time.perf_counter() - start)
        print(f"  {statistics.median(times):7.2f} s  {part} ({rows:,} rows)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    report("handwritten", handwritten_parts(args.data), args.repeat)
    report("listbuilder", engine_parts(args.data), args.repeat)


if __name__ == "__main__":
    main()
