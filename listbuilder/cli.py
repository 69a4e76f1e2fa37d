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
from listbuilder.config import (
    PROJECT_FILE,
    as_of_problem,
    build_settings,
    command_event_tables,
    find_project,
    init_project,
    run_with_settings,
)
from listbuilder.errors import ListbuilderError
from listbuilder.evidence import (
    BOOTSTRAP_REPLICATES,
    BOOTSTRAP_SEED,
    HOLDOUT,
    MIN_DEALS,
    format_backtest,
    format_explanation,
    format_profile,
    run_backtest,
    run_explain,
    run_explain_run,
    run_profile,
)
from listbuilder.inputs import crm_api
from listbuilder.match import (
    DEFAULT_REVIEW_THRESHOLD,
    DEFAULT_THRESHOLD,
    MatchSettings,
    format_match_summary,
    run_match,
)
from listbuilder.outputs import (
    REPORT_FILE,
    bad_value_warnings,
    crm_warnings,
    date_warnings,
    destination_names,
    export_run,
    format_summary,
    write_report,
)
from listbuilder.outputs.push import KINDS as PUSH_KINDS
from listbuilder.outputs.push import format_plan, push_run
from listbuilder.progress import QUIET, Progress
from listbuilder.rules import DIALECTS, rules_sql

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
        except OSError as exc:
            # The filesystem's refusal of a path the user gave (too long a name, no
            # permission, a file where a folder should be) is theirs to fix, not a crash.
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None

    return wrapper  # type: ignore[return-value]


def shown(path: Path) -> Path:
    """``path`` relative to the working directory when it is inside it, as users typed it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    """Click callback: an ISO date (YYYY-MM-DD)."""
    if value is None:
        return None
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date as YYYY-MM-DD, got {value!r}") from None
    problem = as_of_problem(date)
    if problem:
        raise click.BadParameter(problem)
    return date


def parse_events(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> dict[str, str]:
    """Click callback: repeated ``NAME=PATH`` into a dict of event tables."""
    tables: dict[str, str] = {}
    for item in value:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise click.BadParameter(
                f"expected NAME=PATH, e.g. exec_hires=data/x.parquet; got {item!r}"
            )
        if name.strip() in tables:
            raise click.BadParameter(f"event table {name.strip()!r} given twice")
        tables[name.strip()] = path.strip()
    return tables


def events_option(func: F) -> F:
    """The shared, repeatable ``--events NAME=PATH`` option."""
    return click.option(
        "--events",
        "events",
        multiple=True,
        metavar="NAME=PATH",
        callback=parse_events,
        help="An event table for the rules' signals, by name (repeatable): "
        "--events exec_hires=data/exec_hires.parquet. --jobs is --events hiring=PATH and "
        "--funding is --events funding=PATH. When --companies is the project file's "
        "companies (without a project file, the sample's), its [inputs.events] (the "
        "sample's event tables) are read too; --events of the same name replace them.",
    )(func)


def as_of_option(func: F) -> F:
    """The shared ``--as-of`` option."""
    return click.option(
        "--as-of",
        callback=parse_date,
        metavar="YYYY-MM-DD",
        help="Date the run is as of: signal windows end here, later events are ignored. "
        "Default: today.",
    )(func)


QUIET_HELP = "No progress, only results and errors."
VERBOSE_HELP = "Log each stage's timing and row counts."


def _verbosity(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """Click callback of ``-q``/``-v`` after a command: the same as before it."""
    if not value:
        return
    if param.name == "verbose":
        _log_stages()
    ctx.obj = Progress(live=False)


def _log_stages() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)


def verbosity_options(func: F) -> F:
    """``--quiet``/``-q`` and ``--verbose``/``-v``, accepted after the command name too."""
    for opts, help_text in ((("--verbose", "-v"), VERBOSE_HELP), (("--quiet", "-q"), QUIET_HELP)):
        func = click.option(
            *opts, is_flag=True, expose_value=False, callback=_verbosity, help=help_text
        )(func)
    return func


@click.group()
@click.version_option(__version__, prog_name="listbuilder")
@click.option("--quiet", "-q", is_flag=True, help=QUIET_HELP)
@click.option("--verbose", "-v", is_flag=True, help=VERBOSE_HELP)
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool) -> None:
    """Build tiered, explained ABM account lists from company data, signals, the CRM
    and ICP rules written as code."""
    if verbose:
        _log_stages()
    ctx.obj = Progress(live=not quiet and not verbose and sys.stderr.isatty())


def config_option(func: F) -> F:
    """The shared ``--config`` option."""
    return click.option(
        "--config",
        type=click.Path(dir_okay=False),
        help=f"Project file (default: {PROJECT_FILE} in the current directory, if any).",
    )(func)


@cli.command()
@verbosity_options
@click.option("--companies", metavar="PATH", help="Companies: parquet/CSV file, directory or glob.")
@click.option("--rules", "rules_path", metavar="PATH", help="ICP rules file (TOML).")
@click.option("--jobs", metavar="PATH", help="Job postings, for hiring signals.")
@click.option("--funding", metavar="PATH", help="Funding rounds, for funding signals.")
@events_option
@click.option("--crm", metavar="PATH", help="CRM accounts, for suppression and CRM ids.")
@click.option(
    "--confirmed",
    metavar="PATH",
    help="Decided CRM pairs (company_id, account_id, decision = match or no_match), e.g. "
    "a filled-in review.csv of `listbuilder match`; they override the CRM matching.",
)
@as_of_option
@click.option(
    "--out",
    metavar="DIR",
    help="Run directory: new, empty or an earlier run (anything else is refused); "
    "replaced whole on success, untouched on failure. "
    "Default: the project's pattern, else out/.",
)
@click.option(
    "--previous",
    metavar="DIR",
    help="Previous run directory: tier stickiness and <segment>.changes.csv. "
    "Default: found through the project's output pattern.",
)
@click.option(
    "--engine",
    metavar="polars|duckdb|spark",
    help="Where the rules run over the whole dataset (default: the project's, else polars). "
    "CRM matching and tiers run in Python either way.",
)
@click.option(
    "--spark-master",
    metavar="URL",
    help="Spark master for --engine spark, e.g. spark://host:7077 (default: the session "
    "the environment gives, else local[*]).",
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
    events: dict[str, str],
    crm: str | None,
    confirmed: str | None,
    as_of: dt.date | None,
    out: str | None,
    previous: str | None,
    engine: str | None,
    spark_master: str | None,
    config: str | None,
) -> None:
    """Build one ranked, tiered list per segment.

    Settings come from the options, then the project file (listbuilder.toml), then the
    defaults: without a project file and without --companies, the sample data in data/
    is used for every input not given, with rules/example.toml, writing to out/.
    \f
    Long because every option is a parameter; the body is one call and the printing.
    """
    project = find_project(config, Path.cwd())
    inputs = dict(companies=companies, rules=rules_path, jobs=jobs, funding=funding, crm=crm)
    settings = build_settings(
        project,
        {**inputs, "confirmed": confirmed},
        as_of=as_of,
        out=out,
        previous=previous,
        today=dt.date.today(),
        engine=engine,
        spark_master=spark_master,
        events=events,
    )
    summary = run_with_settings(
        settings, click.get_current_context().find_object(Progress) or QUIET
    )
    click.echo(format_summary(summary, lambda path: str(shown(Path(path)))))
    out_dir = shown(settings.out)
    click.echo(f"wrote {out_dir}/")
    click.echo(f"report: {out_dir / REPORT_FILE}")
    for warning in [*bad_value_warnings(summary), *date_warnings(summary), *crm_warnings(summary)]:
        click.echo(f"warning: {warning}", err=True)
    exported = summary.get("exports")
    if exported:
        click.echo(f"exports: {len(exported['files'])} files in {out_dir / 'exports'}/")
        for name in exported["files"]:
            click.echo(f"  {name}")
        for warning in exported["warnings"]:
            click.echo(f"warning: {warning}", err=True)


@cli.command()
@verbosity_options
@click.option(
    "--dir",
    "directory",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to write the files.",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option(
    "--sample",
    is_flag=True,
    help="Write a project on the sample data instead: data/, rules/example.toml and a "
    "listbuilder.toml pinned to the sample's date, so that `listbuilder build` runs at once.",
)
@reports_errors
def init(directory: str, force: bool, sample: bool) -> None:
    """Write a commented starter listbuilder.toml and rules/icp.toml, then say what to run.

    With --sample, the project runs on the sample data shipped with listbuilder.
    """
    result = init_project(directory, force=force, sample=sample)
    for path in result.files:
        click.echo(f"wrote {path}")
    for line in result.next_steps:
        click.echo(line)


def split_list(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    """Click callback: a comma-separated list (``"Tier 1,Tier 2"``)."""
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


@cli.command()
@verbosity_options
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
    help="Directory for the files: new, empty or an earlier export; replaced whole on "
    "success, untouched on failure.",
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
    rows or bytes), named with the run's as-of date, e.g. core_saas.linkedin.2026-11-01.csv,
    core_saas.domains.2026-11-01.txt.
    """
    result = export_run(run_dir, destinations, out, segment=segment, tiers=tiers)
    for name in result.files:
        click.echo(f"wrote {Path(out) / name} ({result.rows[name]:,} rows)")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


@cli.command()
@verbosity_options
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--to", "to", required=True, type=click.Choice(PUSH_KINDS), help="Destination.")
@click.option(
    "--source",
    metavar="PATH",
    help="Destination file with [api] and [push] (default sources/hubspot_api.toml, "
    "sources/salesforce_api.toml or sources/linkedin_audiences.toml).",
)
@click.option(
    "--state",
    "state_path",
    metavar="PATH",
    help="What this destination last received (default push_state/<destination>.json).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and send nothing.")
@click.option(
    "--create-missing",
    is_flag=True,
    help="HubSpot: create listed companies the CRM lacks, keyed by domain.",
)
@reports_errors
def push(
    run_dir: str,
    to: str,
    source: str | None,
    state_path: str | None,
    dry_run: bool,
    create_missing: bool,
) -> None:
    """Push a run's tiers and scores to a CRM, or its companies to LinkedIn audiences.

    Sends only what changed since the destination's last push: new or changed accounts
    are tagged or updated, accounts no longer listed are untagged. Every accepted batch
    is recorded, so a push that fails part-way finishes when run again.
    """
    result = push_run(
        run_dir,
        to,
        source=source,
        state_path=state_path,
        dry_run=dry_run,
        create_missing=create_missing,
    )
    click.echo(format_plan(result.plan))
    if not result.sent:
        click.echo("dry run: nothing was sent")
        return
    click.echo(
        f"pushed to {to} in {result.requests:,} requests ({result.retries} retries); "
        f"state: {result.state}"
    )
    if result.errors_file is not None:
        click.echo(
            f"warning: {result.errors:,} records were refused; see {result.errors_file}", err=True
        )


@cli.command()
@verbosity_options
@click.option(
    "--source",
    "source_path",
    required=True,
    metavar="PATH",
    help="API source file (sources/hubspot_api.toml, sources/salesforce_api.toml, ...).",
)
@click.option(
    "--out",
    metavar="PATH",
    help="Snapshot to write (.parquet): new or an earlier pull's; replaced only when "
    "every page has arrived. "
    "Default: the source file's [input] path.",
)
@click.option(
    "--since-last",
    is_flag=True,
    help="Read only records changed since the previous pull and merge them into its "
    "snapshot; deleted records leave it and are listed in <name>.deleted.parquet.",
)
@reports_errors
def pull(source_path: str, out: str | None, since_last: bool) -> None:
    """Read every record of a CRM object over its REST API into a parquet snapshot.

    The access token is read from the environment variable the source file names
    (api.token_env; or, for Salesforce, the refresh-token flow) and is never printed or
    written. Beside the snapshot goes <name>.pull.json: when, from where, how many
    records. A pull that fails part-way resumes from its last page when run again. Point
    --crm (or [inputs] crm) at the source file to build from the snapshot.
    """
    result = crm_api.pull(source_path, out, since_last=since_last)
    if result.resumed_pages:
        click.echo(f"resumed after {result.resumed_pages:,} pages of an earlier pull")
    if result.mode == "incremental":
        click.echo(
            f"{result.changed:,} records changed and {result.deleted:,} deleted since the "
            "previous pull"
        )
    retries = f", {result.retries} {'retry' if result.retries == 1 else 'retries'}"
    duplicates = (
        f", {result.duplicates_skipped:,} repeated records skipped"
        if result.duplicates_skipped
        else ""
    )
    click.echo(
        f"pulled {result.records:,} records in {result.pages:,} pages "
        f"({result.requests:,} requests{retries}{duplicates})"
    )
    click.echo(f"wrote {result.out}")
    click.echo(f"wrote {result.metadata}")


@cli.command()
@verbosity_options
@click.argument("run_dir", type=click.Path(file_okay=False))
@reports_errors
def report(run_dir: str) -> None:
    """Rebuild RUN_DIR/report.html from the run's files.

    One self-contained HTML page (no network, charts as inline SVG) with each segment's
    funnel, tiers against their caps, score distribution, criteria, disqualifiers,
    breakdowns, changes since the previous run and the Tier 1 list. `build` writes it
    too; this command redraws it, e.g. after an upgrade.
    """
    click.echo(f"wrote {write_report(run_dir)}")


def evidence_inputs(func: F) -> F:
    """The inputs ``profile`` and ``backtest`` share: data, CRM, deals, event tables."""
    options = [
        click.option(
            "--companies",
            required=True,
            metavar="PATH",
            help="Companies: parquet/CSV file, directory, glob or source file.",
        ),
        click.option(
            "--crm",
            required=True,
            metavar="PATH",
            help="CRM accounts: deals reach companies through them.",
        ),
        click.option(
            "--opportunities",
            required=True,
            metavar="PATH",
            help="Opportunities (deals) on the CRM accounts, e.g. "
            "sources/salesforce_opportunities.toml.",
        ),
        click.option(
            "--jobs", metavar="PATH", help="Job postings: hiring signals as of each deal's date."
        ),
        click.option(
            "--funding",
            metavar="PATH",
            help="Funding rounds: funding signals as of each deal's date.",
        ),
        click.option(
            "--matches",
            metavar="DIR",
            type=click.Path(file_okay=False),
            help="A stored `listbuilder match` run on the same companies and CRM: use its "
            "matches instead of matching again.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
@verbosity_options
@evidence_inputs
@click.option(
    "--out",
    required=True,
    metavar="DIR",
    help="Directory for profile.csv, profile.md, proposed_rules.toml (and "
    "best_vs_worst.csv): new, empty or an earlier profile; replaced whole on success, "
    "untouched on failure.",
)
@click.option(
    "--min-deals",
    default=MIN_DEALS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Groups with fewer deals are flagged as too few to trust and not used for rules.",
)
@click.option(
    "--holdout",
    default=HOLDOUT,
    show_default=True,
    type=click.FloatRange(min=0, max=1, max_open=True),
    help="Share of the newest deals (by created date) held out to set tiers and check "
    "the proposed rules; 0 checks on the training deals.",
)
@events_option
@reports_errors
def profile(
    companies: str,
    crm: str,
    opportunities: str,
    jobs: str | None,
    funding: str | None,
    matches: str | None,
    out: str,
    min_deals: int,
    holdout: float,
    events: dict[str, str],
) -> None:
    """Compare won with lost deals on every attribute and draft an ICP from the evidence.

    For each industry, employee and revenue band, country, funding stage, technology and
    signal (as of each deal's created date): won, lost, win rate with a 95% Wilson
    interval and lift over the overall win rate. Every event table (--events, and those
    of --events' help) is tested too: any
    event in 30 and 90 days, or for measurements (employees) growth of 20% in 180 days.
    Writes the table, a one-page ICP draft and proposed_rules.toml, a rules file `build`
    accepts, every line commented with the figure it came from.
    """
    result = run_profile(
        companies_path=companies,
        crm_path=crm,
        opportunities_path=opportunities,
        jobs_path=jobs,
        funding_path=funding,
        out=out,
        min_deals=min_deals,
        holdout=holdout,
        matches=matches,
        events_paths=command_event_tables(Path.cwd(), companies, events),
    )
    click.echo(format_profile(result))
    click.echo(f"wrote {out}/")


@cli.command()
@verbosity_options
@click.option(
    "--rules",
    "rules_paths",
    required=True,
    multiple=True,
    metavar="PATH",
    help="Rules file; repeat to compare several side by side.",
)
@evidence_inputs
@events_option
@click.option(
    "--out",
    default="backtest",
    show_default=True,
    metavar="DIR",
    help="Directory for backtest.csv and backtest.json: new, empty or an earlier "
    "backtest; replaced whole on success.",
)
@click.option(
    "--bootstrap",
    default=BOOTSTRAP_REPLICATES,
    show_default=True,
    type=click.IntRange(min=100),
    help="Bootstrap replicates for the AUC interval.",
)
@click.option(
    "--seed",
    default=BOOTSTRAP_SEED,
    show_default=True,
    type=click.IntRange(min=0),
    help="Seed of the bootstrap: the same seed gives the same interval.",
)
@click.option(
    "--holdout",
    default=HOLDOUT,
    show_default=True,
    type=click.FloatRange(min=0, max=1, max_open=True),
    help="Judge on the newest share of deals only, split as `profile` splits them; "
    "0 uses every deal.",
)
@reports_errors
def backtest(
    rules_paths: tuple[str, ...],
    companies: str,
    crm: str,
    opportunities: str,
    jobs: str | None,
    funding: str | None,
    events: dict[str, str],
    matches: str | None,
    out: str,
    bootstrap: int,
    seed: int,
    holdout: float,
) -> None:
    """Score every closed deal as of its created date and compare the tiers' win rates.

    Per rules file and segment: deals, win rate and average won amount per tier and for
    the deals that would not have been listed, each tier's lift over all deals, and the
    ROC AUC of the score (how well it ranks winners above losers) with a bootstrap
    interval.
    """
    result = run_backtest(
        rules_paths=list(rules_paths),
        companies_path=companies,
        crm_path=crm,
        opportunities_path=opportunities,
        jobs_path=jobs,
        funding_path=funding,
        out=out,
        replicates=bootstrap,
        seed=seed,
        holdout=holdout,
        matches=matches,
        events_paths=command_event_tables(Path.cwd(), companies, events),
    )
    click.echo(format_backtest(result))
    click.echo(f"wrote {out}/")


@cli.command()
@verbosity_options
@click.argument("args", nargs=-1, required=True, metavar="[RUN_DIR] COMPANY")
@click.option("--rules", "rules_path", metavar="PATH", help="ICP rules file (without RUN_DIR).")
@click.option(
    "--companies",
    metavar="PATH",
    help="Companies: parquet/CSV file, directory, glob or source file (without RUN_DIR).",
)
@click.option("--jobs", metavar="PATH", help="Job postings, for hiring signals.")
@click.option("--funding", metavar="PATH", help="Funding rounds, for funding signals.")
@events_option
@click.option("--crm", metavar="PATH", help="CRM accounts, for suppression and CRM matches.")
@as_of_option
@reports_errors
def explain(
    args: tuple[str, ...],
    rules_path: str | None,
    companies: str | None,
    jobs: str | None,
    funding: str | None,
    events: dict[str, str],
    crm: str | None,
    as_of: dt.date | None,
) -> None:
    """Explain why COMPANY (an id, domain or name) is on a list or not.

    With RUN_DIR (a run directory), the run's rules, inputs and as-of date are read from
    its summary.json: `listbuilder explain out/2026-11 acme.com`. Without it, pass the
    inputs as options; --as-of defaults to today, with a warning.

    For each segment: every include and exclude condition with the company's value,
    every scoring criterion with the points given or not and why (for signals, the
    events in the window), and the outcome: its tier and rank, suppressed by the CRM,
    below the lowest tier, not eligible, in an earlier segment or left off by a cap.
    Then every CRM account it matches, with the method and score.
    """
    options = {"--rules": rules_path, "--companies": companies, "--jobs": jobs}
    options.update({"--funding": funding, "--crm": crm, "--as-of": as_of})
    options["--events"] = events or None
    if len(args) > 2:
        raise click.UsageError("expected [RUN_DIR] COMPANY: quote a company name with spaces")
    if len(args) == 2:
        given = [name for name, value in options.items() if value is not None]
        if given:
            raise click.UsageError(
                f"{', '.join(given)}: a run directory gives the rules, inputs and as-of "
                "date; drop the option(s), or drop RUN_DIR"
            )
        explanation = run_explain_run(args[1], args[0])
    else:
        missing = [name for name in ("--rules", "--companies") if options[name] is None]
        if missing:
            raise click.UsageError(
                f"missing {' and '.join(missing)}: give a run directory "
                "(explain RUN_DIR COMPANY) or the inputs"
            )
        if as_of is None:
            as_of = dt.date.today()
            click.echo(
                f"warning: no --as-of: explaining as of today, {as_of}; a run is as of the "
                "date in its summary.json, which `listbuilder explain RUN_DIR COMPANY` uses",
                err=True,
            )
        explanation = run_explain(
            args[0],
            rules_path=str(rules_path),
            companies_path=str(companies),
            jobs_path=jobs,
            funding_path=funding,
            events_paths=command_event_tables(Path.cwd(), companies, events),
            crm_path=crm,
            as_of=as_of,
        )
    click.echo(format_explanation(explanation))
    for note in explanation.notes:
        click.echo(f"warning: {note}", err=True)


@cli.command()
@verbosity_options
@click.option(
    "--companies",
    required=True,
    metavar="PATH",
    help="Companies: parquet/CSV file, directory, glob or source file.",
)
@click.option(
    "--crm",
    required=True,
    metavar="PATH",
    help="CRM accounts (account_id, name; domain and country if any).",
)
@click.option(
    "--out",
    required=True,
    metavar="DIR",
    help="Directory for the results: new, empty or an earlier match; replaced whole on "
    "success, untouched on failure.",
)
@click.option(
    "--threshold",
    default=DEFAULT_THRESHOLD,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="A pair whose match probability is at least this (and no veto stops) is a match.",
)
@click.option(
    "--review-threshold",
    default=DEFAULT_REVIEW_THRESHOLD,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Pairs from this match probability up go to review.csv, for unmatched accounts.",
)
@click.option(
    "--confirmed",
    metavar="PATH",
    help="Decided pairs (company_id, account_id, decision = match or no_match), e.g. a "
    "filled-in review.csv; they override the engine.",
)
@click.pass_obj
@reports_errors
def match(
    progress: Progress | None,
    companies: str,
    crm: str,
    out: str,
    threshold: float,
    review_threshold: float,
    confirmed: str | None,
) -> None:
    """Match companies to CRM accounts by domain and by name.

    Writes matches.csv, review.csv (pairs for a person to confirm; fill in the decision
    column and pass the file back with --confirmed), duplicates.csv and summary.json.
    """
    summary = run_match(
        companies_path=companies,
        crm_path=crm,
        out=out,
        settings=MatchSettings(threshold=threshold, review_threshold=review_threshold),
        confirmed_path=confirmed,
        progress=progress or QUIET,
    )
    click.echo(format_match_summary(summary))
    click.echo(f"wrote {out}/")


@cli.command("sql")
@verbosity_options
@click.option("--rules", "rules_path", required=True, metavar="PATH", help="ICP rules file.")
@click.option(
    "--dialect",
    required=True,
    metavar="|".join(DIALECTS),
    help="The SQL dialect to write.",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    metavar="companies=TABLE",
    help="The companies table's name in the warehouse (default: companies).",
)
@click.option(
    "--events",
    multiple=True,
    metavar="NAME=TABLE",
    help="An event table's name: hiring=TABLE (default jobs), funding=TABLE (default "
    "funding). Repeat for each.",
)
@as_of_option
@reports_errors
def sql(
    rules_path: str,
    dialect: str,
    tables: tuple[str, ...],
    events: tuple[str, ...],
    as_of: dt.date | None,
) -> None:
    """Print the SQL query that gives the rules' qualified candidates.

    One row per company that qualifies for a segment: company_id, name, domain,
    segment, score and reasons, in list order. Run it in a warehouse or a dbt model;
    CRM suppression, one account per domain and tiers follow in `listbuilder build`.
    """
    click.echo(
        rules_sql(rules_path, dialect, as_of or dt.date.today(), tables=tables, events=events),
        nl=False,
    )


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="listbuilder")


if __name__ == "__main__":
    sys.exit(main())
