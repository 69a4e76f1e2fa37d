"""The Spark engine (local mode) against polars: byte-identical list files.

Spark takes seconds to start and seconds per query on a small machine, so the module
shares one session (``local[1]``, few shuffle partitions) and runs fewer generated
examples than the DuckDB test; the constructs and data they draw from are the same.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from listbuilder.engines import get_engine
from listbuilder.rules import Rules
from tests.conftest import assert_cli_error, invoke
from tests.engines_cases import (
    GROWTH_REASONS,
    cases,
    growth_case,
    list_files,
    list_quote_case,
    signals_case,
)
from tests.test_engines import _reasons, _run_dir, same_run
from tests.test_sql import _build_candidates, _sql

pytest.importorskip("pyspark")
MASTER = "local[1]"


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    """One local Spark session for the whole module."""
    from listbuilder.engines.spark import start_session

    session = start_session(MASTER)
    yield session
    session.stop()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_spark_lists_are_byte_identical_to_polars(
    spark: object, case: tuple[Rules, dict[str, pl.DataFrame]]
) -> None:
    rules, tables = case
    engine = get_engine("spark", spark_master=MASTER)
    assert list_files(rules, tables, engine) == list_files(rules, tables, None)


def test_sample_run_is_identical_on_spark(
    spark: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    polars_files = _run_dir(tmp_path, monkeypatch, "polars")
    spark_files = _run_dir(tmp_path, monkeypatch, "spark")
    assert "researching our category +2: " in polars_files["core_saas.csv"].decode()
    assert same_run(spark_files, polars_files, "spark")


def test_spark_query_gives_the_builds_candidates(
    spark: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _build_candidates(tmp_path, monkeypatch)
    for name in ("companies", "jobs", "funding"):
        spark.read.parquet(f"data/{name}.parquet").createOrReplaceTempView(f"vendor_{name}")  # type: ignore[attr-defined]
    # The other event tables under their default names.
    for name in ("exec_hires", "intent", "layoffs", "headcount"):
        spark.read.parquet(f"data/{name}.parquet").createOrReplaceTempView(name)  # type: ignore[attr-defined]
    text = _sql(
        "--dialect", "spark", "--table", "companies=vendor_companies",
        "--events", "hiring=vendor_jobs", "--events", "funding=vendor_funding",
    )  # fmt: skip
    got = pl.from_arrow(spark.sql(text).toArrow())  # type: ignore[attr-defined]
    assert isinstance(got, pl.DataFrame)
    assert got.height > 1000
    assert got.select(expected.columns).sort("company_id").equals(expected)


def test_missing_pyspark_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    result = invoke(["build", "--engine", "spark", "--out", str(tmp_path / "out")])
    assert_cli_error(
        result,
        2,
        "the spark engine needs the `pyspark` package, which is not installed; "
        "install it with: pip install 'listbuilder[spark]'",
    )


def test_spark_without_java_says_what_to_install(tmp_path: Path) -> None:
    # A fresh process, so no session is running yet; JAVA_HOME points at no Java.
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java")}
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "listbuilder", "build", "--engine", "spark", "--out", str(out)],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    error = done.stderr[done.stderr.index("Error: ") :]
    assert error.startswith("Error: the Spark session could not start (")
    assert error.endswith(
        "Spark needs a Java runtime (17 or later): install one (Debian/Ubuntu: "
        "apt-get install default-jre-headless) or point JAVA_HOME at it\n"
    )
    assert not out.exists()


def test_spark_master_needs_the_spark_engine(tmp_path: Path) -> None:
    result = invoke(["build", "--spark-master", "local[2]", "--out", str(tmp_path / "out")])
    assert_cli_error(
        result, 2, "--spark-master applies to the spark engine only; add --engine spark"
    )


def test_behavioural_signals_are_identical_on_spark(spark: object) -> None:
    rules, tables = signals_case(total=True)
    engine = get_engine("spark", spark_master=MASTER)
    assert list_files(rules, tables, engine) == list_files(rules, tables, None)


def test_growth_edges_are_identical_on_spark(spark: object) -> None:
    rules, tables = growth_case()
    files = list_files(rules, tables, None)
    assert _reasons(files, "growing") == GROWTH_REASONS
    assert list_files(rules, tables, get_engine("spark", spark_master=MASTER)) == files


def test_a_quoted_list_column_is_identical_on_spark(spark: Any) -> None:
    rules, tables = list_quote_case()
    engine = get_engine("spark", spark_master=MASTER)
    spark.conf.set("spark.sql.caseSensitive", "false")
    assert list_files(rules, tables, engine) == list_files(rules, tables, None)
    # The shared session keeps its own setting.
    assert spark.conf.get("spark.sql.caseSensitive") == "false"
