"""The project file: parsing, precedence, as-of rules, finding last month's run, init."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from listbuilder.cli import cli
from listbuilder.config import (
    build_settings,
    find_previous_run,
    init_project,
    load_project,
    resolve_as_of,
)
from listbuilder.errors import ConfigError
from listbuilder.rules import load_rules
from tests.test_changes import RUN1_COUNTRY, RUN1_EMPLOYEES, write_inputs


def write_project(root: Path, body: str) -> Path:
    path = root / "listbuilder.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rule", "today", "expected"),
    [
        ("today", dt.date(2026, 11, 24), dt.date(2026, 11, 24)),
        ("first-of-month", dt.date(2026, 11, 24), dt.date(2026, 11, 1)),
        ("first-of-month", dt.date(2026, 11, 1), dt.date(2026, 11, 1)),
        ("first-of-quarter", dt.date(2026, 11, 24), dt.date(2026, 10, 1)),
        ("first-of-quarter", dt.date(2026, 3, 31), dt.date(2026, 1, 1)),
        (dt.date(2025, 6, 1), dt.date(2026, 11, 24), dt.date(2025, 6, 1)),
    ],
)
def test_as_of_rules(rule: str | dt.date, today: dt.date, expected: dt.date) -> None:
    assert resolve_as_of(rule, today) == expected


def test_every_problem_is_reported_with_its_key(tmp_path: Path) -> None:
    path = write_project(
        tmp_path,
        """
        colour = "blue"
        [inputs]
        companies = "missing.parquet"
        [run]
        as_of = "end-of-month"
        out = "out/{month}"
        extra = 1
        [exports]
        to = ["linkedin", "myspace"]
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_project(path)
    message = str(caught.value)
    assert f"invalid project file {path}" in message
    assert "colour: unknown key; valid keys are ['exports', 'inputs', 'run']" in message
    assert f"inputs.companies: {tmp_path / 'missing.parquet'} does not exist" in message
    assert "inputs.rules: required when inputs.companies is set" in message
    assert "run.as_of: invalid value 'end-of-month'" in message
    assert "run.out: bad pattern 'out/{month}'" in message
    assert "run.extra: unknown key" in message
    assert "exports.to: unknown destination 'myspace'" in message


def test_malformed_project_file(tmp_path: Path) -> None:
    path = write_project(tmp_path, "[run\nas_of = 1")
    with pytest.raises(ConfigError, match="malformed TOML"):
        load_project(path)


def test_previous_run_is_found_by_date_not_name(tmp_path: Path) -> None:
    for name, as_of in (("2026-09", "2026-09-01"), ("2026-10", "2026-10-01"), ("x", "2026-12-01")):
        (tmp_path / "out" / name).mkdir(parents=True)
        (tmp_path / "out" / name / "summary.json").write_text(json.dumps({"as_of": as_of}))
    (tmp_path / "out" / "junk").mkdir()
    pattern = str(tmp_path / "out" / "{as_of:%Y-%m}")
    assert find_previous_run(pattern, dt.date(2026, 11, 1)) == tmp_path / "out" / "2026-10"
    assert find_previous_run(pattern, dt.date(2026, 10, 1)) == tmp_path / "out" / "2026-09"
    assert find_previous_run(pattern, dt.date(2026, 9, 1)) is None


def test_options_override_the_project(tmp_path: Path) -> None:
    paths = write_inputs(tmp_path, RUN1_EMPLOYEES, RUN1_COUNTRY, "prospect")
    project = load_project(
        write_project(
            tmp_path,
            """
            [inputs]
            companies = "companies.parquet"
            jobs = "jobs.parquet"
            rules = "rules.toml"
            [run]
            as_of = "first-of-month"
            out = "runs/{as_of:%Y-%m}"
            previous = "none"
            """,
        )
    )
    settings = build_settings(
        project,
        {"rules": "other.toml"},
        as_of=None,
        out=None,
        previous=None,
        today=dt.date(2026, 11, 24),
    )
    assert settings.as_of == dt.date(2026, 11, 1)
    assert settings.out == tmp_path / "runs" / "2026-11"
    assert settings.inputs["rules"] == "other.toml"
    assert settings.inputs["companies"] == str(paths["companies_path"])
    assert settings.previous is None
    # A different companies dataset does not inherit the project's signal tables.
    other = build_settings(
        project,
        {"companies": "elsewhere.parquet"},
        as_of=dt.date(2026, 1, 1),
        out="o",
        previous=None,
        today=dt.date(2026, 11, 24),
    )
    assert "jobs" not in other.inputs
    assert other.inputs["rules"] == str(tmp_path / "rules.toml")
    assert (other.as_of, other.out) == (dt.date(2026, 1, 1), Path("o"))


def test_without_a_project_the_sample_is_the_default() -> None:
    settings = build_settings(
        None, {}, as_of=None, out=None, previous=None, today=dt.date(2026, 11, 24)
    )
    assert settings.inputs == {
        "companies": "data/companies.parquet",
        "jobs": "data/jobs.parquet",
        "funding": "data/funding.parquet",
        "crm": "data/crm.csv",
        "rules": "rules/example.toml",
    }
    assert (settings.out, settings.as_of, settings.previous) == (
        Path("out"),
        dt.date(2026, 11, 24),
        None,
    )


def test_init_writes_valid_starters_and_never_overwrites(tmp_path: Path) -> None:
    written = init_project(tmp_path).files
    assert sorted(p.name for p in written) == ["icp.toml", "listbuilder.toml"]
    rules = load_rules(tmp_path / "rules" / "icp.toml")
    assert rules.segments[0].tiers[0].stickiness == 2
    before = (tmp_path / "listbuilder.toml").read_text()
    with pytest.raises(ConfigError, match="already exist"):
        init_project(tmp_path)
    assert (tmp_path / "listbuilder.toml").read_text() == before
    init_project(tmp_path, force=True)


def test_two_monthly_runs_from_the_project_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_inputs(tmp_path, RUN1_EMPLOYEES, RUN1_COUNTRY, "prospect")
    write_project(
        tmp_path,
        """
        [inputs]
        companies = "companies.parquet"
        jobs = "jobs.parquet"
        crm = "crm.csv"
        rules = "rules.toml"
        [run]
        as_of = "first-of-month"
        out = "out/{as_of:%Y-%m}"
        """,
    )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first = runner.invoke(cli, ["build", "--as-of", "2026-10-01"])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "out" / "2026-10" / "a.csv").is_file()
    assert not (tmp_path / "out" / "2026-10" / "a.changes.csv").exists()
    second = runner.invoke(cli, ["build", "--as-of", "2026-11-01"])
    assert second.exit_code == 0, second.output
    summary = json.loads((tmp_path / "out" / "2026-11" / "summary.json").read_text())
    # recorded as the project names it, not by this machine's absolute path
    assert summary["previous"]["path"] == "out/2026-10"
    assert (tmp_path / "out" / "2026-11" / "a.changes.csv").is_file()


def test_bad_project_file_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, "[inputs]\ncompanies = 3\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 2
    assert "inputs.companies: expected a path, got 3" in result.output
    assert "Traceback" not in result.output
