"""The `export` command, and exports written by `build` from the project file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from listbuilder.errors import DataError
from listbuilder.outputs import REGISTRY, destination_names
from tests.conftest import Workspace, assert_cli_error, invoke, snapshot
from tests.test_exports import COMPANIES, CRM, RULES

KNOWN = "apollo, domains, hubspot, linkedin, outreach, salesforce, salesloft"


@pytest.fixture
def run_dir(ws: Workspace) -> Path:
    ws.companies(COMPANIES)
    ws.rules(RULES)
    ws.build(crm=ws.crm(CRM))
    return ws.out


def test_export_writes_the_files_and_reports_warnings_on_stderr(run_dir: Path, tmp_path: Path):
    out = tmp_path / "exports"
    result = invoke(
        [
            "export",
            str(run_dir),
            "--to",
            "linkedin, domains",
            "--tiers",
            "Tier 1",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"wrote {out / 'saas.linkedin.2026-11-01.csv'} (2 rows)\n"
        f"wrote {out / 'saas.domains.2026-11-01.txt'} (2 rows)\n"
    )
    assert result.stderr == (
        "warning: saas.linkedin: 2 companies; LinkedIn will refuse this file: a company list "
        "needs at least 300 companies\n"
    )
    assert (out / "saas.domains.2026-11-01.txt").read_text() == "alpha.com\nbeta.io\n"


def test_export_one_segment(run_dir: Path, tmp_path: Path):
    out = tmp_path / "exports"
    result = invoke(
        ["export", str(run_dir), "--to", "apollo", "--segment", "saas", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".listbuilder.json",
        "export.json",
        "saas.apollo.2026-11-01.csv",
    ]


def test_help_names_every_destination():
    result = invoke(["export", "--help"])
    assert result.exit_code == 0
    assert all(name in result.output for name in destination_names())


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (
            ["--to", "linkedin,fax"],
            2,
            f"unknown destination(s) 'fax'; valid destinations are {KNOWN}",
        ),
        (["--to", " , "], 2, f"no destination given; valid destinations are {KNOWN}"),
        (
            ["--to", "linkedin", "--segment", "enterprise"],
            2,
            "unknown segment 'enterprise'; the run {run} has segments saas",
        ),
        (
            ["--to", "linkedin", "--tiers", "Tier 1,Gold"],
            2,
            "unknown tier(s) 'Gold'; the run {run} has tiers Tier 1, Tier 2",
        ),
    ],
)
def test_bad_options_are_clean_errors(
    run_dir: Path, tmp_path: Path, args: list[str], exit_code: int, message: str
):
    out = tmp_path / "exports"
    result = invoke(["export", str(run_dir), *args, "--out", str(out)])
    assert_cli_error(result, exit_code, message.format(run=run_dir))
    assert not out.exists()


def test_a_directory_without_summary_is_a_clean_error(tmp_path: Path):
    result = invoke(["export", str(tmp_path), "--to", "linkedin", "--out", str(tmp_path / "x")])
    assert_cli_error(
        result,
        1,
        f"{tmp_path} is not a run directory: it has no summary.json (a run directory is "
        "written by `listbuilder build --out DIR`)",
    )


def test_out_being_the_run_is_refused_and_the_run_kept(run_dir: Path):
    before = snapshot(run_dir)
    result = invoke(["export", str(run_dir), "--to", "linkedin", "--out", str(run_dir)])
    assert_cli_error(
        result,
        2,
        f"{run_dir} is a listbuilder run directory, not an export directory; choose another "
        "output path (--out) or remove it yourself",
    )
    assert snapshot(run_dir) == before


PROJECT = """
[inputs]
companies = "companies.parquet"
rules = "rules.toml"
crm = "crm.csv"
[run]
as_of = "2026-11-01"
out = "out/{as_of:%Y-%m}"
[exports]
to = ["linkedin", "domains"]
tiers = ["Tier 1"]
"""


@pytest.fixture
def project(ws: Workspace) -> Path:
    ws.companies(COMPANIES)
    ws.rules(RULES)
    ws.crm(CRM)
    path = ws.root / "listbuilder.toml"
    path.write_text(PROJECT, encoding="utf-8")
    return path


def test_build_writes_the_projects_exports_into_the_run(project: Path):
    result = invoke(["--quiet", "build", "--config", str(project)])
    assert result.exit_code == 0, result.output
    run = project.parent / "out" / "2026-11"
    assert f"exports: 2 files in {run / 'exports'}/\n" in result.stdout
    assert "  saas.linkedin.2026-11-01.csv\n  saas.domains.2026-11-01.txt\n" in result.stdout
    assert "warning: saas.linkedin: 2 companies; LinkedIn will refuse this" in result.stderr
    assert sorted(p.name for p in (run / "exports").iterdir()) == [
        ".listbuilder.json",
        "export.json",
        "saas.domains.2026-11-01.txt",
        "saas.linkedin.2026-11-01.csv",
    ]
    assert (run / "exports" / "saas.domains.2026-11-01.txt").read_text() == "alpha.com\nbeta.io\n"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["exports"]["files"] == [
        "saas.linkedin.2026-11-01.csv",
        "saas.domains.2026-11-01.txt",
    ]
    # The same bytes as `listbuilder export` makes from the finished run.
    out = project.parent / "again"
    again = invoke(
        ["export", str(run), "--to", "linkedin,domains", "--tiers", "Tier 1", "--out", str(out)]
    )
    assert again.exit_code == 0, again.output
    assert snapshot(out) == snapshot(run / "exports")


def _fail(prepared: object) -> list[str]:
    raise DataError("the destination broke")


def test_a_failing_export_fails_the_build_and_keeps_the_previous_run(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    assert invoke(["--quiet", "build", "--config", str(project)]).exit_code == 0
    run = project.parent / "out" / "2026-11"
    before = snapshot(run)
    broken = dataclasses.replace(REGISTRY["domains"], name="broken", notes=_fail)
    monkeypatch.setitem(REGISTRY, "broken", broken)
    project.write_text(PROJECT.replace('"domains"]', '"broken"]'), encoding="utf-8")
    result = invoke(["--quiet", "build", "--config", str(project)])
    assert_cli_error(result, 1, "the destination broke")
    assert snapshot(run) == before
    assert sorted(p.name for p in run.parent.iterdir()) == ["2026-11"]


def test_an_unknown_destination_in_the_project_file_names_its_key(project: Path):
    project.write_text(PROJECT.replace('"domains"]', '"fax"]'), encoding="utf-8")
    result = invoke(["build", "--config", str(project)])
    assert result.exit_code == 2
    assert "exports.to: unknown destination 'fax'; valid destinations are" in result.stderr
    assert not (project.parent / "out").exists()


def test_the_report_says_linkedin_will_refuse_a_short_list(project: Path):
    result = invoke(["--quiet", "build", "--config", str(project)])
    assert result.exit_code == 0, result.output
    report = (project.parent / "out" / "2026-11" / "report.html").read_text(encoding="utf-8")
    section = report[report.index('<section class="warnings"') :]
    section = section[: section.index("</section>")]
    assert (
        "<li>saas.linkedin: 2 companies; LinkedIn will refuse this file: a company list needs "
        "at least 300 companies</li>"
    ) in section
