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
    assert listed == {"core_saas": 1_464, "emea_mid_market": 183}
    # A second init would overwrite the data: refused.
    again = invoke(["init", "--sample"])
    assert again.exit_code == 2


# --- explain a run -------------------------------------------------------------------------


def test_explain_reads_a_run_directory_from_anywhere(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace(ws)
    ws.crm([{"account_id": "A1", "name": "b Holdings", "domain": None, "status": "customer"}])
    # The build runs in the project with relative paths, as a scheduler would.
    monkeypatch.chdir(ws.root)
    args = ["build", "--companies", "companies.parquet", "--rules", "rules.toml"]
    args += ["--jobs", "jobs.parquet", "--crm", "crm.csv", "--as-of", "2026-10-25"]
    assert invoke([*args, "--out", "runs/oct"]).exit_code == 0
    summary = json.loads((ws.root / "runs" / "oct" / "summary.json").read_text())
    assert summary["inputs"]["companies"]["from_run"] == "../../companies.parquet"
    assert summary["rules"]["from_run"] == "../../rules.toml"
    # Elsewhere, and weeks later: the run's date, not today's, and its CRM.
    elsewhere = ws.root / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke(["explain", str(ws.root / "runs" / "oct"), "a"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == f"as of 2026-10-25, rules {ws.root / 'rules.toml'}; found by id"
    # As of 10-25, a (500 people +2, posting on 10-20 +1) leads a list of three: b is a
    # customer, c and d have a posting in the window (+1) and e is not in the US.
    assert lines[3].startswith("segment core: listed in Tier 1, rank 1 of 3 (score 3;")
    assert result.stderr == ""
    b = invoke(["explain", str(ws.root / "runs" / "oct"), "b"])
    assert "suppressed: its CRM account has status customer" in b.stdout
    # A changed input is used, but said to be.
    (ws.root / "jobs.parquet").unlink()
    ws.jobs(JOBS[:1])
    changed = invoke(["explain", str(ws.root / "runs" / "oct"), "a"])
    assert changed.exit_code == 0, changed.output
    assert changed.stderr.startswith(
        f"warning: jobs input {ws.root / 'jobs.parquet'} has changed since the run"
    )


def test_explain_with_a_run_directory_takes_no_input_options(ws: Workspace) -> None:
    workspace(ws)
    assert invoke(build_args(ws)).exit_code == 0
    result = invoke(["explain", str(ws.out), "a", "--as-of", "2026-12-01"])
    assert result.exit_code == 2
    assert "--as-of: a run directory gives the rules, inputs and as-of date" in result.stderr


def test_explain_without_a_run_or_a_date_says_which_date_it_uses(ws: Workspace) -> None:
    workspace(ws)
    args = [
        "--rules",
        str(ws.root / "rules.toml"),
        "--companies",
        str(ws.root / "companies.parquet"),
    ]
    args += ["--jobs", str(ws.root / "jobs.parquet")]
    result = invoke(["explain", "a", *args])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: no --as-of: explaining as of today, ")
    assert "explain RUN_DIR COMPANY" in result.stderr


def test_commands_that_name_their_inputs_work_beside_the_starter_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The starter project names data that is not there yet; explain, given its inputs,
    # does not need the project and must not fail on it.
    monkeypatch.chdir(tmp_path)
    assert invoke(["init"]).exit_code == 0
    repo = Path(__file__).resolve().parent.parent
    args = ["explain", "axorly.ca", "--rules", str(repo / "rules" / "hiring_funding.toml")]
    args += ["--companies", str(repo / "data" / "companies.parquet")]
    args += ["--jobs", str(repo / "data" / "jobs.parquet")]
    args += ["--funding", str(repo / "data" / "funding.parquet"), "--as-of", "2026-11-01"]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Axorly Analytics Inc. (C0014499, axorly.ca)")
