"""The command line: help everywhere, the build command, and every bad input.

A bad input gives one ``Error:`` paragraph, a non-zero exit status, no traceback, and
leaves ``--out`` exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from listbuilder.cli import cli
from tests.conftest import Workspace, assert_cli_error, invoke, snapshot

RULES = """
[[segments]]
name = "core"
[segments.include]
country = ["US"]
[[segments.score]]
label = "big"
when = { employees = { min = 100 } }
points = 2
[[segments.score]]
label = "hiring"
signal = "hiring"
within_days = 30
points = 1
[[segments.tiers]]
name = "Tier 1"
min_score = 3
[[segments.tiers]]
name = "Tier 2"
min_score = 1
"""
COMPANIES = [
    {"company_id": "a", "country": "US", "employees": 500},  # 2 + 1 = 3: Tier 1
    {"company_id": "b", "country": "US", "employees": 150},  # 2: Tier 2
    {"company_id": "c", "country": "US", "employees": 10},  # 1: Tier 2
    {"company_id": "d", "country": "US", "employees": 10},  # 0: not qualified
    {"company_id": "e", "country": "FR", "employees": 900},  # not eligible
]
JOBS = [
    {"company_id": "a", "posted_date": dt.date(2026, 10, 20)},
    {"company_id": "c", "posted_date": dt.date(2026, 10, 2)},
    {"company_id": "d", "posted_date": dt.date(2026, 9, 30)},  # 32 days before as-of
]


def build_args(ws: Workspace, **override: str) -> list[str]:
    args = {
        "--companies": str(ws.root / "companies.parquet"),
        "--rules": str(ws.root / "rules.toml"),
        "--jobs": str(ws.root / "jobs.parquet"),
        "--as-of": "2026-11-01",
        "--out": str(ws.out),
        **override,
    }
    return ["build", *(x for pair in args.items() for x in pair)]


@pytest.fixture
def ready(ws: Workspace) -> Workspace:
    """Valid inputs, and a run directory from an earlier run that must survive failures."""
    ws.companies(COMPANIES)
    ws.jobs(JOBS)
    ws.rules(RULES)
    ws.build(jobs=ws.root / "jobs.parquet", as_of=dt.date(2026, 10, 1))
    return ws


# --- help ---------------------------------------------------------------------------------


def test_every_command_has_help() -> None:
    assert cli.help
    result = invoke(["--help"])
    assert result.exit_code == 0
    assert isinstance(cli, click.Group)
    assert "build" in cli.commands
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help text"
        result = invoke([name, "--help"])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"Usage: cli {name} "), result.stdout
        summary = " ".join(command.help.split("\n\n")[0].split())
        assert summary in " ".join(result.stdout.split())  # the help text, wrapped
        undocumented = [
            p.name for p in command.params if isinstance(p, click.Option) and not p.help
        ]
        assert undocumented == [], f"{name}: options without help: {undocumented}"


def test_python_dash_m_listbuilder_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "listbuilder", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: listbuilder [OPTIONS] COMMAND [ARGS]...")
    assert "build" in done.stdout


# --- the build command ---------------------------------------------------------------------


def test_build_writes_the_lists_and_prints_the_funnel(ready: Workspace) -> None:
    result = invoke(build_args(ready))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "as of 2026-11-01: 5 companies read"
    assert lines[1].split() == [
        "segment",
        "eligible",
        "qualified",
        "suppressed",
        "Tier",
        "1",
        "Tier",
        "2",
        "listed",
    ]
    assert lines[3].split() == ["core", "4", "3", "0", "1", "2", "3"]
    assert lines[-2:] == [f"wrote {ready.out}/", f"report: {ready.out / 'report.html'}"]
    assert ready.listed("core").select("company_id", "tier", "rank", "score").rows() == [
        ("a", "Tier 1", 1, 3),
        ("b", "Tier 2", 2, 2),
        ("c", "Tier 2", 3, 1),
    ]
    # the earlier run (as of October) is replaced whole
    assert (ready.out / "core.csv").read_text(encoding="utf-8").startswith("segment,tier,rank")
    assert ready.summary()["as_of"] == "2026-11-01"


def test_as_of_defaults_to_today(ready: Workspace) -> None:
    args = build_args(ready)
    i = args.index("--as-of")
    result = invoke(args[:i] + args[i + 2 :])
    assert result.exit_code == 0, result.output
    assert ready.summary()["as_of"] == dt.date.today().isoformat()


def test_build_with_no_options_runs_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Path(__file__).resolve().parent.parent
    (tmp_path / "data").symlink_to(repo / "data")
    (tmp_path / "rules").symlink_to(repo / "rules")
    monkeypatch.chdir(tmp_path)
    result = invoke(["build"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2:] == ["wrote out/", "report: out/report.html"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["as_of"] == dt.date.today().isoformat()
    assert summary["rules"]["path"] == "rules/example.toml"
    assert {role: i["path"] for role, i in summary["inputs"].items()} == {
        "companies": "data/companies.parquet",
        "jobs": "data/jobs.parquet",
        "funding": "data/funding.parquet",
        "exec_hires": "data/exec_hires.parquet",
        "intent": "data/intent.parquet",
        "layoffs": "data/layoffs.parquet",
        "headcount": "data/headcount.parquet",
        "crm": "data/crm.csv",
    }
    assert summary["inputs"]["companies"]["rows"] == 50_000
    for seg in ("core_saas", "emea_mid_market"):
        assert (tmp_path / "out" / f"{seg}.csv").is_file()
        assert (tmp_path / "out" / f"{seg}.parquet").is_file()
    assert (tmp_path / "out" / "suppressed.csv").is_file()


# --- bad input ------------------------------------------------------------------------------


def check_untouched(ws: Workspace, before: dict[str, bytes], listing: list[str]) -> None:
    assert snapshot(ws.out) == before
    assert sorted(p.name for p in ws.root.iterdir()) == listing


def run_failing(ws: Workspace, **override: str) -> click.testing.Result:
    before = snapshot(ws.out)
    listing = sorted(p.name for p in ws.root.iterdir())
    result = invoke(build_args(ws, **override))
    check_untouched(ws, before, listing)
    return result


def test_missing_input_files(ready: Workspace) -> None:
    missing = str(ready.root / "nope.parquet")
    assert_cli_error(
        run_failing(ready, **{"--companies": missing}), 1, f"input file not found: {missing}"
    )
    assert_cli_error(
        run_failing(ready, **{"--jobs": missing}), 1, f"input file not found: {missing}"
    )
    pattern = str(ready.root / "*.nope")
    assert_cli_error(run_failing(ready, **{"--companies": pattern}), 1, f"no files match {pattern}")
    empty = ready.root / "empty_dir"
    empty.mkdir()
    assert_cli_error(
        run_failing(ready, **{"--companies": str(empty)}),
        1,
        f"directory {empty} holds no data files; expected .csv, .jsonl, .ndjson, .parquet, .pq",
    )


def test_missing_rules_file(ready: Workspace) -> None:
    path = str(ready.root / "nope.toml")
    assert_cli_error(
        run_failing(ready, **{"--rules": path}),
        2,
        f"invalid rules file {path}:\n  - file not found",
    )


def test_corrupt_and_empty_files(ready: Workspace) -> None:
    corrupt = ready.root / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 this is not really parquet")
    assert_cli_error(
        run_failing(ready, **{"--companies": str(corrupt)}),
        1,
        f"cannot read companies file {corrupt}: ",
        prefix=True,
    )
    empty = ready.root / "empty.csv"
    empty.write_bytes(b"")
    assert_cli_error(
        run_failing(ready, **{"--jobs": str(empty)}),
        1,
        f"cannot read jobs file {empty}: ",
        prefix=True,
    )
    unknown = ready.root / "companies.xlsx"
    unknown.write_bytes(b"PK\x03\x04")
    assert_cli_error(
        run_failing(ready, **{"--companies": str(unknown)}),
        1,
        f"cannot read {unknown}: unknown file type .xlsx; expected one of "
        ".csv, .jsonl, .ndjson, .parquet, .pq",
    )


def test_values_that_cannot_be_read_are_counted_not_fatal(ready: Workspace) -> None:
    bad = ready.root / "bad_jobs.csv"
    bad.write_text("company_id,posted_date\na,last tuesday\na,2026-10-30\n", encoding="utf-8")
    result = invoke(build_args(ready, **{"--jobs": str(bad)}))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"warning: jobs input {bad}: 1 value of `posted_date` could not be read and is "
        "treated as empty, e.g. 'last tuesday'"
    )
    summary = json.loads((ready.out / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"]["jobs"]["bad_values"] == {"posted_date": 1}


def test_values_that_cannot_be_read_fail_cleanly(ready: Workspace) -> None:
    # An extra column's type is guessed from the first 10,000 rows; a later value of
    # another type fails the run, cleanly.
    bad = ready.root / "bad_companies.csv"
    rows = "".join(f"c{i},C,c{i}.example,US,500,{i}\n" for i in range(10_001))
    bad.write_text(
        f"company_id,name,domain,country,employees,owner\n{rows}z,Z,z.example,US,500,x\n",
        encoding="utf-8",
    )
    assert_cli_error(
        run_failing(ready, **{"--companies": str(bad)}),
        1,
        "could not process the input data: ",
        prefix=True,
    )


def test_a_missing_required_column_is_named(ready: Workspace) -> None:
    path = ready.root / "companies.csv"
    path.write_text("company_id,name,employees\na,A,10\n", encoding="utf-8")
    assert_cli_error(
        run_failing(ready, **{"--companies": str(path)}),
        1,
        f"companies file {path} lacks required column(s) domain; "
        "it has: company_id, name, employees",
    )
    crm = ready.root / "crm.csv"
    crm.write_text("account_id,name\nA1,A\n", encoding="utf-8")
    assert_cli_error(
        run_failing(ready, **{"--crm": str(crm)}),
        1,
        f"crm file {crm} lacks required column(s) domain, status; it has: account_id, name",
    )


@pytest.mark.parametrize("as_of", ["2026-13-01", "yesterday", "01/11/2026", ""])
def test_an_invalid_as_of(ready: Workspace, as_of: str) -> None:
    assert_cli_error(
        run_failing(ready, **{"--as-of": as_of}),
        2,
        f"Invalid value for '--as-of': expected a date as YYYY-MM-DD, got {as_of!r}",
        usage=True,
    )


def test_rule_errors_list_every_problem(ready: Workspace) -> None:
    ready.rules(
        RULES.replace("points = 2", 'points = "two"').replace("min_score = 1", "min_score = 3")
        + "\n[segments.exclude]\nheadcount = { max = 5 }\n"
    )
    path = ready.root / "rules.toml"
    assert_cli_error(
        run_failing(ready),
        2,
        f"invalid rules file {path}:\n"
        "  - segments[0].score[0].points: expected an integer, got string 'two'\n"
        "  - segments[0].tiers[1].min_score: tiers must be listed highest first with strictly "
        "descending min_score; 3 is not below 3 (Tier 1)",
    )


def test_a_rule_on_a_column_the_data_lacks(ready: Workspace) -> None:
    ready.rules(RULES + "\n[segments.exclude]\nheadcount = { max = 5 }\n")
    companies = ready.root / "companies.parquet"
    assert_cli_error(
        run_failing(ready),
        2,
        f"invalid rules file {ready.root / 'rules.toml'}:\n"
        "  - segments[0].exclude.headcount: column `headcount` is not in the companies data "
        f"({companies}); it has: name, domain, company_id, country, employees",
    )


def test_malformed_toml(ready: Workspace) -> None:
    (ready.root / "rules.toml").write_text("[[segments]\nname = 1\n", encoding="utf-8")
    result = run_failing(ready)
    assert_cli_error(
        result,
        2,
        f"invalid rules file {ready.root / 'rules.toml'}:\n  - malformed TOML: ",
        prefix=True,
    )
    assert "line 1" in result.stderr
