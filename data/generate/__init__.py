"""Deterministic synthetic data in listbuilder's canonical schema.

Run with no arguments to regenerate the committed sample in data/; pass sizes and ``--out``
for benchmark data::

    python data/generate
    python data/generate --out /tmp/benchdata --companies 5000000 --jobs 10000000 \\
        --funding 1700000 --crm 200000

Benchmark scripts can import it (it is not part of the listbuilder package)::

    sys.path.insert(0, str(ROOT / "data"))
    from generate import generate, write

One module per table (``companies``, ``jobs``, ``funding``, ``crm``, ``opportunities``;
``behaviour`` for executive hires, intent, layoffs and the monthly headcount history),
``names`` for the company names and domains the companies and the CRM share, and
``common`` for the schemas, sizes and sampling helpers; this module puts them together.

Everything is drawn from numpy generators seeded from ``seed``, one stream per table, and
built column-wise with numpy and polars (no per-row Python), so the same seed and sizes give
identical frames, and five million companies take seconds rather than hours. Each table's
stream depends only on the seed, so changing ``n_jobs`` leaves the companies unchanged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from .behaviour import (
    EXEC_TITLES,
    INTENT_TOPICS,
    draw_exec_hires,
    draw_headcount,
    draw_intent,
    draw_layoffs,
)
from .common import AS_OF, FILES, INDUSTRIES, SAMPLE_SIZES, SCHEMAS, SEED, WINDOW_DAYS
from .companies import FUNDING_STAGES, draw_companies
from .crm import CRM_MATCHED_SHARE, CRM_STATUSES, draw_crm
from .funding import ROUND_TYPES, draw_funding
from .jobs import DEPARTMENTS, TITLES, draw_jobs
from .opportunities import (
    OPP_CLOSE_BEFORE_CREATE_SHARE,
    OPP_DELETED_ACCOUNT_SHARE,
    OPP_NO_CREATED_SHARE,
    draw_opportunities,
)

__all__ = [
    "AS_OF",
    "CRM_MATCHED_SHARE",
    "CRM_STATUSES",
    "DEPARTMENTS",
    "EXEC_TITLES",
    "FILES",
    "FUNDING_STAGES",
    "INDUSTRIES",
    "INTENT_TOPICS",
    "OPP_CLOSE_BEFORE_CREATE_SHARE",
    "OPP_DELETED_ACCOUNT_SHARE",
    "OPP_NO_CREATED_SHARE",
    "ROUND_TYPES",
    "SAMPLE_SIZES",
    "SCHEMAS",
    "SEED",
    "TITLES",
    "WINDOW_DAYS",
    "generate",
    "main",
    "write",
]

# The sample is written next to the package: data/.
HERE = Path(__file__).resolve().parent.parent


def generate(
    n_companies: int = SAMPLE_SIZES["n_companies"],
    n_jobs: int = SAMPLE_SIZES["n_jobs"],
    n_funding: int = SAMPLE_SIZES["n_funding"],
    n_crm: int = SAMPLE_SIZES["n_crm"],
    as_of: dt.date = AS_OF,
    seed: int = SEED,
    n_opportunities: int = SAMPLE_SIZES["n_opportunities"],
    n_exec_hires: int = SAMPLE_SIZES["n_exec_hires"],
    n_intent: int = SAMPLE_SIZES["n_intent"],
    n_layoffs: int = SAMPLE_SIZES["n_layoffs"],
    behaviour: bool = True,
) -> dict[str, pl.DataFrame]:
    """Generate every table in the canonical schema.

    Returns frames keyed ``companies``, ``jobs``, ``funding``, ``crm``, ``crm_truth``
    (the true company of each CRM account and how its spelling differs) and
    ``opportunities`` (deals on CRM accounts, won per the ``OPP_*`` model), and the
    behavioural event tables ``exec_hires``, ``intent``, ``layoffs`` and ``headcount``
    (monthly, 24 months, not sized by an argument), unless ``behaviour`` is false. Event and
    created dates fall in the 730 days ending on ``as_of``, both ends included. The same
    arguments always give equal frames.
    """
    if n_companies < 1:
        raise ValueError("n_companies must be at least 1")
    if min(n_jobs, n_funding, n_crm, n_opportunities, n_exec_hires, n_intent, n_layoffs) < 0:
        raise ValueError("table sizes cannot be negative")
    companies, hidden = draw_companies(n_companies, as_of, seed)
    crm, truth = draw_crm(n_crm, companies, hidden, seed)
    jobs = draw_jobs(n_jobs, hidden, as_of, seed)
    funding = draw_funding(n_funding, hidden, as_of, seed)
    opportunities = draw_opportunities(
        n_opportunities, companies, crm, truth, jobs, funding, as_of, seed
    )
    frames = {
        "companies": companies,
        "jobs": jobs,
        "funding": funding,
        "crm": crm,
        "crm_truth": truth,
        "opportunities": opportunities,
    }
    if behaviour:
        frames["exec_hires"] = draw_exec_hires(n_exec_hires, hidden, as_of, seed)
        frames["intent"] = draw_intent(n_intent, hidden, as_of, seed)
        frames["layoffs"] = draw_layoffs(n_layoffs, hidden, as_of, seed)
        frames["headcount"] = draw_headcount(hidden, as_of, seed)
    return frames


def write(
    frames: Mapping[str, pl.DataFrame], out_dir: str | os.PathLike[str], compression_level: int = 9
) -> dict[str, Path]:
    """Write the frames under ``out_dir`` with the canonical file names; return the paths.

    Each file is written to a temporary name and renamed into place, so a reader never
    sees half a file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for table, frame in frames.items():
        path = out / FILES[table]
        tmp = path.with_name(f".{path.name}.tmp")
        if path.suffix == ".parquet":
            frame.write_parquet(tmp, compression="zstd", compression_level=compression_level)
        else:
            frame.write_csv(tmp)
        os.replace(tmp, path)
        paths[table] = path
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: regenerate the sample, or write benchmark-sized data elsewhere."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: data/)")
    parser.add_argument("--companies", type=int, default=SAMPLE_SIZES["n_companies"])
    parser.add_argument("--jobs", type=int, default=SAMPLE_SIZES["n_jobs"])
    parser.add_argument("--funding", type=int, default=SAMPLE_SIZES["n_funding"])
    parser.add_argument("--crm", type=int, default=SAMPLE_SIZES["n_crm"])
    parser.add_argument("--opportunities", type=int, default=SAMPLE_SIZES["n_opportunities"])
    parser.add_argument("--exec-hires", type=int, default=SAMPLE_SIZES["n_exec_hires"])
    parser.add_argument("--intent", type=int, default=SAMPLE_SIZES["n_intent"])
    parser.add_argument("--layoffs", type=int, default=SAMPLE_SIZES["n_layoffs"])
    parser.add_argument(
        "--no-behaviour",
        action="store_true",
        help="skip exec_hires, intent, layoffs and headcount (the build benchmark's data)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    parser.add_argument(
        "--compression-level", type=int, default=None, help="zstd level (default: 9 small, 3 large)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    frames = generate(
        args.companies,
        args.jobs,
        args.funding,
        args.crm,
        args.as_of,
        args.seed,
        n_opportunities=args.opportunities,
        n_exec_hires=args.exec_hires,
        n_intent=args.intent,
        n_layoffs=args.layoffs,
        behaviour=not args.no_behaviour,
    )
    built = time.perf_counter() - start
    # Big data is for benchmarks, where writing fast matters more than a few megabytes.
    level = args.compression_level or (9 if args.companies <= 1_000_000 else 3)
    paths = write(frames, args.out, compression_level=level)
    for table, path in paths.items():
        size = path.stat().st_size
        print(f"{path}  {frames[table].height:>12,} rows  {size / 1e6:8.2f} MB")
    total = time.perf_counter() - start
    print(
        f"generated in {built:.1f}s, written in {total - built:.1f}s "
        f"(seed {args.seed}, as of {args.as_of})"
    )
    return 0
