"""Splink against `listbuilder match`: the same Fellegi-Sunter model, accuracy and speed.

Usage:
    python benchmarks/bench_splink.py real [--seed N] [--u-pairs N]
    python benchmarks/bench_splink.py speed [--data DIR] [--companies N] [--crm N] [--u-pairs N]
    python benchmarks/bench_splink.py scale [--root DIR] [--companies N] [--crm 200000,...]

Needs `pip install splink` (not a listbuilder dependency). Splink runs on its DuckDB
backend, configured as close to listbuilder's model as Splink allows:

- inputs: the names, domains, countries and numbers normalised by
  ``listbuilder.match.prepare``, so both see the same strings; companies sharing a
  registrable domain take part once, as in ``listbuilder match``;
- blocking: every pair with the same registrable domain (``block_on("dom")``), and for
  accounts without one, listbuilder's blocking keys (``listbuilder.match.blocking``)
  as an array column Splink explodes. Splink has no cap on how many pairs one key may
  make, so the keys listbuilder drops as too common are dropped from the array first:
  both tools then compare the same candidate pairs, and the difference is the model
  and the engine;
- comparisons: domain (same, same label, related, differs), name (exact or equal
  without spaces, words inside, similarity bands 0.95 / 0.88 / 0.80 / 0.70 of
  ``0.3 * whole + 0.7 * distinctive words`` in DuckDB's Levenshtein and
  Damerau-Levenshtein, acronym of the name, acronym of the domain label), numbers in
  the name (same, differ, one side) and country (same, differs);
- lambda from deterministic rules (same domain, same name, recall taken as 0.8), u by
  random sampling (``--u-pairs``, seeded), m by EM in two sessions (blocked on domain,
  then on name);
- the same decision: each account keeps its best company by match weight, a match at
  probability >= 0.85 when no other company ties it. Splink has no vetoes.

``real`` gives precision and recall per group of the labelled real-name set
(``tests/real_names.py``, the held-out draw by default) for both tools, the candidate
pairs each compared, and Splink's precision and recall at other thresholds. ``speed``
runs `listbuilder match` and then Splink on the ``bench_match.py`` data, each in a fresh
process, back to back, with wall time, peak resident memory, candidate pairs, precision
and recall against the generator's truth and the load average before each run.
``scale`` runs `listbuilder match` alone on growing CRMs (``bench_match_scale.py``'s
sizes and more) and prints memory per million CRM accounts. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

import bench_match  # noqa: E402

from listbuilder.match import prepare  # noqa: E402
from listbuilder.match.blocking import BLOCK_FACTORS, KINDS, blocking_keys  # noqa: E402
from listbuilder.match.model import DEFAULT_THRESHOLD, MAX_BLOCK_PAIRS  # noqa: E402

REVIEW_THRESHOLD = 0.001
U_PAIRS = 1e7
LAMBDA_RECALL = 0.8
SEED = 20261129

# --- inputs --------------------------------------------------------------------------


def _sides(companies: pl.DataFrame, crm: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both sides normalised by listbuilder, companies sharing a domain once."""
    left, right = pl.collect_all([prepare(companies, "company_id"), prepare(crm, "account_id")])
    first = pl.col("id").first().over("dom")
    duplicate = pl.col("dom").is_not_null() & (pl.col("id") != first)
    left = left.sort("id", "idx").filter(~duplicate.fill_null(False)).sort("idx")
    return left, right


def _keys(left: pl.DataFrame, right: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each record's blocking keys (``idx``, ``keys``), those too common left out.

    The same keys and the same cap as ``listbuilder.match.blocking.candidate_pairs``;
    accounts sharing a registrable domain with a company get none (the domain decides).
    """
    resolved = left.select("dom").drop_nulls().unique()
    named_left = left.filter(pl.col("norm").is_not_null())
    named_right = right.filter(pl.col("norm").is_not_null()).join(
        resolved, on="dom", how="anti", nulls_equal=False
    )
    rk = blocking_keys(named_right.lazy(), crm_side=True).collect()
    lk = (
        blocking_keys(named_left.lazy(), crm_side=False)
        .join(rk.lazy().select("key").unique(), on="key", how="semi")
        .collect()
    )
    factors = {KINDS[k]: f for k, f in BLOCK_FACTORS.items()}
    kept = (
        lk.group_by("key")
        .agg(nc=pl.len(), kind=pl.col("kind").min())
        .join(rk.group_by("key").len("na"), on="key")
        .filter(
            pl.col("nc").cast(pl.Int64) * pl.col("na")
            <= pl.col("kind").replace_strict(factors, return_dtype=pl.Float64) * MAX_BLOCK_PAIRS
        )
        .select("key")
    )

    def per_record(keys: pl.DataFrame) -> pl.DataFrame:
        return (
            keys.join(kept, on="key", how="semi")
            .select("idx", key=pl.col("key").reinterpret(signed=True))
            .unique()
            .group_by("idx")
            .agg(keys=pl.col("key").sort())
        )

    return per_record(lk), per_record(rk)


def _table(side: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """The columns Splink compares, one row per record."""
    return (
        side.join(keys, on="idx", how="left")
        .select(
            unique_id="id",
            norm="norm",
            core="core",
            compact=pl.col("norm").str.replace_all(" ", "", literal=True),
            words=pl.col("norm").str.split(" "),
            nwords="words",
            initials="initials",
            initials_short="initials_short",
            numbers=pl.col("numbers").replace("", None),
            dom="dom",
            label="label",
            iso="iso",
            keys="keys",
        )
        .with_columns(pl.col("keys").fill_null(pl.lit([], pl.List(pl.Int64))))
    )


# --- the Splink model ----------------------------------------------------------------

CORE_SIM = "(1 - damerau_levenshtein(core_l, core_r) / greatest(length(core_l), length(core_r)))"
WHOLE_SIM = "(1 - levenshtein(norm_l, norm_r) / greatest(length(norm_l), length(norm_r)))"
NAME_SIM = f"(0.3 * {WHOLE_SIM} + 0.7 * {CORE_SIM})"


def _level(sql: str, label: str, *, null: bool = False) -> dict:
    out = {"sql_condition": sql, "label_for_charts": label}
    if null:
        out["is_null_level"] = True
    return out


def _comparisons() -> list:
    import splink.comparison_library as cl

    countries_differ = "coalesce(iso_l <> iso_r, false)"
    domain = cl.CustomComparison(
        output_column_name="domain",
        comparison_levels=[
            _level("dom_l IS NULL OR dom_r IS NULL", "missing", null=True),
            _level("dom_l = dom_r", "same"),
            _level("label_l = label_r AND length(label_l) >= 4 AND iso_l = iso_r", "label"),
            _level(
                "(label_l = label_r OR (least(length(label_l), length(label_r)) >= 5 AND "
                "(contains(label_l, label_r) OR contains(label_r, label_l)))) "
                f"AND NOT {countries_differ}",
                "related",
            ),
            _level("ELSE", "differs"),
        ],
    )
    inside = (
        "nwords_l <> nwords_r AND "
        "(list_has_all(words_l, words_r) OR list_has_all(words_r, words_l))"
    )
    acronym = (
        "((norm_l = initials_r OR norm_l = initials_short_r) AND nwords_l = 1) OR "
        "((norm_r = initials_l OR norm_r = initials_short_l) AND nwords_r = 1)"
    )
    acronym_domain = (
        "initials_l = label_r OR initials_short_l = label_r OR "
        "initials_r = label_l OR initials_short_r = label_l"
    )
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            _level("core_l IS NULL OR core_r IS NULL", "missing", null=True),
            _level("norm_l = norm_r OR compact_l = compact_r", "exact"),
            _level(inside, "inside"),
            _level(f"{NAME_SIM} >= 0.95", "0.95"),
            _level(f"{NAME_SIM} >= 0.88", "0.88"),
            _level(acronym, "acronym"),
            _level(acronym_domain, "acronym_domain"),
            _level(f"{NAME_SIM} >= 0.80", "0.80"),
            _level(f"{NAME_SIM} >= 0.70", "0.70"),
            _level("ELSE", "differs"),
        ],
    )
    numbers = cl.CustomComparison(
        output_column_name="numbers",
        comparison_levels=[
            _level("numbers_l IS NULL AND numbers_r IS NULL", "none", null=True),
            _level("numbers_l = numbers_r", "same"),
            _level("numbers_l IS NOT NULL AND numbers_r IS NOT NULL", "differ"),
            _level("ELSE", "one_side"),
        ],
    )
    country = cl.CustomComparison(
        output_column_name="country",
        comparison_levels=[
            _level("iso_l IS NULL OR iso_r IS NULL", "missing", null=True),
            _level("iso_l = iso_r", "same"),
            _level("ELSE", "differs"),
        ],
    )
    return [domain, name, numbers, country]


def splink_match(
    companies: pl.DataFrame, crm: pl.DataFrame, *, u_pairs: float = U_PAIRS
) -> tuple[pl.DataFrame, dict]:
    """Splink's scored pairs above the review threshold (``company_id``, ``account_id``,
    ``weight``, ``score``), and the stage times, candidate pairs and lambda."""
    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    times: dict = {}
    start = time.perf_counter()
    left, right = _sides(companies, crm)
    times["normalise"] = time.perf_counter() - start
    start = time.perf_counter()
    left_keys, right_keys = _keys(left, right)
    times["blocking keys"] = time.perf_counter() - start
    start = time.perf_counter()
    con = duckdb.connect()
    for name, side, keys in (("a_companies", left, left_keys), ("b_crm", right, right_keys)):
        arrow = _table(side, keys).to_arrow()  # noqa: F841 (read by DuckDB by name)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM arrow")
    db_api = DuckDBAPI(connection=con)
    tables = [
        db_api.register("a_companies", dataset_display_name="companies"),
        db_api.register("b_crm", dataset_display_name="crm"),
    ]
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=[
            block_on("dom"),
            block_on("keys", arrays_to_explode=["keys"]),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(tables, settings, log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("dom"), block_on("norm")], recall=LAMBDA_RECALL
    )
    times["splink load and lambda"] = time.perf_counter() - start
    start = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=SEED)
    times["splink u"] = time.perf_counter() - start
    start = time.perf_counter()
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dom"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("norm"))
    times["splink EM"] = time.perf_counter() - start
    start = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=REVIEW_THRESHOLD)
    pairs = pl.from_arrow(predictions.as_pyarrow_table())
    times["splink predict"] = time.perf_counter() - start
    start = time.perf_counter()
    pairs = _orient(pairs)
    times["choosing"] = time.perf_counter() - start
    blocked = con.execute(
        f"SELECT count(*) FROM {linker.inference.compute_blocked_pairs_for_predict().physical_name}"
    ).fetchone()
    info = {"times": times, "pairs_above_review": pairs.height, "candidate_pairs": blocked[0]}
    info["lambda"] = linker._settings_obj._probability_two_random_records_match
    return pairs, info


def _orient(pairs: pl.DataFrame) -> pl.DataFrame:
    """Splink's pairs as (``company_id``, ``account_id``, ``weight``, ``score``)."""
    companies_left = pl.col("source_dataset_l") == "companies"
    return pairs.select(
        company_id=pl.when(companies_left).then("unique_id_l").otherwise("unique_id_r"),
        account_id=pl.when(companies_left).then("unique_id_r").otherwise("unique_id_l"),
        weight="match_weight",
        score="match_probability",
    )


def choose(pairs: pl.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Each account's best company by match weight; a match at ``threshold`` with no tie."""
    top = pl.col("weight") == pl.col("weight").max().over("account_id")
    return (
        pairs.filter(top)
        .filter(pl.len().over("account_id") == 1)
        .filter(pl.col("score") >= threshold)
        .sort("account_id")
    )


# --- the labelled real-name set -------------------------------------------------------


def per_group(matches: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Precision and recall per group of the real-name set, and over all of it."""
    got = matches.select("account_id", got="company_id").unique("account_id", keep="none")
    rows = truth.join(got, on="account_id", how="left")
    positive = pl.col("company_id").is_not_null()
    right = (pl.col("got") == pl.col("company_id")).fill_null(False)
    wrong = pl.col("got").is_not_null() & ~right
    aggs = {"positives": positive.sum(), "right": right.sum(), "wrong": wrong.sum()}
    table = pl.concat(
        [
            rows.group_by("group").agg(**aggs).sort("group"),
            rows.select(group=pl.lit("all"), **aggs),
        ]
    )
    return table.with_columns(
        precision=(pl.col("right") / (pl.col("right") + pl.col("wrong"))).round(3),
        recall=(pl.col("right") / pl.col("positives")).round(3),
    )


def run_real(seed: int, u_pairs: float) -> None:
    """Both tools on the labelled real-name set, per group, and Splink at other thresholds."""
    from listbuilder.match import match_frames
    from tests.real_names import build

    companies, crm, truth = build(seed).frames()
    start = time.perf_counter()
    result = match_frames(companies, crm, collapse_duplicates=True)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    pairs, info = splink_match(companies, crm, u_pairs=u_pairs)
    theirs_s = time.perf_counter() - start
    a = per_group(result.matches.select("account_id", "company_id"), truth)
    b = per_group(choose(pairs), truth)
    table = a.select("group", "positives", lb_p="precision", lb_r="recall").join(
        b.select("group", sp_p="precision", sp_r="recall"), on="group", maintain_order="left"
    )
    print(f"real names, seed {seed}: {companies.height:,} companies, {crm.height:,} accounts")
    print(f"load average {_load()}")
    lb_pairs = result.counts["blocking"]["candidate_pairs"]
    print(f"candidate pairs: listbuilder {lb_pairs:,}, Splink {info['candidate_pairs']:,}")
    print(f"wall time: listbuilder {ours_s:.1f} s, Splink {theirs_s:.1f} s")
    print(f"Splink lambda {info['lambda']:.3g}, u from {u_pairs:,.0f} random pairs")
    with pl.Config(tbl_rows=30, tbl_width_chars=160, tbl_hide_dataframe_shape=True):
        print("precision (p) and recall (r) at 0.85, listbuilder (lb) and Splink (sp):")
        print(table)
        sweep = pl.concat(
            per_group(choose(pairs, t), truth)
            .filter(pl.col("group") == "all")
            .select(threshold=pl.lit(t), precision="precision", recall="recall")
            for t in (0.01, 0.1, 0.5, 0.85, 0.99)
        )
        print("Splink over all groups at other thresholds:")
        print(sweep)


# --- speed ----------------------------------------------------------------------------


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _child(data: Path, out: Path, u_pairs: float) -> None:
    """Splink on bench_match.py data, in this (fresh) process; writes matches.csv."""
    companies = pl.read_parquet(data / "companies.parquet").select(
        "company_id", "name", "domain", "country"
    )
    crm = pl.read_csv(data / "crm.csv", infer_schema=False)
    pairs, info = splink_match(companies, crm, u_pairs=u_pairs)
    start = time.perf_counter()
    matches = choose(pairs)
    info["times"]["choosing"] += time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    matches.write_csv(out / "matches.csv")
    (out / "info.json").write_text(json.dumps(info), encoding="utf-8")


def _timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak resident MB and stderr of a command in a fresh process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        log.seek(0)
        err = log.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-4000:]}")
    return seconds, usage.ru_maxrss / 1024, err


def run_speed(data: Path, u_pairs: float) -> None:
    """`listbuilder match`, then Splink, on the same data, back to back."""
    bench_match.ensure_data(data)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"load average before listbuilder: {_load()}", flush=True)
        ours = bench_match.one_run(data, Path(tmp) / "lb")
        print(
            f"listbuilder match: {ours['seconds']:.1f} s wall, {ours['peak_mb']:,.0f} MB peak, "
            f"{ours['candidate_pairs']:,} pairs (compared, model estimated and scored in "
            f"{ours['scoring_seconds']:.1f} s), precision / recall "
            f"{ours['precision']:.4f} / {ours['recall']:.4f}",
            flush=True,
        )
        print(f"load average before Splink: {_load()}", flush=True)
        out = Path(tmp) / "splink"
        cmd = [sys.executable, __file__, "_child", "--data", str(data), "--out", str(out)]
        seconds, peak, _ = _timed([*cmd, "--u-pairs", str(u_pairs)])
        info = json.loads((out / "info.json").read_text(encoding="utf-8"))
        precision, recall = bench_match.accuracy(data, out)
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in info["times"].items())
        print(
            f"Splink (DuckDB): {seconds:.1f} s wall, {peak:,.0f} MB peak, "
            f"{info['candidate_pairs']:,} pairs, precision / recall "
            f"{precision:.4f} / {recall:.4f}\n  stages: {stages}",
            flush=True,
        )
        print(f"load average after: {_load()}", flush=True)


def run_scale(root: Path, companies: int, sizes: list[int]) -> None:
    """`listbuilder match` on growing CRMs: time, memory, memory per CRM account."""
    print("| accounts to match | CRM accounts | wall time (s) | peak memory (MB) | load before |")
    print("| ---: | ---: | ---: | ---: | --- |")
    peaks = []
    for crm in sizes:
        bench_match.SIZES.update(companies=companies, crm=crm)
        data = root / f"{companies}x{crm}"
        bench_match.ensure_data(data)
        load = _load()
        with tempfile.TemporaryDirectory() as tmp:
            run = bench_match.one_run(data, Path(tmp) / "r")
        print(
            f"| {companies:,} | {crm:,} | {run['seconds']:.1f} | {run['peak_mb']:,.0f} | {load} |",
            flush=True,
        )
        peaks.append(run["peak_mb"])
    if len(sizes) >= 2:
        per_million = (peaks[-1] - peaks[0]) / (sizes[-1] - sizes[0]) * 1e6
        memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
        fits = sizes[-1] + (memory_mb - peaks[-1]) / per_million * 1e6
        print(
            f"\nmemory per million CRM accounts: {per_million:,.0f} MB (from the smallest and "
            f"largest sizes); this machine's {memory_mb / 1024:.0f} GB would hold about "
            f"{fits / 1e6:.0f} million accounts at that rate"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["real", "speed", "scale", "_child"])
    parser.add_argument("--seed", type=int, default=SEED + 1)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "matchscale")
    parser.add_argument("--companies", type=int, default=1_000_000)
    parser.add_argument("--crm", default="200000")
    parser.add_argument("--u-pairs", type=float, default=U_PAIRS)
    args = parser.parse_args()
    if args.mode == "real":
        run_real(args.seed, args.u_pairs)
    elif args.mode == "_child":
        _child(args.data, args.out, args.u_pairs)
    elif args.mode == "speed":
        crm = int(args.crm.split(",")[0])
        bench_match.SIZES.update(companies=args.companies, crm=crm)
        data = args.data or Path(tempfile.gettempdir()) / f"splinkbench/{args.companies}x{crm}"
        print(f"{args.companies:,} companies x {crm:,} CRM accounts, {os.cpu_count()} cores")
        run_speed(data, args.u_pairs)
    else:
        run_scale(args.root, args.companies, [int(s) for s in args.crm.split(",")])


if __name__ == "__main__":
    main()
