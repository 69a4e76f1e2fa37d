"""Name-only matching on real patent applicant names in hand-checked clusters.

The data are the two assignee benchmarks the PatentsView team publishes in its
``pv-evaluation`` package (GPL-3.0, so fetched at run time, never shipped here):

- ``air-umass``: 2,269 distinct spellings of 105 organisations (government agencies,
  universities, large companies), sampled to cover as many name varieties as possible;
- ``nber-subset``: 12,364 distinct spellings of 6,176 organisations whose names start
  with "Moto", "Amer", "Gene", "Solu" or "Airc": many different organisations with
  similar names.

Each distinct spelling is a record with a name only (no domain, no country). listbuilder's
model links every pair it would match automatically (probability at or above the match
threshold, no veto); linked records form clusters (connected components); the clusters
are scored by pairwise precision, recall and F1 over the distinct spellings, against the
hand-checked clusters. Beside it, the plain baseline: every pair of lower-cased names whose
rapidfuzz ``token_sort_ratio`` is 90 or more, without blocking.

    python benchmarks/bench_applicants.py [--cache DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from listbuilder.match.blocking import candidate_pairs
from listbuilder.match.compare import prepare
from listbuilder.match.linkage import estimate, prior_model, score
from listbuilder.match.model import (
    DEFAULT_THRESHOLD,
    MatchSettings,
    _compare_all,
    random_pairs,
)

WHEEL = "pv-evaluation==2.1.1"
SETS = ("air-umass", "nber-subset")


def fetch(cache: Path) -> Path:
    """The wheel's assignee folder, downloaded once into ``cache``."""
    folder = cache / "pv_evaluation" / "data" / "assignee"
    if not folder.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), WHEEL],
            check=True,
        )
        wheel = next(cache.glob("pv_evaluation-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                if name.startswith("pv_evaluation/data/assignee/") and name.endswith(".csv"):
                    z.extract(name, cache)
    return folder


def spellings(folder: Path, name: str) -> pl.DataFrame:
    """One row per distinct (organisation, spelling); a spelling filed under two
    organisations keeps the first, as the package's loader does."""
    raw = pl.read_csv(folder / f"{name}-assignees-benchmark.csv", infer_schema_length=0)
    raw = raw.drop_nulls("organization").unique("mention_id", keep="first", maintain_order=True)
    return (
        raw.group_by("organization", maintain_order=True)
        .agg(truth=pl.col("unique_id").first(), mentions=pl.len())
        .select(
            id=pl.int_range(pl.len()).cast(pl.String),
            name="organization",
            truth="truth",
            mentions="mentions",
        )
    )


def clusters(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components of the links, as one label per record."""
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def pairwise(
    truth: np.ndarray, predicted: np.ndarray, weight: np.ndarray
) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of ``predicted`` clusters against ``truth``, each
    record counting for ``weight`` items (its mentions, or 1 per distinct spelling)."""
    frame = pl.DataFrame({"t": truth, "p": predicted, "w": weight})

    def pairs(*keys: str) -> int:
        sizes = frame.group_by(list(keys)).agg(pl.col("w").sum())["w"].cast(pl.Int64)
        return int((sizes * (sizes - 1) // 2).sum())

    both, true, found = pairs("t", "p"), pairs("t"), pairs("p")
    precision = both / found if found else 1.0
    recall = both / true if true else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall)


def model_links(records: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
    """Pairs of records the model would match automatically, and the seconds it took."""
    start = time.perf_counter()
    side = prepare(records, "id").collect()
    blocks = candidate_pairs(
        side.lazy(), side.lazy(), max_block_pairs=MatchSettings().max_block_pairs
    )
    pairs = blocks.pairs.filter(pl.col("ci") < pl.col("ai"))
    levels = _compare_all(pairs, side, side)
    # One file against itself: a record is never its own pair, and each pair counts once.
    n = side.height
    sample = random_pairs(n, n).filter(pl.col("ci") != pl.col("ai"))
    equal = side.filter(pl.col("core").is_not_null()).group_by("norm").len()["len"]
    equal_pairs = int((equal.cast(pl.Int64) * (equal - 1) // 2).sum())
    model = estimate(
        levels,
        _compare_all(sample, side, side),
        n * (n - 1) // 2,
        prior_model(),
        exact_name_pairs=equal_pairs,
        larger_side=n,
    )
    scored = score(levels, model)
    linked = scored.filter((pl.col("score") >= DEFAULT_THRESHOLD) & pl.col("veto").is_null())
    seconds = time.perf_counter() - start
    return linked["ci"].to_numpy(), linked["ai"].to_numpy(), seconds


def baseline_links(records: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
    """Every pair of lower-cased names at ``token_sort_ratio`` >= 90, all pairs compared."""
    start = time.perf_counter()
    names = records["name"].str.to_lowercase().to_list()
    scores = process.cdist(
        names, names, scorer=fuzz.token_sort_ratio, score_cutoff=90, dtype=np.uint8, workers=-1
    )
    left, right = np.nonzero(np.triu(scores, k=1))
    return left, right, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "pv-eval")
    args = parser.parse_args()
    folder = fetch(args.cache)
    print(
        "set          spellings mentions clusters | method      "
        "by mention: P     R     F1  | by spelling: P     R     F1  | seconds"
    )
    for name in SETS:
        records = spellings(folder, name)
        truth = records["truth"].to_numpy()
        mentions = records["mentions"].to_numpy()
        for method, links in (("listbuilder", model_links), ("baseline", baseline_links)):
            left, right, seconds = links(records)
            found = clusters(records.height, left, right)
            by_mention = pairwise(truth, found, mentions)
            by_spelling = pairwise(truth, found, np.ones_like(mentions))
            print(
                f"{name:12} {records.height:9,} {mentions.sum():8,} "
                f"{records['truth'].n_unique():8,} | {method:11} "
                + " ".join(f"{x:5.3f}" for x in by_mention)
                + "  | "
                + " ".join(f"{x:5.3f}" for x in by_spelling)
                + f"  | {seconds:6.1f}"
            )


if __name__ == "__main__":
    main()
