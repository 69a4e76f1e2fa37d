"""Command-line interface: each command parses options, calls one library function, prints."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from listbuilder import __version__
from listbuilder.build import format_summary, run_build
from listbuilder.errors import ListbuilderError

F = TypeVar("F", bound=Callable[..., Any])

SAMPLE = {
    "companies": "data/companies.parquet",
    "jobs": "data/jobs.parquet",
    "funding": "data/funding.parquet",
    "crm": "data/crm.csv",
    "rules": "rules/example.toml",
}


class ListbuilderCommandError(click.ClickException):
    """A library error shown as one paragraph, with the library's exit code."""

    def __init__(self, error: ListbuilderError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code


def reports_errors(func: F) -> F:
    """Turn the library's errors into clean CLI errors (no traceback, non-zero exit)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ListbuilderError as exc:
            raise ListbuilderCommandError(exc) from None

    return wrapper  # type: ignore[return-value]


def parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    """Click callback: an ISO date (YYYY-MM-DD)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def as_of_option(func: F) -> F:
    """The shared ``--as-of`` option."""
    return click.option(
        "--as-of",
        callback=parse_date,
        metavar="YYYY-MM-DD",
        help="Date the run is as of: signal windows end here, later events are ignored. "
        "Default: today.",
    )(func)


@click.group()
@click.version_option(__version__, prog_name="listbuilder")
def cli() -> None:
    """Build tiered, explained ABM account lists from company data, signals, the CRM
    and ICP rules written as code."""


@cli.command()
@click.option("--companies", metavar="PATH", help="Companies: parquet/CSV file, directory or glob.")
@click.option("--rules", "rules_path", metavar="PATH", help="ICP rules file (TOML).")
@click.option("--jobs", metavar="PATH", help="Job postings, for hiring signals.")
@click.option("--funding", metavar="PATH", help="Funding rounds, for funding signals.")
@click.option("--crm", metavar="PATH", help="CRM accounts, for suppression and CRM ids.")
@as_of_option
@click.option(
    "--out",
    default="out",
    show_default=True,
    metavar="DIR",
    help="Run directory; replaced whole on success, untouched on failure.",
)
@reports_errors
def build(
    companies: str | None,
    rules_path: str | None,
    jobs: str | None,
    funding: str | None,
    crm: str | None,
    as_of: dt.date | None,
    out: str,
) -> None:
    """Build one ranked, tiered list per segment into --out.

    Without --companies, the sample data in data/ is used for every input not given
    (companies, jobs, funding, crm); without --rules, rules/example.toml.
    """
    if companies is None:
        jobs = jobs or SAMPLE["jobs"]
        funding = funding or SAMPLE["funding"]
        crm = crm or SAMPLE["crm"]
    summary = run_build(
        rules_path=rules_path or SAMPLE["rules"],
        companies_path=companies or SAMPLE["companies"],
        jobs_path=jobs,
        funding_path=funding,
        crm_path=crm,
        as_of=as_of or dt.date.today(),
        out=out,
    )
    click.echo(format_summary(summary))
    click.echo(f"wrote {Path(out)}/")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="listbuilder")


if __name__ == "__main__":
    sys.exit(main())
