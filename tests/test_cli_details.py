"""Small things a first hour trips over: option order, CSV delimiters, folders of CSVs
with different columns, and paths in a run's summary and report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import polars as pl
import pytest

from listbuilder.cli import cli
from listbuilder.inputs import read_source
from tests.conftest import assert_cli_error, invoke


def build(sample: dict[str, Path], out: Path, *before: str) -> list[str]:
    roles = ("companies", "jobs", "funding", "crm", "rules")
    return [
        "build",
        *before,
        *(x for role in roles for x in (f"--{role}", str(sample[role]))),
        "--as-of",
        "2026-11-01",
        "--out",
        str(out),
    ]


@pytest.mark.parametrize("flag", ["--quiet", "-q", "--verbose", "-v"])
def test_quiet_and_verbose_work_after_the_command(
    flag: str, small_sample: dict[str, Path], tmp_path: Path
) -> None:
    result = invoke(build(small_sample, tmp_path / "out", flag))
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'out'}/" in result.stdout.splitlines()


def test_every_command_takes_quiet_and_verbose() -> None:
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        options = {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}
        assert {"--quiet", "-q", "--verbose", "-v"} <= options, name


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_the_csv_delimiter_is_read_from_the_header(delimiter: str, tmp_path: Path) -> None:
    path = tmp_path / "companies.csv"
    lines = [
        ["company_id", "name", "domain", "employees", "technologies"],
        ["c1", "Acme, Inc.", "acme.com", "120", "hubspot;slack"],
        ["c2", "Beta", "beta.io", "15", ""],
    ]
    if delimiter == ",":
        lines[1][1] = '"Acme, Inc."'
    if delimiter == ";":
        lines[1][4] = '"hubspot;slack"'
    path.write_text("\n".join(delimiter.join(row) for row in lines) + "\n", encoding="utf-8")
    frame = read_source(path, "companies").frame.collect()
    assert frame.columns == ["company_id", "name", "domain", "employees", "technologies"]
    assert frame.select("company_id", "name", "employees").rows() == [
        ("c1", "Acme, Inc.", 120),
        ("c2", "Beta", 15),
    ]
    assert frame["technologies"].to_list()[0] == ["hubspot", "slack"]


def test_a_folder_of_csvs_with_different_columns_names_them(tmp_path: Path) -> None:
    folder = tmp_path / "companies"
    folder.mkdir()
    (folder / "a.csv").write_text("company_id,name,domain\nc1,A,a.com\n", encoding="utf-8")
    (folder / "b.csv").write_text(
        "company_id,name,domain,employees\nc2,B,b.com,5\n", encoding="utf-8"
    )
    (folder / "c.csv").write_text("company_id,name,domain\nc3,C,c.com\n", encoding="utf-8")
    rules = tmp_path / "rules.toml"
    shutil.copy(Path(__file__).resolve().parent.parent / "rules" / "example.toml", rules)
    result = invoke(
        ["build", "--companies", str(folder), "--rules", str(rules), "--out", str(tmp_path / "o")]
    )
    assert_cli_error(
        result,
        1,
        f"the files in {folder} do not have the same columns: {folder / 'a.csv'} and "
        f"{folder / 'c.csv'} have company_id, name, domain; {folder / 'b.csv'} has "
        "company_id, name, domain, employees",
    )


def test_the_run_records_project_paths_relative_to_the_project(
    small_sample: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in small_sample.values():
        target = tmp_path / ("rules" if path.suffix == ".toml" else "data") / path.name
        target.parent.mkdir(exist_ok=True)
        shutil.copy(path, target)
    (tmp_path / "listbuilder.toml").write_text(
        '[inputs]\ncompanies = "data/companies.parquet"\nrules = "rules/rules.toml"\n'
        'crm = "data/crm.csv"\njobs = "data/jobs.parquet"\nfunding = "data/funding.parquet"\n'
        '[run]\nas_of = "2026-11-01"\nout = "out/{as_of:%Y-%m}"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = invoke(["build"])
    assert result.exit_code == 0, result.output
    run = tmp_path / "out" / "2026-11"
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["rules"]["path"] == "rules/rules.toml"
    assert summary["inputs"]["companies"]["path"] == "data/companies.parquet"
    report = (run / "report.html").read_text(encoding="utf-8")
    assert "Rules rules/rules.toml" in report
    assert str(tmp_path) not in report
    assert str(tmp_path) not in (run / "summary.json").read_text(encoding="utf-8")
    assert pl.read_parquet(run / "core_saas.parquet").height > 0
    # the same when the project file is named by its absolute path
    again = invoke(["build", "--config", str(tmp_path / "listbuilder.toml")])
    assert again.exit_code == 0, again.output
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["rules"]["path"] == "rules/rules.toml"
