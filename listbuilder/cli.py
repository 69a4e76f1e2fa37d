"""Command-line interface: each command parses options, calls one library function, prints."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from listbuilder import __version__
from listbuilder.build import format_summary
from listbuilder.errors import ListbuilderError
from listbuilder.exports import destination_names, export_run
from listbuilder.progress import QUIET, Progress
from listbuilder.project import (
    PROJECT_FILE,
    build_settings,
    find_project,
    init_project,
    run_with_settings,
)

F = TypeVar("F", bound=Callable[..., Any])


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
@click.option("--quiet", "-q", is_flag=True, help="No progress, only results and errors.")
@click.option("--verbose", "-v", is_flag=True, help="Log each stage's timing and row counts.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool) -> None:
    """Build tiered, explained ABM account lists from company data, signals, the CRM
    and ICP rules written as code."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    ctx.obj = Progress(live=not quiet and not verbose and sys.stderr.isatty())


def config_option(func: F) -> F:
    """The shared ``--config`` option."""
    return click.option(
        "--config",
        type=click.Path(dir_okay=False),
        help=f"Project file (default: {PROJECT_FILE} in the current directory, if any).",
    )(func)


@cli.command()
@click.option("--companies", metavar="PATH", help="Companies: parquet/CSV file, directory or glob.")
@click.option("--rules", "rules_path", metavar="PATH", help="ICP rules file (TOML).")
@click.option("--jobs", metavar="PATH", help="Job postings, for hiring signals.")
@click.option("--funding", metavar="PATH", help="Funding rounds, for funding signals.")
@click.option("--crm", metavar="PATH", help="CRM accounts, for suppression and CRM ids.")
@as_of_option
@click.option(
    "--out",
    metavar="DIR",
    help="Run directory; replaced whole on success, untouched on failure. "
    "Default: the project's pattern, else out/.",
)
@click.option(
    "--previous",
    metavar="DIR",
    help="Previous run directory: tier stickiness and <segment>.changes.csv. "
    "Default: found through the project's output pattern.",
)
@config_option
@click.pass_obj
@reports_errors
def build(
    progress: Progress | None,
    companies: str | None,
    rules_path: str | None,
    jobs: str | None,
    funding: str | None,
    crm: str | None,
    as_of: dt.date | None,
    out: str | None,
    previous: str | None,
    config: str | None,
) -> None:
    """Build one ranked, tiered list per segment.

    Settings come from the options, then the project file (listbuilder.toml), then the
    defaults: without a project file and without --companies, the sample data in data/
    is used for every input not given, with rules/example.toml, writing to out/.
    """
    project = find_project(config, Path.cwd())
    settings = build_settings(
        project,
        {"companies": companies, "rules": rules_path, "jobs": jobs, "funding": funding, "crm": crm},
        as_of=as_of,
        out=out,
        previous=previous,
        today=dt.date.today(),
    )
    summary = run_with_settings(
        settings, click.get_current_context().find_object(Progress) or QUIET
    )
    click.echo(format_summary(summary))
    click.echo(f"wrote {settings.out}/")
    exported = summary.get("exports")
    if exported:
        click.echo(f"exports: {len(exported['files'])} files in {settings.out / 'exports'}/")
        for warning in exported["warnings"]:
            click.echo(f"warning: {warning}", err=True)


@cli.command()
@click.option(
    "--dir",
    "directory",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to write the files.",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@reports_errors
def init(directory: str, force: bool) -> None:
    """Write a commented starter listbuilder.toml and rules/icp.toml."""
    for path in init_project(directory, force=force):
        click.echo(f"wrote {path}")


def split_list(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    """Click callback: a comma-separated list (``"Tier 1,Tier 2"``)."""
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option(
    "--to",
    "destinations",
    required=True,
    callback=split_list,
    metavar="DEST[,DEST...]",
    help=f"Destinations: {', '.join(destination_names())}.",
)
@click.option("--segment", metavar="NAME", help="Only this segment (default: all).")
@click.option("--tiers", callback=split_list, metavar='"Tier 1,Tier 2"', help="Only these tiers.")
@click.option(
    "--out",
    required=True,
    metavar="DIR",
    help="Directory for the files; replaced whole on success, untouched on failure.",
)
@reports_errors
def export(
    run_dir: str,
    destinations: list[str],
    segment: str | None,
    tiers: list[str] | None,
    out: str,
) -> None:
    """Write a run's lists in the import formats of ad, outreach and CRM tools.

    One file per segment and destination (numbered parts where a destination limits
    rows or bytes), e.g. core_saas.linkedin.csv, core_saas.domains.txt.
    """
    result = export_run(run_dir, destinations, out, segment=segment, tiers=tiers)
    for name in result.files:
        click.echo(f"wrote {Path(out) / name}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="listbuilder")


if __name__ == "__main__":
    sys.exit(main())
