"""The DuckDB engine against polars: byte-identical list files on generated rules and data,
and on the sample data with rules/example.toml."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from listbuilder.engines import get_engine, table_of
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

duckdb = pytest.importorskip("duckdb")
REPO = Path(__file__).resolve().parent.parent
SAMPLE = ("--jobs", "data/jobs.parquet", "--funding", "data/funding.parquet")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_duckdb_lists_are_byte_identical_to_polars(
    case: tuple[Rules, dict[str, pl.DataFrame]],
) -> None:
    rules, tables = case
    assert list_files(rules, tables, get_engine("duckdb")) == list_files(rules, tables, None)


def _run_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, rules: str = "rules/example.toml"
) -> dict[str, bytes]:
    """The sample build (``rules``, the data in data/) on ``engine``."""
    monkeypatch.chdir(REPO)
    out = tmp_path / f"{engine}-{Path(rules).stem}"
    args = ["build", "--as-of", "2026-11-01", "--rules", rules, "--engine", engine]
    result = invoke([*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def test_sample_run_is_identical_on_duckdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    polars_files = _run_dir(tmp_path, monkeypatch, "polars")
    duckdb_files = _run_dir(tmp_path, monkeypatch, "duckdb")
    assert {"core_saas.csv", "emea_mid_market.parquet", "suppressed.csv"} <= set(polars_files)
    # The example rules read every kind of signal: growth, min_distinct, min_total, where.
    text = polars_files["core_saas.csv"].decode()
    assert "headcount up 20% in six months +1: " in text
    assert "researching our category +2: abm, outbound automation, sales engagement (" in text
    assert same_run(duckdb_files, polars_files, "duckdb")


def same_run(files: dict[str, bytes], polars_files: dict[str, bytes], engine: str) -> bool:
    """Every file byte-identical; the summaries differ only in naming the engine (and so
    the run marker only in the summary's checksum)."""
    summary, polars_summary = (json.loads(f.pop("summary.json")) for f in (files, polars_files))
    assert (summary.pop("engine"), polars_summary.pop("engine")) == (engine, "polars")
    assert summary == polars_summary
    marker, polars_marker = (json.loads(f.pop(".listbuilder.json")) for f in (files, polars_files))
    for m in (marker, polars_marker):
        del m["files"]["summary.json"]
    assert marker == polars_marker
    return files == polars_files


def test_sample_run_scans_the_parquet_files_directly(tmp_path: Path) -> None:
    # The sample's parquet files hold the canonical schema: DuckDB reads them itself.
    from listbuilder.inputs import read_source

    assert table_of(read_source(REPO / "data/companies.parquet", "companies")).parquet
    csv = tmp_path / "companies.csv"
    pl.read_parquet(REPO / "data/companies.parquet").head(3).drop("technologies").write_csv(csv)
    # A CSV is typed by polars first (identifiers stay text), then handed over.
    assert table_of(read_source(csv, "companies")).parquet == ()


def test_engine_from_the_project_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    project = tmp_path / "listbuilder.toml"
    project.write_text('[run]\nengine = "duckdb"\n', encoding="utf-8")
    out = tmp_path / "out"
    args = ["-q", "build", "--config", str(project), "--as-of", "2026-11-01"]
    args += ["--companies", "data/companies.parquet", "--rules", "rules/hiring_funding.toml"]
    args += [*SAMPLE, "--out", str(out)]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["engine"] == "duckdb"
    # The option overrides the project file.
    result = invoke([*args, "--engine", "polars"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["engine"] == "polars"


def test_unknown_engine_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = invoke(["build", "--engine", "oracle", "--out", str(tmp_path / "out")])
    assert_cli_error(
        result, 2, "unknown engine 'oracle'; valid engines are ['polars', 'duckdb', 'spark']"
    )
    assert not (tmp_path / "out").exists()


def test_unknown_engine_in_the_project_file(tmp_path: Path) -> None:
    project = tmp_path / "listbuilder.toml"
    project.write_text('[run]\nengine = "pandas"\n', encoding="utf-8")
    result = invoke(["build", "--config", str(project)])
    assert_cli_error(
        result,
        2,
        f"invalid project file {project}:\n  - run.engine: unknown engine 'pandas'; "
        "valid engines are ['polars', 'duckdb', 'spark']",
    )


def test_missing_duckdb_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setitem(sys.modules, "duckdb", None)  # as if it were not installed
    result = invoke(["build", "--engine", "duckdb", "--out", str(tmp_path / "out")])
    assert_cli_error(
        result,
        2,
        "the duckdb engine needs the `duckdb` package, which is not installed; "
        "install it with: pip install 'listbuilder[duckdb]'",
    )


@pytest.mark.parametrize("total", [False, True])
def test_behavioural_signals_are_identical_on_duckdb(total: bool) -> None:
    # Named event tables, where, contains, min_count, min_total, signal tests in include
    # and exclude, fit/intent groups and percent tiers, on data where each one matters.
    rules, tables = signals_case(total)
    files = list_files(rules, tables, None)
    assert "researching abm +3: 2 events, latest " in files["intent_led.csv"].decode()
    assert list_files(rules, tables, get_engine("duckdb")) == files


def test_a_quoted_list_column_is_identical_on_duckdb() -> None:
    rules, tables = list_quote_case()
    files = list_files(rules, tables, None)
    day = "2026-10-30"
    assert _reasons(files, "ads") == {
        "c0": f"ad channel +1: 3 events, latest web, ads, {day}",
        "c1": "ad channel +1: ads, 2026-10-29",
        "c2": "",
    }
    assert list_files(rules, tables, get_engine("duckdb")) == files


def _reasons(files: dict[str, bytes], segment: str) -> dict[str, str]:
    listed = pl.read_parquet(io.BytesIO(files[f"{segment}.parquet"]))
    return dict(zip(listed["company_id"], listed["reasons"].fill_null(""), strict=True))


def test_growth_edges_are_identical_on_duckdb() -> None:
    # then == 0, null values falling back, nothing measured after the cut-off, the
    # cut-off day itself, two measurements on one day, rounding half to even, -0.0.
    rules, tables = growth_case()
    files = list_files(rules, tables, None)
    assert _reasons(files, "growing") == GROWTH_REASONS
    assert list_files(rules, tables, get_engine("duckdb")) == files


def test_constructs_the_compiler_lacks_are_named(tmp_path: Path) -> None:
    events = tmp_path / "reviews.parquet"
    pl.DataFrame(
        {"company_id": ["c1"], "date": [dt.date(2026, 10, 1)], "tags": [[4.5]], "stars": [4.5]}
    ).write_parquet(events)
    rules = tmp_path / "icp.toml"
    rules.write_text(
        """
[[segments]]
name = "a"
[[segments.score]]
label = "tagged crm"
signal = "reviews"
where = { tags = { missing = false } }
within_days = 90
points = 1
[[segments.score]]
label = "varied ratings"
signal = "reviews"
within_days = 90
min_distinct = { stars = 2 }
points = 1
[[segments.tiers]]
name = "All"
min_score = 0
""",
        encoding="utf-8",
    )
    args = ["build", "--as-of", "2026-11-01", "--rules", str(rules), "--engine", "duckdb"]
    args += ["--companies", str(REPO / "data/companies.parquet"), "--events", f"reviews={events}"]
    result = invoke([*args, "--out", str(tmp_path / "out")])
    assert_cli_error(
        result,
        2,
        f"the duckdb engine cannot run {rules} yet; these constructs need the polars "
        "engine (--engine polars): segments[0].score[0]: a signal quoting the latest "
        "event's List(Float64) column tags; segments[0].score[1].min_distinct.stars: "
        "distinct values of a Float64 column",
    )
    assert not (tmp_path / "out").exists()
