"""Shared helpers: tiny input tables written to ``tmp_path``, rules from a string, one build.

Frames are built from plain dict rows with the canonical types, so a test states its data
as a literal and its expected result by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner, Result

from listbuilder.outputs import run_build
from listbuilder.rules import Rules, parse_rules

AS_OF = dt.date(2026, 11, 1)

COMPANY_TYPES: dict[str, pl.DataType] = {
    "company_id": pl.String(),
    "name": pl.String(),
    "domain": pl.String(),
    "industry": pl.String(),
    "employees": pl.Int64(),
    "revenue_usd": pl.Float64(),
    "country": pl.String(),
    "founded_year": pl.Int64(),
    "funding_stage": pl.String(),
    "technologies": pl.List(pl.String()),
}
JOB_TYPES: dict[str, pl.DataType] = {
    "company_id": pl.String(),
    "posted_date": pl.Date(),
    "title": pl.String(),
    "department": pl.String(),
}
FUNDING_TYPES: dict[str, pl.DataType] = {
    "company_id": pl.String(),
    "announced_date": pl.Date(),
    "round_type": pl.String(),
    "amount_usd": pl.Float64(),
}
CRM_TYPES: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "name": pl.String(),
    "domain": pl.String(),
    "status": pl.String(),
}


def _frame(rows: list[dict[str, Any]], types: dict[str, pl.DataType]) -> pl.DataFrame:
    """A frame of ``rows``: known columns get their canonical type, others are inferred."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    for key in types:
        if key not in columns and not rows:
            columns.append(key)
    data = {c: [row.get(c) for row in rows] for c in columns}
    return pl.DataFrame({c: pl.Series(c, values, dtype=types.get(c)) for c, values in data.items()})


def companies_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Companies; ``name`` and ``domain`` default to ones made from ``company_id``."""
    full = [
        {
            "name": f"{row['company_id']} Holdings",
            "domain": f"{row['company_id']}.example",
            **row,
        }
        for row in rows
    ]
    return _frame(full, COMPANY_TYPES)


def jobs_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Job postings: ``company_id``, ``posted_date``, ``department`` (title optional)."""
    return _frame([{"title": "a role", **row} for row in rows], JOB_TYPES)


def funding_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Funding rounds: ``company_id``, ``announced_date``, ``round_type``, ``amount_usd``."""
    return _frame(rows, FUNDING_TYPES)


def crm_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """CRM accounts: ``account_id``, ``name``, ``domain``, ``status``."""
    return _frame(rows, CRM_TYPES)


def rules_from(text: str, path: str = "<rules>") -> Rules:
    """Parse a rules TOML string (indentation removed) without touching the disk."""
    return parse_rules(tomllib.loads(textwrap.dedent(text)), path)


def write_frame(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` as parquet or CSV by suffix (CSV lists joined with ``;``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        flat = frame.with_columns(
            pl.col(c).list.join(";") for c, t in frame.schema.items() if isinstance(t, pl.List)
        )
        flat.write_csv(path, date_format="%Y-%m-%d")
    else:
        frame.write_parquet(path)
    return path


@dataclass
class Workspace:
    """A scratch directory holding one build's inputs and its run directory ``out``."""

    root: Path

    @property
    def out(self) -> Path:
        return self.root / "out"

    def companies(self, rows: list[dict[str, Any]], name: str = "companies.parquet") -> Path:
        return write_frame(companies_frame(rows), self.root / name)

    def jobs(self, rows: list[dict[str, Any]], name: str = "jobs.parquet") -> Path:
        return write_frame(jobs_frame(rows), self.root / name)

    def funding(self, rows: list[dict[str, Any]], name: str = "funding.parquet") -> Path:
        return write_frame(funding_frame(rows), self.root / name)

    def crm(self, rows: list[dict[str, Any]], name: str = "crm.csv") -> Path:
        return write_frame(crm_frame(rows), self.root / name)

    def rules(self, text: str, name: str = "rules.toml") -> Path:
        path = self.root / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def build(
        self,
        *,
        companies: Path | str | None = None,
        rules: Path | None = None,
        jobs: Path | None = None,
        funding: Path | None = None,
        crm: Path | None = None,
        as_of: dt.date = AS_OF,
        out: Path | None = None,
    ) -> dict[str, Any]:
        """Run the build on the files written so far; returns the summary."""
        return run_build(
            rules_path=rules or self.root / "rules.toml",
            companies_path=companies or self.root / "companies.parquet",
            jobs_path=jobs,
            funding_path=funding,
            crm_path=crm,
            as_of=as_of,
            out=out or self.out,
        )

    def listed(self, segment: str, out: Path | None = None) -> pl.DataFrame:
        """A segment's list as written (parquet)."""
        return pl.read_parquet((out or self.out) / f"{segment}.parquet")

    def summary(self, out: Path | None = None) -> dict[str, Any]:
        return json.loads(((out or self.out) / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A scratch workspace in ``tmp_path``."""
    return Workspace(tmp_path)


def invoke(args: list[str]) -> Result:
    """Run the CLI in-process (stderr kept apart from stdout)."""
    # Imported here so that a broken command module fails the CLI tests, not every test.
    from listbuilder.cli import cli

    return CliRunner().invoke(cli, args)


def assert_cli_error(
    result: Result, exit_code: int, message: str, *, prefix: bool = False, usage: bool = False
) -> None:
    """The command failed cleanly: this exit code, this ``Error:`` text, no traceback.

    Args:
        result: The CLI run.
        exit_code: The expected exit status.
        message: The text after ``Error: `` (all of it, or its start with ``prefix``).
        prefix: ``message`` is only the start of the error (the rest quotes a library).
        usage: A usage error: Click prints the usage lines before the error.
    """
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    err = result.stderr
    if usage:
        assert err.startswith("Usage: "), err
        err = err[err.index("Error: ") :]
    if prefix:
        assert err.startswith(f"Error: {message}"), err
        assert err.count("\n") == message.count("\n") + 1, err  # nothing after it
    else:
        assert err == f"Error: {message}\n"


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (relative path -> bytes), to prove it unchanged."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


REPO = Path(__file__).resolve().parent.parent


def write_small_sample(root: Path) -> dict[str, Path]:
    """A few hundred rows of the sample data in ``data/``, every table, consistent.

    The first 400 CRM accounts, the companies they belong to (by ``crm_truth.csv``) plus
    200 more, those companies' jobs and funding rounds and those accounts' deals: enough
    for every command to produce real output in a fraction of a second.
    """
    data = REPO / "data"
    root.mkdir(parents=True, exist_ok=True)
    truth = pl.read_csv(data / "crm_truth.csv").head(400)
    crm = pl.read_csv(data / "crm.csv").join(truth.select("account_id"), on="account_id")
    ids = truth["company_id"].drop_nulls()
    everyone = pl.read_parquet(data / "companies.parquet")
    companies = pl.concat(
        [everyone.filter(pl.col("company_id").is_in(ids.implode())), everyone.head(200)]
    ).unique("company_id", maintain_order=True)
    keep = pl.col("company_id").is_in(companies["company_id"].implode())
    paths = {
        "companies": root / "companies.parquet",
        "jobs": root / "jobs.parquet",
        "funding": root / "funding.parquet",
        "crm": root / "crm.csv",
        "opportunities": root / "opportunities.parquet",
        "rules": root / "rules.toml",
    }
    companies.write_parquet(paths["companies"])
    pl.read_parquet(data / "jobs.parquet").filter(keep).write_parquet(paths["jobs"])
    pl.read_parquet(data / "funding.parquet").filter(keep).write_parquet(paths["funding"])
    crm.write_csv(paths["crm"])
    pl.read_parquet(data / "opportunities.parquet").filter(
        pl.col("account_id").is_in(crm["account_id"].implode())
    ).write_parquet(paths["opportunities"])
    # The example ICP on jobs and funding: the event tables every command here is given.
    paths["rules"].write_bytes((REPO / "rules" / "hiring_funding.toml").read_bytes())
    return paths


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small consistent copy of the sample data, written once per test session."""
    return write_small_sample(tmp_path_factory.mktemp("small-sample"))
