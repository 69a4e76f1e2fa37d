"""The first hour: what a build says at its end, dates past the data, init, explain a run.

Inputs are the small workspace of tests/test_cli.py: five companies, three listed in one
segment, job postings up to 2026-10-20.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Workspace, invoke
from tests.test_cli import COMPANIES, JOBS, RULES, build_args


def workspace(ws: Workspace) -> Workspace:
    ws.companies(COMPANIES)
    ws.jobs(JOBS)
    ws.rules(RULES)
    return ws


# --- the end-of-run summary -------------------------------------------------------------


def test_the_summary_judges_the_size_and_names_the_report(ws: Workspace) -> None:
    result = invoke(build_args(workspace(ws)))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # Three accounts listed: the report's judgement, in the terminal too.
    assert "core: too small to run ads on: 3 accounts listed" in lines
    assert lines[-1] == f"report: {ws.out / 'report.html'}"
    assert (ws.out / "report.html").is_file()


def test_a_run_without_a_crm_warns_that_nothing_was_suppressed(ws: Workspace) -> None:
    result = invoke(build_args(workspace(ws)))
    assert result.exit_code == 0, result.output
    assert "warning: no CRM: customers and open opportunities cannot be suppressed" in (
        result.stderr
    )
    ws.crm([{"account_id": "A1", "name": "x", "domain": "x.example", "status": "customer"}])
    with_crm = invoke(build_args(ws, **{"--crm": str(ws.root / "crm.csv")}))
    assert with_crm.exit_code == 0, with_crm.output
    assert "no CRM" not in with_crm.stderr


def test_the_summary_adds_up_the_changes_and_names_the_previous_run(ws: Workspace) -> None:
    workspace(ws)
    first = ws.root / "october"
    assert invoke(build_args(ws, **{"--as-of": "2026-10-01", "--out": str(first)})).exit_code == 0
    result = invoke(build_args(ws, **{"--previous": str(first)}))
    assert result.exit_code == 0, result.output
    # October (as of 10-01): a 2 (its posting is later) and b 2 in Tier 2; c 0 (its
    # posting is later); d 1 (posting 09-30) in Tier 2. November: a 3, Tier 1 (up); b the
    # same; c 1, Tier 2 (added); d 0, its posting 32 days old (dropped).
    assert f"since {first} (as of 2026-10-01): 1 added, 1 dropped, 1 tier up" in (
        result.stdout.splitlines()
    )


# --- an as-of date past the data -------------------------------------------------------------


def test_an_as_of_date_after_the_newest_event_is_warned_about(ws: Workspace) -> None:
    result = invoke(build_args(workspace(ws), **{"--as-of": "2026-12-15"}))
    assert result.exit_code == 0, result.output
    jobs = ws.root / "jobs.parquet"
    assert (
        "warning: as of 2026-12-15 is after the newest signal events: "
        f"jobs ({jobs}) ends 2026-10-20, 56 days earlier."
    ) in result.stderr
    assert ws.summary()["inputs"]["jobs"]["last_date"] == "2026-10-20"
    in_range = invoke(build_args(ws, **{"--as-of": "2026-10-20"}))
    assert in_range.exit_code == 0, in_range.output
    assert "newest signal events" not in in_range.stderr


# --- init ----------------------------------------------------------------------------------


def test_init_in_an_empty_directory_says_what_to_run_next(tmp_path: Path) -> None:
    result = invoke(["init", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"wrote {tmp_path / 'listbuilder.toml'}",
        f"wrote {tmp_path / 'rules' / 'icp.toml'}",
    ]
    # The starter names tables that are not there yet: say which, and how to go on.
    assert (
        "missing: data/companies.parquet, data/jobs.parquet, data/funding.parquet, " in (lines[2])
    )
    assert lines[2].endswith(f"then run: cd {tmp_path} && listbuilder build")
    assert lines[3] == (
        "or try the sample data first: listbuilder init --sample --dir sample && "
        "cd sample && listbuilder build"
    )


def test_init_sample_then_build_reproduces_the_documented_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    init = invoke(["init", "--sample"])
    assert init.exit_code == 0, init.output
    assert init.stdout.splitlines()[-2] == "next: listbuilder build"
    build = invoke(["--quiet", "build"])
    assert build.exit_code == 0, build.output
    # The run is pinned to the sample's date, so no warning about dates past the data,
    # and its numbers are the sample's documented ones.
    assert "newest signal events" not in build.stderr
    summary = json.loads((tmp_path / "out" / "2026-11" / "summary.json").read_text())
    assert summary["as_of"] == "2026-11-01"
    listed = {s["name"]: s["funnel"]["listed"] for s in summary["segments"]}
    assert listed == {"core_saas": 1_450, "emea_mid_market": 672}
    # A second init would overwrite the data: refused.
    again = invoke(["init", "--sample"])
    assert again.exit_code == 2
