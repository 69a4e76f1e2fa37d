"""Generated cases for the engine differential tests: rules files built from every
construct of the rules reference, and small datasets made to hit their edges.

Values are drawn from small pools so that generated rules and data meet: strings in
several cases, nulls in every column, events on and just outside each window's ends,
scores that tie, tiers that overflow their caps, companies sharing a registrable domain.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import strategies as st

from listbuilder.build import BuildResult, build_lists
from listbuilder.build.changes import ACCOUNT_COLUMNS, PreviousRun
from listbuilder.engines import Engine
from listbuilder.files import write_csv
from listbuilder.rules import Rules, parse_rules

AS_OF = dt.date(2026, 11, 1)
WINDOWS = (0, 1, 7, 30)
# Days before as_of an event may fall on: both ends of every window and one day outside
# each, and one day after as_of (which never counts).
EVENT_OFFSETS = sorted({-1} | {w + d for w in WINDOWS for d in (-1, 0, 1) if w + d >= 0})

INDUSTRIES = ["Software", "software", "SOFTWARE", "Fintech", "retail", "E-Commerce", None]
COUNTRIES = ["US", "us", "CA", "GB", None]
STAGES = ["Seed", "Series A", "series b", "Public", None]
TECH = ["HubSpot", "salesforce", "Gong", "legacy-crm", "AWS"]
DOMAINS = ["acme.com", "shop.acme.com", "www.acme.com", "beta.co.uk", "x.beta.co.uk", "gamma.io"]
DEPARTMENTS = ["Sales", "sales", "Engineering", "Revenue Operations", None]
ROUNDS = ["Series A", "series a", "Series B", "Seed", None]
AMOUNTS = [1_000_000.0, 5_000_000.0, 20_000_000.0, None]
DAYS = [dt.date(2010, 1, 1), dt.date(2015, 6, 30), dt.date(2020, 12, 31), None]
CRM_STATUSES = ["customer", "Open_Opportunity", "churned", None]

CONDITION_COLUMNS = [
    *("industry", "country", "funding_stage", "employees", "revenue_usd"),
    *("technologies", "founded_on", "is_b2b", "description"),
]
DESCRIPTIONS = ["Outbound sales platform", "B2B SALES team tools", "a.c consulting", "", None]
TOPICS = ["ABM", "abm", "Sales Engagement", "outbound automation", None]
# A list column on events: a signal testing it first quotes the latest event's whole list,
# and same-day events with different lists must be told apart the same way everywhere.
CHANNELS = [["email", "Ads"], ["ads"], ["Ads", "email"], [], [None], ["web", None, "ads"], None]
# Headcounts: a zero (growth from 0 is null), equal values, and changes whose percentage
# sits on a rounding tie (80 -> 101 is +26.25%, written 26.2 as polars rounds half to even).
HEADCOUNTS = [0, 80, 100, 101, 120, 125, None]
# Days before as_of a measurement may fall on: every window's cut-off and its neighbours,
# long before, and one day after as_of (never read).
MEASURE_OFFSETS = sorted({*EVENT_OFFSETS, 60, 400})
COMPANY_SCHEMA = {
    "company_id": pl.String(),
    "name": pl.String(),
    "domain": pl.String(),
    "industry": pl.String(),
    "employees": pl.Int64(),
    "revenue_usd": pl.Float64(),
    "country": pl.String(),
    "funding_stage": pl.String(),
    "technologies": pl.List(pl.String()),
    "founded_on": pl.Date(),
    "is_b2b": pl.Boolean(),
    "description": pl.String(),
}


@st.composite
def companies(draw: st.DrawFn) -> pl.DataFrame:
    """Up to 24 companies; unique ids, names and domains that repeat, nulls everywhere."""
    n = draw(st.integers(0, 24))
    tech = st.one_of(
        st.none(),
        st.lists(st.sampled_from([*TECH, "hubspot", "GONG"]), max_size=3),
        st.lists(st.one_of(st.none(), st.sampled_from(TECH)), min_size=1, max_size=3),
    )
    rows = [
        {
            "company_id": f"c{i:02d}",
            "name": draw(st.sampled_from(["Acme", "Beta Ltd", "Gamma", f"Company {i}"])),
            "domain": draw(st.sampled_from([*DOMAINS, None, f"solo{i}.com"])),
            "industry": draw(st.sampled_from(INDUSTRIES)),
            "employees": draw(st.sampled_from([5, 50, 200, 1000, 5000, None])),
            "revenue_usd": draw(st.sampled_from([1e6, 5e7, 2.5e8, None])),
            "country": draw(st.sampled_from(COUNTRIES)),
            "funding_stage": draw(st.sampled_from(STAGES)),
            "technologies": draw(tech),
            "founded_on": draw(st.sampled_from(DAYS)),
            "is_b2b": draw(st.sampled_from([True, False, None])),
            "description": draw(st.sampled_from(DESCRIPTIONS)),
        }
        for i in range(n)
    ]
    # Shuffled, so input order and company_id order differ (ties break on company_id).
    rows = draw(st.permutations(rows))
    return pl.DataFrame(rows, schema=COMPANY_SCHEMA)


def _event_day(draw: st.DrawFn) -> dt.date | None:
    offset = draw(st.one_of(st.none(), st.sampled_from(EVENT_OFFSETS)))
    return None if offset is None else AS_OF - dt.timedelta(days=offset)


@st.composite
def jobs(draw: st.DrawFn, n_companies: int) -> pl.DataFrame:
    """Job postings for the companies (and one unknown company), dates on window edges."""
    ids = [f"c{i:02d}" for i in range(n_companies)] + ["nobody", None]
    rows = [
        {
            "company_id": draw(st.sampled_from(ids)),
            "posted_date": _event_day(draw),
            "title": "Account Executive",
            "department": draw(st.sampled_from(DEPARTMENTS)),
        }
        for _ in range(draw(st.integers(0, 30)))
    ]
    schema = {
        "company_id": pl.String(),
        "posted_date": pl.Date(),
        "title": pl.String(),
        "department": pl.String(),
    }
    return pl.DataFrame(rows, schema=schema)


@st.composite
def funding(draw: st.DrawFn, n_companies: int) -> pl.DataFrame:
    """Funding rounds, several per company, same-day rounds of different types."""
    ids = [f"c{i:02d}" for i in range(n_companies)] + ["nobody"]
    rows = [
        {
            "company_id": draw(st.sampled_from(ids)),
            "announced_date": _event_day(draw),
            "round_type": draw(st.sampled_from(ROUNDS)),
            "amount_usd": draw(st.sampled_from(AMOUNTS)),
        }
        for _ in range(draw(st.integers(0, 20)))
    ]
    schema = {
        "company_id": pl.String(),
        "announced_date": pl.Date(),
        "round_type": pl.String(),
        "amount_usd": pl.Float64(),
    }
    return pl.DataFrame(rows, schema=schema)


@st.composite
def intent(draw: st.DrawFn, n_companies: int) -> pl.DataFrame:
    """A named event table (``date`` column): topics researched, with a weight.

    The events crowd onto a few companies, so counts and totals reach their thresholds.
    """
    ids = [f"c{i:02d}" for i in range(min(n_companies, 6))] + [None]
    rows = [
        {
            "company_id": draw(st.sampled_from(ids)),
            "date": _event_day(draw),
            "topic": draw(st.sampled_from(TOPICS)),
            "weight": draw(st.sampled_from([1, 5, 10, None])),
            "channels": draw(st.sampled_from(CHANNELS)),
        }
        for _ in range(draw(st.integers(0, 40)))
    ]
    schema = {"company_id": pl.String(), "date": pl.Date(), "topic": pl.String()}
    schema |= {"weight": pl.Int64(), "channels": pl.List(pl.String())}
    return pl.DataFrame(rows, schema=schema)


@st.composite
def headcount(draw: st.DrawFn, n_companies: int) -> pl.DataFrame:
    """Dated measurements (``date``, ``employees``) on a few companies: null values and
    dates, two on one day, measurements on each window's cut-off and around it."""
    ids = [f"c{i:02d}" for i in range(min(n_companies, 4))] + [None]
    day = st.one_of(st.none(), st.sampled_from(MEASURE_OFFSETS))
    rows = [
        {
            "company_id": draw(st.sampled_from(ids)),
            "date": None if (d := draw(day)) is None else AS_OF - dt.timedelta(days=d),
            "employees": draw(st.sampled_from(HEADCOUNTS)),
        }
        for _ in range(draw(st.integers(0, 40)))
    ]
    schema = {"company_id": pl.String(), "date": pl.Date(), "employees": pl.Int64()}
    return pl.DataFrame(rows, schema=schema)


@st.composite
def crm(draw: st.DrawFn) -> pl.DataFrame:
    """A few CRM accounts on the shared domains, some of them customers."""
    rows = [
        {
            "account_id": f"a{i}",
            "name": draw(st.sampled_from(["Acme", "Beta Ltd", "Other"])),
            "domain": draw(st.sampled_from([*DOMAINS, None])),
            "status": draw(st.sampled_from(CRM_STATUSES)),
        }
        for i in range(draw(st.integers(0, 4)))
    ]
    schema = {"account_id": pl.String(), "name": pl.String(), "domain": pl.String()}
    return pl.DataFrame(rows, schema={**schema, "status": pl.String()})


def _condition(draw: st.DrawFn) -> tuple[str, Any]:
    """One condition on one company column, of a form that column admits."""
    column = draw(st.sampled_from(CONDITION_COLUMNS))
    if draw(st.integers(0, 7)) == 0:
        return column, {"missing": draw(st.booleans())}
    if column in ("industry", "country", "funding_stage"):
        pool = {"industry": INDUSTRIES, "country": COUNTRIES, "funding_stage": STAGES}[column]
        values = [v for v in pool if v is not None]
        if draw(st.booleans()):
            return column, draw(st.sampled_from(values))
        return column, draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))
    if column in ("employees", "revenue_usd"):
        bounds = [5, 50, 199.5, 200, 1000, 5e7, 2.5e8]
        if draw(st.integers(0, 3)) == 0:
            return column, draw(st.lists(st.sampled_from([5, 50, 200, 1e6, 5e7]), min_size=1))
        low, high = sorted(draw(st.lists(st.sampled_from(bounds), min_size=2, max_size=2)))
        which = draw(st.sampled_from(["both", "min", "max"]))
        return column, {"both": {"min": low, "max": high}, "min": {"min": low}}.get(
            which, {"max": high}
        )
    if column == "founded_on":
        days = [d for d in DAYS if d is not None]
        form = draw(st.sampled_from(["range", "equals", "in"]))
        if form == "equals":
            return column, draw(st.sampled_from(days))
        if form == "in":
            return column, draw(st.lists(st.sampled_from(days), min_size=1, max_size=2))
        low, high = sorted(draw(st.lists(st.sampled_from(days), min_size=2, max_size=2)))
        return column, {"min": low, "max": high}
    if column == "is_b2b":
        return column, draw(st.one_of(st.booleans(), st.just([True])))
    if column == "description":
        needles = st.sampled_from(["sales", "OUTBOUND", "a.c", "team"])
        return column, {"contains": draw(st.one_of(needles, st.lists(needles, min_size=1)))}
    op = draw(st.sampled_from(["any", "all", "none", "contains"]))
    if op == "contains":
        return column, {"contains": draw(st.sampled_from(["hub", "SALES", ["aw", "gon"]]))}
    items = draw(st.lists(st.sampled_from([*TECH, "hubspot", "GONG"]), min_size=1, max_size=3))
    return column, {op: items}


def _conditions(draw: st.DrawFn, max_size: int) -> dict[str, Any]:
    found = dict(_condition(draw) for _ in range(draw(st.integers(0, max_size))))
    if draw(st.integers(0, 5)) == 0:
        tests = [_event_test(draw) for _ in range(draw(st.integers(1, 2)))]
        found["signals"] = tests
    return found


def _growth_test(draw: st.DrawFn, window: int) -> dict[str, Any]:
    """A growth test on the headcount measurements: a lower bound, an upper or both."""
    test: dict[str, Any] = {"growth": "headcount", "column": "employees", "within_days": window}
    bounds = sorted(draw(st.lists(st.sampled_from([-20, -0.5, 0, 1, 20, 26.25]), min_size=2)))
    which = draw(st.sampled_from(["min", "max", "both"]))
    if which != "max":
        test["min_percent"] = bounds[0]
    if which != "min":
        test["max_percent"] = bounds[-1]
    return test


def _distinct(draw: st.DrawFn, table: str) -> dict[str, int]:
    """``min_distinct`` on one or two of a table's columns (text, and a number)."""
    columns = {"intent": ["topic", "weight"], "hiring": ["department"], "funding": ["round_type"]}
    picked = draw(st.lists(st.sampled_from(columns[table]), min_size=1, max_size=2, unique=True))
    return {c: draw(st.integers(1, 2)) for c in picked}


def _event_test(draw: st.DrawFn) -> dict[str, Any]:
    """A signal test for include/exclude (or the event part of a criterion)."""
    table = draw(st.sampled_from(["hiring", "funding", "intent", "intent", "headcount"]))
    window = draw(st.sampled_from([*WINDOWS, 30, 30]))
    if table == "headcount":
        return _growth_test(draw, window)
    test: dict[str, Any] = {"signal": table, "within_days": window}
    if draw(st.booleans()):
        test["min_count"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        test["min_distinct"] = _distinct(draw, table)
    if table == "intent":
        if draw(st.booleans()):
            test["where"] = draw(
                st.sampled_from(
                    [
                        {"topic": ["abm", "SALES ENGAGEMENT"]},
                        {"topic": {"contains": "auto"}},
                        {"channels": {"contains": ["ads"]}},
                        {"channels": {"contains": ["EMAIL", "web"]}, "topic": {"contains": "a"}},
                    ]
                )
            )
        if draw(st.booleans()):
            test["min_total"] = {"weight": draw(st.sampled_from([5, 10, 11]))}
    elif table == "hiring" and draw(st.booleans()):
        test["where"] = {"department": {"contains": "sales"}}
    elif table == "funding" and draw(st.booleans()):
        test["min_total"] = {"amount_usd": draw(st.sampled_from([5e6, 2.5e7]))}
        if draw(st.booleans()):
            test["round_types"] = ["series a", "Seed"]
    return test


def _criterion(draw: st.DrawFn, j: int) -> dict[str, Any]:
    kinds = ["when", "when", "hiring", "funding", "event", "event", "growth"]
    kind = draw(st.sampled_from(kinds))
    found: dict[str, Any] = {"label": f"c{j}", "points": draw(st.sampled_from([-1, 1, 2, 3]))}
    if draw(st.booleans()):
        found["group"] = draw(st.sampled_from(["fit", "intent"]))
    if kind == "event":
        return found | _event_test(draw)
    if kind == "growth":
        return found | _growth_test(draw, draw(st.sampled_from([*WINDOWS, 30, 60])))
    if kind == "when":
        found["when"] = dict([_condition(draw)])
        return found
    found |= {"signal": kind, "within_days": draw(st.sampled_from(WINDOWS))}
    if draw(st.booleans()):
        found["min_count"] = draw(st.integers(1, 3))
    if kind == "hiring" and draw(st.booleans()):
        found["departments"] = draw(
            st.lists(st.sampled_from(["sales", "REVENUE OPERATIONS", "engineering"]), min_size=1)
        )
    if kind == "funding":
        if draw(st.booleans()):
            found["round_types"] = draw(
                st.lists(st.sampled_from(["series a", "SERIES B", "Seed"]), min_size=1)
            )
        if draw(st.booleans()):
            found["min_amount_usd"] = draw(st.sampled_from([5_000_000, 5e6, 1.5e7]))
    return found


def _tiers(draw: st.DrawFn, positive: bool) -> list[dict[str, Any]]:
    """Tiers on score, on percent (when some criterion gives points) or on fit/intent."""
    kinds = ["min_score", "min_fit"] + (["min_percent"] if positive else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "min_percent":
        values: list[Any] = draw(
            st.lists(st.sampled_from([0, 25, 50, 66.5, 100]), min_size=1, max_size=3, unique=True)
        )
    else:
        values = draw(st.lists(st.integers(-1, 5), min_size=1, max_size=3, unique=True))
    tiers = []
    for k, value in enumerate(sorted(values, reverse=True)):
        tier: dict[str, Any] = {"name": f"Tier {k + 1}", kind: value}
        if kind == "min_fit" and draw(st.booleans()):
            tier["min_intent"] = draw(st.integers(0, 3))
        if draw(st.booleans()):
            tier["max_accounts"] = draw(st.integers(1, 3))
        if draw(st.integers(0, 2)) == 0:
            tier["stickiness"] = draw(st.integers(0, 3))
        tiers.append(tier)
    return tiers


@st.composite
def rules_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A rules document (as TOML would parse it) using any construct of the reference."""
    segments = []
    for i in range(draw(st.integers(1, 3))):
        score = [_criterion(draw, j) for j in range(draw(st.integers(0, 4)))]
        segment: dict[str, Any] = {
            "name": f"seg{i}",
            "include": _conditions(draw, 1),
            "exclude": _conditions(draw, 2),
            "score": score,
            "tiers": _tiers(draw, any(c["points"] > 0 for c in score)),
        }
        if draw(st.integers(0, 2)) == 0:
            segment["max_accounts"] = draw(st.integers(1, 4))
        segments.append(segment)
    document: dict[str, Any] = {"segments": segments}
    if draw(st.booleans()):
        document["crm"] = {"exclude_status": draw(st.sampled_from([["customer"], ["churned"]]))}
    return document


@st.composite
def cases(draw: st.DrawFn) -> tuple[Rules, dict[str, pl.DataFrame]]:
    """A rules file and the data it runs on."""
    rules = parse_rules(draw(rules_documents()), "generated.toml")
    frame = draw(companies())
    tables = {
        "companies": frame,
        "jobs": draw(jobs(frame.height)),
        "funding": draw(funding(frame.height)),
        "intent": draw(intent(frame.height)),
        "headcount": draw(headcount(frame.height)),
        "crm": draw(crm()),
    }
    rules.check_against(frame.schema, "generated companies")
    if any(t.stickiness is not None for s in rules.segments for t in s.tiers):
        tables["previous"] = draw(previous_accounts(rules, frame))
    return rules, tables


@st.composite
def previous_accounts(draw: st.DrawFn, rules: Rules, frame: pl.DataFrame) -> pl.DataFrame:
    """Last month's listed accounts: some companies in some segment's tier, at a score
    near today's range, so that stickiness holds some and lets others go."""
    rows = []
    for company_id in frame["company_id"].to_list():
        if draw(st.booleans()):
            segment = draw(st.sampled_from(rules.segments))
            tier = draw(st.sampled_from(segment.tiers))
            rows.append((company_id, segment.name, tier.name, draw(st.integers(-1, 8))))
    accounts = pl.DataFrame(
        rows, schema=["company_id", "segment", "tier", "score"], orient="row"
    ).with_columns(status=pl.lit("listed"))
    return accounts.select(
        pl.col(c).cast(t) if c in accounts.columns else pl.lit(None, t).alias(c)
        for c, t in ACCOUNT_COLUMNS.items()
    )


def _build(
    rules: Rules,
    tables: dict[str, pl.DataFrame],
    engine: Engine | None,
    as_of: dt.date,
    previous: PreviousRun | None = None,
) -> BuildResult:
    return build_lists(
        rules,
        tables["companies"].lazy(),
        as_of=as_of,
        jobs=tables["jobs"].lazy(),
        funding=tables["funding"].lazy(),
        events={name: tables[name].lazy() for name in ("intent", "headcount") if name in tables},
        crm=tables["crm"],
        engine=engine,
        previous=previous,
    )


def list_files(rules: Rules, tables: dict[str, pl.DataFrame], engine: Engine | None) -> dict:
    """Build the lists on ``engine`` and return every list file's bytes by file name.

    When a tier has stickiness, the build follows a previous run (``previous``) whose
    seats it may hold.
    """
    previous = None
    if "previous" in tables:
        before = AS_OF - dt.timedelta(days=30)
        previous = PreviousRun("previous", before, rules.sha256, tables["previous"])
    result = _build(rules, tables, engine, AS_OF, previous)
    files: dict[str, bytes] = {}
    frames = {f"{sl.segment.name}": sl.frame for sl in result.lists}
    frames |= {"suppressed": result.suppressed, "accounts": result.accounts}
    frames |= {f"changes_{k}": v for k, v in (result.changes or {}).items()}
    for name, frame in frames.items():
        if name != "accounts":  # a parquet file only, as in a run directory
            files[f"{name}.csv"] = _csv_bytes(frame)
        buffer = io.BytesIO()
        frame.write_parquet(buffer, statistics=False)
        files[f"{name}.parquet"] = buffer.getvalue()
    files["funnel"] = repr([(sl.funnel, sl.plans, sl.disqualifiers) for sl in result.lists])
    files["histograms"] = repr([sl.score_histogram for sl in result.lists])
    return files


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        write_csv(frame, path)
        return path.read_bytes()


SIGNALS_RULES = """
[[segments]]
name = "intent_led"
[segments.include]
description = { contains = ["sales", "outbound"] }
signals = [{ signal = "intent", within_days = 30 }]
[segments.exclude]
signals = [{ signal = "funding", within_days = 30, min_total = { amount_usd = 50000000 } }]

[[segments.score]]
label = "researching abm"
signal = "intent"
where = { topic = ["abm", "sales engagement"] }
within_days = 30
min_count = 2
points = 3
group = "intent"

[[segments.score]]
label = "hiring sellers"
signal = "hiring"
where = { department = { contains = "sales" } }
within_days = 30
points = 2

[[segments.score]]
label = "uses a CRM"
when = { technologies = { contains = ["force", "spot"] } }
points = 1

[[segments.tiers]]
name = "Hot"
min_percent = 80
max_accounts = 2
[[segments.tiers]]
name = "Warm"
min_percent = 40
"""
SIGNALS_TOTAL_RULES = (
    SIGNALS_RULES
    + """
[[segments.score]]
label = "heavy research"
signal = "intent"
within_days = 30
min_total = { weight = 10 }
points = 1
group = "intent"
"""
)


def signals_case(total: bool) -> tuple[Rules, dict[str, pl.DataFrame]]:
    """Hand-made data on which every criterion above fires for some listed account."""
    import tomllib

    rules = parse_rules(tomllib.loads(SIGNALS_TOTAL_RULES if total else SIGNALS_RULES))
    day = [AS_OF - dt.timedelta(days=d) for d in (0, 3, 30, 31)]
    rows = []
    for i in range(8):
        rows.append(
            {
                "company_id": f"c{i}",
                "name": f"Company {i}",
                "domain": ["a.com", "shop.a.com", None, f"x{i}.io"][i % 4],
                "description": ["Outbound SALES", "sales tools", "retail", None][i % 4],
                "technologies": [["Salesforce"], ["HubSpot", None], [], None][i % 4],
            }
        )
    companies = pl.DataFrame(
        rows,
        schema={
            "company_id": pl.String(),
            "name": pl.String(),
            "domain": pl.String(),
            "description": pl.String(),
            "technologies": pl.List(pl.String()),
        },
    )
    intent_rows = [
        (f"c{i}", day[k % 4], ["ABM", "Sales Engagement", "other", None][(i + k) % 4], k + i)
        for i in range(8)
        for k in range(i % 5)
    ]
    intent_frame = pl.DataFrame(
        intent_rows,
        schema={"company_id": pl.String(), "date": pl.Date(), "topic": pl.String(),
                "weight": pl.Int64()},
        orient="row",
    )  # fmt: skip
    jobs_frame = pl.DataFrame(
        [(f"c{i}", day[i % 4], "AE", ["Sales", "Engineering"][i % 2]) for i in range(8)],
        schema={"company_id": pl.String(), "posted_date": pl.Date(), "title": pl.String(),
                "department": pl.String()},
        orient="row",
    )  # fmt: skip
    funding_frame = pl.DataFrame(
        [("c5", day[1], "Series C", 6e7)],
        schema={"company_id": pl.String(), "announced_date": pl.Date(),
                "round_type": pl.String(), "amount_usd": pl.Float64()},
        orient="row",
    )  # fmt: skip
    crm_frame = pl.DataFrame(
        schema={"account_id": pl.String(), "name": pl.String(), "domain": pl.String(),
                "status": pl.String()},
    )  # fmt: skip
    tables = {"companies": companies, "jobs": jobs_frame, "funding": funding_frame}
    return rules, {**tables, "intent": intent_frame, "crm": crm_frame}


GROWTH_RULES = """
[[segments]]
name = "growing"

[[segments.score]]
label = "headcount changed"
growth = "headcount"
column = "employees"
within_days = 30
min_percent = -1000
max_percent = 1000
points = 1

[[segments.score]]
label = "headcount up 20%"
growth = "headcount"
column = "employees"
within_days = 30
min_percent = 20
points = 2
group = "intent"

[[segments.score]]
label = "researching"
signal = "intent"
within_days = 30
min_distinct = { topic = 2, weight = 1 }
points = 1

[[segments.tiers]]
name = "All"
min_score = 0
"""
CUTOFF = AS_OF - dt.timedelta(days=30)


def _day(days: int, base: dt.date = AS_OF) -> dt.date:
    return base + dt.timedelta(days=days)


# (company, date, employees): each company one edge of the growth rules, its answer known.
GROWTH_MEASUREMENTS = [
    # g0: "then" is 0, so growth is null and neither bound fires.
    ("g0", _day(-10, CUTOFF), 0), ("g0", AS_OF, 50),
    # g1: null values fall back to the measurement before them: 100 -> 130, +30%.
    ("g1", _day(-5, CUTOFF), 100), ("g1", CUTOFF, None),
    ("g1", _day(-1), 130), ("g1", AS_OF, None),
    # g2: nothing measured after the cut-off: now and then are one row, growth 0.
    ("g2", _day(-3, CUTOFF), 120),
    # g3: on the cut-off day counts as then, the day after does not; a measurement after
    # as_of is never read: 80 -> 101, +26.25%, written 26.2 (half to even).
    ("g3", _day(-1, CUTOFF), 70), ("g3", CUTOFF, 80), ("g3", _day(1, CUTOFF), 90),
    ("g3", AS_OF, 101), ("g3", _day(1), 500),
    # g4: two on one day: the larger counts: 110 -> 121, +10%.
    ("g4", CUTOFF, 110), ("g4", CUTOFF, 100), ("g4", AS_OF, 99), ("g4", AS_OF, 121),
    # g5: a fall of 0.04% rounds to -0.0, as polars writes it.
    ("g5", _day(-100), 10_000), ("g5", AS_OF, 9_996),
    # g6: only measurements after the cut-off: no "then", no growth.
    ("g6", _day(-2), 40), ("g6", AS_OF, 60),
    # Rows without a date or a company never count.
    ("g6", None, 1), (None, CUTOFF, 1),
]  # fmt: skip
GROWTH_REASONS = {
    "g0": "",
    "g1": "headcount changed +1: 100 -> 130 (+30%); headcount up 20% +2: 100 -> 130 (+30%)",
    "g2": "headcount changed +1: 120 -> 120 (+0%)",
    "g3": "headcount changed +1: 80 -> 101 (+26.2%); headcount up 20% +2: 80 -> 101 (+26.2%)",
    "g4": "headcount changed +1: 110 -> 121 (+10%)",
    "g5": "headcount changed +1: 10000 -> 9996 (-0.0%); researching +1: abm, sales engagement "
    "(3 events, latest 2026-11-01)",
    "g6": "",
}


def growth_case() -> tuple[Rules, dict[str, pl.DataFrame]]:
    """Hand-made measurements on every edge of growth (and a ``min_distinct`` whose topics
    differ only in case), with the reasons each company must get in ``GROWTH_REASONS``."""
    import tomllib

    rules = parse_rules(tomllib.loads(GROWTH_RULES))
    ids = sorted(GROWTH_REASONS)
    companies = pl.DataFrame(
        {"company_id": ids, "name": [f"Company {i}" for i in ids],
         "domain": [f"{i}.com" for i in ids]},
    )  # fmt: skip
    measurements = pl.DataFrame(
        GROWTH_MEASUREMENTS,
        schema={"company_id": pl.String(), "date": pl.Date(), "employees": pl.Int64()},
        orient="row",
    )
    # g5 researched "abm" twice in two cases and "Sales Engagement" once: two topics.
    intent_frame = pl.DataFrame(
        [("g5", _day(-3), "ABM", 1), ("g5", _day(-2), "abm", 1),
         ("g5", AS_OF, "Sales Engagement", None), ("g4", AS_OF, "abm", 2)],
        schema={"company_id": pl.String(), "date": pl.Date(), "topic": pl.String(),
                "weight": pl.Int64()},
        orient="row",
    )  # fmt: skip
    empty = {"company_id": pl.String(), "posted_date": pl.Date(), "department": pl.String()}
    rounds = {"company_id": pl.String(), "announced_date": pl.Date(), "round_type": pl.String()}
    crm_schema = {"account_id": pl.String(), "name": pl.String(), "domain": pl.String()}
    return rules, {
        "companies": companies,
        "jobs": pl.DataFrame(schema=empty),
        "funding": pl.DataFrame(schema={**rounds, "amount_usd": pl.Float64()}),
        "intent": intent_frame,
        "headcount": measurements,
        "crm": pl.DataFrame(schema={**crm_schema, "status": pl.String()}),
    }


LIST_QUOTE_RULES = """
[[segments]]
name = "ads"
[[segments.score]]
label = "ad channel"
signal = "intent"
where = { channels = { contains = ["ads"] } }
within_days = 30
points = 1
[[segments.tiers]]
name = "All"
min_score = 0
"""


def list_quote_case() -> tuple[Rules, dict[str, pl.DataFrame]]:
    """A signal quoting a list column, on same-day events whose lists differ.

    c0's three events on one day quote, as text, "email, Ads", "ads" and "web, ads": the
    latest is the last of them in text order, "web, ads" (a null element left out). c1's
    only matching event quotes "ads"; c2's list is null, so nothing matches.
    """
    import tomllib

    rules = parse_rules(tomllib.loads(LIST_QUOTE_RULES))
    day = AS_OF - dt.timedelta(days=2)
    companies = pl.DataFrame(
        {"company_id": ["c0", "c1", "c2"], "name": ["A", "B", "C"], "domain": [None] * 3},
        schema={"company_id": pl.String(), "name": pl.String(), "domain": pl.String()},
    )
    events = [
        ("c0", day, ["email", "Ads"]),
        ("c0", day, ["web", None, "ads"]),
        ("c0", day, ["ads"]),
        ("c1", day - dt.timedelta(days=1), ["ads"]),
        ("c1", day - dt.timedelta(days=1), [None]),
        ("c2", day, None),
    ]
    intent_frame = pl.DataFrame(
        events,
        schema={"company_id": pl.String(), "date": pl.Date(), "channels": pl.List(pl.String())},
        orient="row",
    )
    empty_jobs = pl.DataFrame(schema={"company_id": pl.String(), "posted_date": pl.Date()})
    empty_funding = pl.DataFrame(schema={"company_id": pl.String(), "announced_date": pl.Date()})
    crm_frame = pl.DataFrame(
        schema={"account_id": pl.String(), "name": pl.String(), "domain": pl.String()}
    )
    tables = {
        "companies": companies,
        "jobs": empty_jobs,
        "funding": empty_funding,
        "intent": intent_frame,
        "crm": crm_frame.with_columns(status=pl.lit(None, pl.String)),
    }
    return rules, tables
