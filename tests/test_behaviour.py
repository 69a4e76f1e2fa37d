"""Named event tables, ``where``/``min_count``/``min_distinct``/``min_total``, growth,
``contains`` and ``signals`` tests, each compared with a small pure-Python evaluator
written from the rules reference (docs/signals.md), never from the engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listbuilder.errors import RulesError
from listbuilder.rules import attach_signals
from tests.conftest import AS_OF, Workspace, invoke, rules_from, write_frame

TITLES = ["VP Sales", "vp sales ops", "Chief Revenue Officer", "Engineer", "", None]
TOPICS = ["abm", "ABM", "outbound automation", "sales engagement", "crm", " abm", None]
COMPANIES = ["c1", "c2", "c3", None]


# --- the reference evaluator -------------------------------------------------------------


def ref_contains(value: Any, needles: list[str]) -> bool:
    """Case-insensitive literal substring; a list passes when any non-null element does."""
    if value is None:
        return False
    items = value if isinstance(value, list) else [value]
    return any(
        item is not None and any(n.lower() in item.lower() for n in needles) for item in items
    )


def ref_signal(
    events: list[dict[str, Any]],
    company: str,
    *,
    within: int,
    where: dict[str, Any],
    min_count: int = 1,
    min_distinct: dict[str, int] | None = None,
    min_total: dict[str, float] | None = None,
) -> bool:
    start = AS_OF - dt.timedelta(days=within)
    matching = []
    for e in events:
        if e["company_id"] != company or e["date"] is None:
            continue
        if not start <= e["date"] <= AS_OF:
            continue
        ok = True
        for column, (op, arg) in where.items():
            value = e.get(column)
            if op == "contains":
                ok &= ref_contains(value, arg)
            elif op == "in":
                ok &= value is not None and value.lower() in [a.lower() for a in arg]
            elif op == "min":
                ok &= value is not None and value >= arg
        if ok:
            matching.append(e)
    if len(matching) < min_count:
        return False
    for column, n in (min_distinct or {}).items():
        values = {e[column].lower() for e in matching if e.get(column) is not None}
        if len(values) < n:
            return False
    for column, x in (min_total or {}).items():
        if sum(e[column] for e in matching if e.get(column) is not None) < x:
            return False
    return True


def ref_growth(
    rows: list[dict[str, Any]], company: str, within: int, low: float | None, high: float | None
) -> bool:
    cut = AS_OF - dt.timedelta(days=within)
    usable = [
        r
        for r in rows
        if r["company_id"] == company
        and r["date"] is not None
        and r["employees"] is not None
        and r["date"] <= AS_OF
    ]

    def latest(upto: dt.date) -> float | None:
        found = [r for r in usable if r["date"] <= upto]
        if not found:
            return None
        top = max(r["date"] for r in found)
        # Two measurements on one day: the larger, as the engine's tie-break says.
        return float(max(r["employees"] for r in found if r["date"] == top))

    now, then = latest(AS_OF), latest(cut)
    if now is None or then is None or then == 0:
        return False
    growth = (now - then) / then * 100
    return (low is None or growth >= low) and (high is None or growth <= high)


# --- the engine, on the same rows --------------------------------------------------------


def engine_fired(rules_text: str, tables: dict[str, pl.DataFrame]) -> dict[str, list[bool]]:
    rules = rules_from(rules_text)
    companies = pl.LazyFrame({"company_id": ["c1", "c2", "c3"]})
    criteria = rules.event_reads()
    frame = attach_signals(
        companies, criteria, {k: v.lazy() for k, v in tables.items()}, AS_OF
    ).with_columns(c.fired().alias(c.label) for c in criteria)
    out = frame.collect()
    return {c.label: out[c.label].to_list() for c in criteria}


SEG = '[[segments]]\nname = "s"\n'
TIER = '[[segments.tiers]]\nname = "T"\nmin_score = 1\n'

dates = st.one_of(st.none(), st.integers(-3, 45).map(lambda d: AS_OF - dt.timedelta(days=d)))
event_rows = st.lists(
    st.fixed_dictionaries(
        {
            "company_id": st.sampled_from(COMPANIES),
            "date": dates,
            "title": st.sampled_from(TITLES),
            "topic": st.sampled_from(TOPICS),
            "amount": st.one_of(st.none(), st.integers(0, 50).map(float)),
        }
    ),
    max_size=25,
)


def events_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "company_id": pl.String,
            "date": pl.Date,
            "title": pl.String,
            "topic": pl.String,
            "amount": pl.Float64,
        },
    )


@settings(max_examples=120, deadline=None)
@given(
    rows=event_rows,
    within=st.integers(0, 40),
    min_count=st.integers(1, 3),
    distinct=st.integers(1, 3),
    total=st.integers(0, 60),
)
def test_signal_tests_match_the_reference(
    rows: list[dict[str, Any]], within: int, min_count: int, distinct: int, total: int
) -> None:
    text = (
        SEG
        + f"""
[[segments.score]]
label = "leader"
signal = "exec_hires"
where = {{ title = {{ contains = ["vp sales", "chief revenue"] }} }}
within_days = {within}
min_count = {min_count}
points = 3
[[segments.score]]
label = "research"
signal = "exec_hires"
where = {{ topic = ["abm", "outbound automation", "sales engagement"] }}
within_days = {within}
min_distinct = {{ topic = {distinct} }}
points = 2
[[segments.score]]
label = "money"
signal = "exec_hires"
within_days = {within}
min_total = {{ amount = {total} }}
points = 1
[[segments.score]]
label = "all three"
signal = "exec_hires"
where = {{ amount = {{ min = 10 }} }}
within_days = {within}
min_count = {min_count}
min_distinct = {{ topic = {distinct} }}
min_total = {{ amount = {total} }}
points = 1
"""
        + TIER
    )
    got = engine_fired(text, {"exec_hires": events_frame(rows)})
    ids = ["c1", "c2", "c3"]
    expected = {
        "leader": [
            ref_signal(
                rows,
                c,
                within=within,
                where={"title": ("contains", ["vp sales", "chief revenue"])},
                min_count=min_count,
            )
            for c in ids
        ],
        "research": [
            ref_signal(
                rows,
                c,
                within=within,
                where={"topic": ("in", ["abm", "outbound automation", "sales engagement"])},
                min_distinct={"topic": distinct},
            )
            for c in ids
        ],
        "money": [
            ref_signal(rows, c, within=within, where={}, min_total={"amount": total}) for c in ids
        ],
        "all three": [
            ref_signal(
                rows,
                c,
                within=within,
                where={"amount": ("min", 10.0)},
                min_count=min_count,
                min_distinct={"topic": distinct},
                min_total={"amount": total},
            )
            for c in ids
        ],
    }
    assert got == expected


measurements = st.lists(
    st.fixed_dictionaries(
        {
            "company_id": st.sampled_from(COMPANIES),
            "date": st.one_of(
                st.none(), st.integers(-20, 400).map(lambda d: AS_OF - dt.timedelta(days=d))
            ),
            "employees": st.one_of(st.none(), st.integers(0, 40)),
        }
    ),
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(
    rows=measurements,
    within=st.integers(0, 200),
    low=st.one_of(st.none(), st.integers(-100, 100)),
    high=st.one_of(st.none(), st.integers(-100, 100)),
)
def test_growth_matches_the_reference(
    rows: list[dict[str, Any]], within: int, low: int | None, high: int | None
) -> None:
    if low is None and high is None:
        low = 0
    if low is not None and high is not None and low > high:
        low, high = high, low
    bounds = "".join(
        f"{k} = {v}\n" for k, v in (("min_percent", low), ("max_percent", high)) if v is not None
    )
    text = (
        SEG
        + '[[segments.score]]\nlabel = "g"\ngrowth = "headcount"\ncolumn = "employees"\n'
        + f"within_days = {within}\n{bounds}points = 1\n"
        + TIER
    )
    frame = pl.DataFrame(
        rows, schema={"company_id": pl.String, "date": pl.Date, "employees": pl.Int64}
    )
    got = engine_fired(text, {"headcount": frame})["g"]
    assert got == [ref_growth(rows, c, within, low, high) for c in ["c1", "c2", "c3"]]


def test_growth_edges_by_hand() -> None:
    day = dt.timedelta(days=1)
    cut = AS_OF - 180 * day
    rows = [
        # c1: then is on the cut-off day itself (included), now on as_of: 100 -> 120 = +20%
        {"company_id": "c1", "date": cut, "employees": 100},
        {"company_id": "c1", "date": cut + day, "employees": 5},
        {"company_id": "c1", "date": AS_OF, "employees": 120},
        {"company_id": "c1", "date": AS_OF + day, "employees": 999},  # after as_of
        # c2: then is 0: growth is null and fires nothing
        {"company_id": "c2", "date": cut - day, "employees": 0},
        {"company_id": "c2", "date": AS_OF, "employees": 50},
        # c3: a null latest value falls back to the earlier measurement; no measurement
        # after the cut-off, so now and then are the same one: growth 0
        {"company_id": "c3", "date": cut - 10 * day, "employees": 40},
        {"company_id": "c3", "date": AS_OF, "employees": None},
    ]
    frame = pl.DataFrame(
        rows, schema={"company_id": pl.String, "date": pl.Date, "employees": pl.Int64}
    )
    text = (
        SEG
        + '[[segments.score]]\nlabel = "up"\ngrowth = "headcount"\ncolumn = "employees"\n'
        + "within_days = 180\nmin_percent = 20\npoints = 1\n"
        + '[[segments.score]]\nlabel = "flat"\ngrowth = "headcount"\ncolumn = "employees"\n'
        + "within_days = 180\nmin_percent = 0\nmax_percent = 0\npoints = 1\n"
        + TIER
    )
    got = engine_fired(text, {"headcount": frame})
    assert got == {"up": [True, False, False], "flat": [False, False, True]}


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(TITLES[:-1]),
            st.lists(st.one_of(st.none(), st.sampled_from(TITLES[:-1])), max_size=3),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_contains_matches_the_reference(values: list[Any]) -> None:
    from listbuilder.rules import Condition

    texts = [v if isinstance(v, str) or v is None else None for v in values]
    lists = [v if isinstance(v, list) or v is None else None for v in values]
    frame = pl.DataFrame({"t": texts, "l": lists}, schema={"t": pl.String, "l": pl.List(pl.String)})
    needles = ("VP SALES", "revenue")
    out = frame.select(
        t=Condition("t", "contains", needles, "x").expr(),
        l=Condition("l", "contains", needles, "x").expr(),
    )
    assert out["t"].to_list() == [ref_contains(v, list(needles)) for v in texts]
    assert out["l"].to_list() == [ref_contains(v, list(needles)) for v in lists]


def test_contains_is_literal_not_a_pattern() -> None:
    from listbuilder.rules import Condition

    frame = pl.DataFrame({"t": ["a.c", "abc", "A.C corp"]})
    got = frame.select(Condition("t", "contains", ("a.c",), "x").expr())["t"].to_list()
    assert got == [True, False, True]


# --- the issue's rules, as written, through the CLI ---------------------------------------

ISSUE_RULES = """
[[segments]]
name = "core"

[segments.exclude]
signals = [{ signal = "layoffs", within_days = 90 }]

[[segments.score]]
label = "new revenue leader"
signal = "exec_hires"
where = { title = { contains = ["vp sales", "chief revenue"] } }
within_days = 90
min_count = 1
points = 3

[[segments.score]]
label = "researching our category"
signal = "intent"
where = { topic = ["sales engagement", "outbound automation", "abm"] }
within_days = 30
min_distinct = { topic = 2 }
points = 2
group = "intent"

[[segments.score]]
label = "big raise"
signal = "funding"
within_days = 365
min_total = { amount_usd = 20000000 }
points = 2

[[segments.score]]
label = "headcount up 20% in six months"
growth = "headcount"
column = "employees"
within_days = 180
min_percent = 20
points = 2

[[segments.tiers]]
name = "Green"
min_percent = 80
[[segments.tiers]]
name = "Yellow"
min_percent = 60
[[segments.tiers]]
name = "Red"
min_percent = 0
"""


def write_issue_inputs(ws: Workspace) -> list[str]:
    d = dt.timedelta(days=1)
    ws.companies([{"company_id": c} for c in ("c1", "c2", "c3", "c4")])
    ws.rules(ISSUE_RULES)
    funding = ws.funding(
        [
            {"company_id": "c1", "announced_date": AS_OF - 100 * d, "amount_usd": 15e6},
            {"company_id": "c1", "announced_date": AS_OF - 10 * d, "amount_usd": 10e6},
            {"company_id": "c2", "announced_date": AS_OF - 10 * d, "amount_usd": 19e6},
        ]
    )
    exec_hires = write_frame(
        pl.DataFrame(
            {
                "company_id": ["c1", "c2", "c3"],
                "date": [AS_OF - 20 * d, AS_OF - 91 * d, AS_OF - 5 * d],
                "title": ["VP Sales", "Chief Revenue Officer", "VP Engineering"],
            }
        ),
        ws.root / "exec_hires.parquet",
    )
    intent = write_frame(
        pl.DataFrame(
            {
                "company_id": ["c1", "c1", "c1", "c2", "c2"],
                "date": [AS_OF - 3 * d] * 5,
                "topic": ["ABM", "abm", "Sales Engagement", "abm", "crm"],
            }
        ),
        ws.root / "intent.csv",
    )
    layoffs = write_frame(
        pl.DataFrame({"company_id": ["c4"], "date": [AS_OF - 30 * d]}),
        ws.root / "layoffs.parquet",
    )
    headcount = write_frame(
        pl.DataFrame(
            {
                "company_id": ["c1", "c1", "c3", "c3"],
                "date": [AS_OF - 200 * d, AS_OF - 1 * d, AS_OF - 200 * d, AS_OF - 1 * d],
                "employees": [140, 182, 100, 110],
            }
        ),
        ws.root / "headcount.parquet",
    )
    return [
        "--funding",
        str(funding),
        "--events",
        f"exec_hires={exec_hires}",
        "--events",
        f"intent={intent}",
        "--events",
        f"layoffs={layoffs}",
        "--events",
        f"headcount={headcount}",
    ]


def test_the_issue_rules_work_as_written(ws: Workspace) -> None:
    args = write_issue_inputs(ws)
    result = invoke(
        [
            "build",
            "--companies",
            str(ws.root / "companies.parquet"),
            "--rules",
            str(ws.root / "rules.toml"),
            "--as-of",
            AS_OF.isoformat(),
            "--out",
            str(ws.out),
            *args,
        ]
    )
    assert result.exit_code == 0, result.output
    listed = ws.listed("core")
    rows = {r["company_id"]: r for r in listed.iter_rows(named=True)}
    # c4 had a layoff 30 days ago: excluded. Max score 3 + 2 + 2 + 2 = 9.
    assert set(rows) == {"c1", "c2", "c3"}
    c1 = rows["c1"]
    assert (c1["score"], c1["fit_score"], c1["intent_score"]) == (9, 7, 2)
    assert c1["percent"] == 100.0
    assert c1["tier"] == "Green"
    assert c1["reasons"] == (
        "new revenue leader +3: VP Sales, 2026-10-12; "
        # Three events on one day: the latest is the greatest value, "abm" > "Sales..." > "ABM"
        "researching our category +2: abm, sales engagement (3 events, latest abm, 2026-10-29); "
        "big raise +2: amount_usd 25,000,000 in total (2 events, latest 2026-10-22); "
        "headcount up 20% in six months +2: 140 -> 182 (+30%)"
    )
    # c2: its CRO hire is 91 days old, its raise 19M, one category topic: nothing fires.
    assert (rows["c2"]["score"], rows["c2"]["tier"], rows["c2"]["percent"]) == (0, "Red", 0.0)
    # c3: +10% headcount only, and a VP of Engineering is no revenue leader.
    assert (rows["c3"]["score"], rows["c3"]["reasons"]) == (0, "")
    summary = ws.summary()
    assert summary["inputs"]["exec_hires"]["rows"] == 3
    assert summary["segments"][0]["disqualifiers"] == {"layoffs: at least 1 event in 90 days": 1}
    report = (ws.out / "report.html").read_text(encoding="utf-8")
    # The two-by-two: c1 fits and is in market; c2 and c3 neither.
    assert (
        '<tr><th scope="row">fits (fit ≥ 1)</th><td>1</td><td>0</td></tr>'
        '<tr><th scope="row">does not fit</th><td>0</td><td>2</td></tr>'
    ) in report
    assert "Green (percent ≥ 80)" in report


@pytest.mark.parametrize(
    ("rules", "extra", "problem"),
    [
        pytest.param(
            SEG + '[[segments.score]]\nlabel = "x"\nsignal = "gossip"\nwithin_days = 5\n'
            "points = 1\n" + TIER,
            [],
            "segments[0].score[0].signal: `gossip` needs an event table of that name; pass "
            "--events gossip=PATH or name it under [inputs.events] in the project file "
            "(event tables given: exec_hires)",
            id="unknown-table",
        ),
        pytest.param(
            SEG + '[[segments.score]]\nlabel = "x"\nsignal = "exec_hires"\nwithin_days = 5\n'
            'where = { seniority = ["vp"] }\npoints = 1\n' + TIER,
            [],
            "segments[0].score[0].where.seniority: no column `seniority` in exec_hires "
            "({path}); it has: company_id, date, title, headcount",
            id="where-missing-column",
        ),
        pytest.param(
            SEG + '[[segments.score]]\nlabel = "x"\nsignal = "exec_hires"\nwithin_days = 5\n'
            "min_total = { title = 3 }\npoints = 1\n" + TIER,
            [],
            "segments[0].score[0].min_total.title: `min_total` needs a number column; "
            "`title` in {path} holds String",
            id="min-total-on-text",
        ),
        pytest.param(
            SEG + '[[segments.score]]\nlabel = "x"\ngrowth = "exec_hires"\ncolumn = "title"\n'
            "within_days = 5\nmin_percent = 1\npoints = 1\n" + TIER,
            [],
            "segments[0].score[0].column: growth needs a numeric column; `title` in {path} "
            "holds String",
            id="growth-on-text",
        ),
    ],
)
def test_bad_signal_rules_name_file_and_key(
    ws: Workspace, rules: str, extra: list[str], problem: str
) -> None:
    ws.companies([{"company_id": "c1"}])
    path = write_frame(
        pl.DataFrame({"company_id": ["c1"], "date": [AS_OF], "title": ["VP"], "headcount": [3]}),
        ws.root / "exec.parquet",
    )
    rules_path = ws.rules(rules)
    with pytest.raises(RulesError) as caught:
        from listbuilder.outputs import run_build

        run_build(
            rules_path=rules_path,
            companies_path=ws.root / "companies.parquet",
            events_paths={"exec_hires": path},
            as_of=AS_OF,
            out=ws.out,
        )
    assert caught.value.path == str(rules_path)
    assert caught.value.problems == [problem.format(path=path)]


def test_min_percent_with_min_score_in_one_segment_is_refused() -> None:
    text = (
        SEG
        + '[[segments.score]]\nlabel = "a"\nwhen = { x = 1 }\npoints = 1\n'
        + '[[segments.tiers]]\nname = "A"\nmin_percent = 80\n'
        + '[[segments.tiers]]\nname = "B"\nmin_score = 0\n'
    )
    with pytest.raises(RulesError) as caught:
        rules_from(text, "icp.toml")
    assert caught.value.problems == [
        "segments[0].tiers[0].min_percent: this segment's tiers mix `min_percent` with "
        "`min_score` (segments[0].tiers[1]); one segment uses one kind of threshold"
    ]


def test_an_event_table_without_a_date_column_is_refused(ws: Workspace) -> None:
    ws.companies([{"company_id": "c1"}])
    ws.rules(
        SEG + '[[segments.score]]\nlabel = "x"\nsignal = "intent"\nwithin_days = 5\n'
        "points = 1\n" + TIER
    )
    path = write_frame(
        pl.DataFrame({"company_id": ["c1"], "seen_on": [AS_OF]}), ws.root / "intent.parquet"
    )
    result = invoke(
        [
            "build",
            "--companies",
            str(ws.root / "companies.parquet"),
            "--rules",
            str(ws.root / "rules.toml"),
            "--events",
            f"intent={path}",
            "--out",
            str(ws.out),
        ]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: event table intent ({path}) has no date column: expected column `date`, "
        "the date of each event; it has: company_id, seen_on\n"
    )


def test_a_source_file_names_the_date_column(ws: Workspace) -> None:
    data = write_frame(
        pl.DataFrame({"org": ["c1", "c1"], "seen_on": ["2026-10-30", "2026-11-02"]}),
        ws.root / "raw.csv",
    )
    source = ws.root / "intent.toml"
    source.write_text(
        f'role = "events"\ndate_column = "seen_on"\n[input]\npath = "{data.name}"\n'
        '[columns]\ncompany_id = "org"\n[extra]\nseen_on = "seen_on"\n',
        encoding="utf-8",
    )
    from listbuilder.inputs import read_events

    frame = read_events(source, "intent").frame.collect()
    assert frame.schema["date"] == pl.Date
    assert frame["date"].to_list() == [dt.date(2026, 10, 30), dt.date(2026, 11, 2)]


def test_include_signals_need_every_test_and_no_events_fails(ws: Workspace) -> None:
    d = dt.timedelta(days=1)
    ws.companies([{"company_id": c} for c in ("c1", "c2", "c3")])
    ws.rules(
        SEG
        + "[segments.include]\n"
        + 'signals = [{ signal = "intent", within_days = 10 }, '
        + '{ signal = "intent", within_days = 10, where = { topic = { contains = "abm" } } }]\n'
        + '[[segments.tiers]]\nname = "T"\nmin_score = 0\n'
    )
    intent = write_frame(
        pl.DataFrame(
            {"company_id": ["c1", "c2"], "date": [AS_OF - d, AS_OF - d], "topic": ["ABM", "crm"]}
        ),
        ws.root / "intent.parquet",
    )
    from listbuilder.outputs import run_build

    run_build(
        rules_path=ws.root / "rules.toml",
        companies_path=ws.root / "companies.parquet",
        events_paths={"intent": intent},
        as_of=AS_OF,
        out=ws.out,
    )
    assert ws.listed("s")["company_id"].to_list() == ["c1"]


CHANGE_RULES = """
[[segments]]
name = "s"
[[segments.score]]
label = "new revenue leader"
signal = "exec_hires"
where = { title = { contains = ["vp sales"] } }
within_days = 30
points = 3
[[segments.score]]
label = "any size"
when = { company_id = { missing = false } }
points = 1
[[segments.tiers]]
name = "Hot"
min_score = 4
[[segments.tiers]]
name = "Warm"
min_score = 1
"""


def test_changes_name_a_trigger_that_newly_fired_or_expired(ws: Workspace) -> None:
    from listbuilder.outputs import run_build

    d = dt.timedelta(days=1)
    ws.companies([{"company_id": "c1"}, {"company_id": "c2"}])
    ws.rules(CHANGE_RULES)
    hires = write_frame(
        pl.DataFrame(
            {
                "company_id": ["c1", "c2"],
                "date": [AS_OF - 40 * d, AS_OF - 5 * d],
                "title": ["VP Sales", "VP Sales EMEA"],
            }
        ),
        ws.root / "exec_hires.parquet",
    )

    def build(as_of: dt.date, out: str, previous: str | None = None) -> None:
        run_build(
            rules_path=ws.root / "rules.toml",
            companies_path=ws.root / "companies.parquet",
            events_paths={"exec_hires": hires},
            as_of=as_of,
            out=ws.root / out,
            previous_path=ws.root / previous if previous else None,
        )

    build(AS_OF - 20 * d, "before")  # c1's hire is 20 days old then; c2's not yet made
    build(AS_OF, "now", "before")  # c1's hire is 40 days old now; c2's 5 days
    changes = pl.read_csv(ws.root / "now" / "s.changes.csv")
    reasons = dict(changes.select("company_id", "reason").iter_rows())
    assert reasons == {
        "c1": "no longer: new revenue leader +3",
        "c2": "new: new revenue leader +3: VP Sales EMEA, 2026-10-27",
    }


def test_explain_quotes_the_events_of_every_new_signal_type(ws: Workspace) -> None:
    args = write_issue_inputs(ws)
    common = ["--companies", str(ws.root / "companies.parquet")]
    common += ["--rules", str(ws.root / "rules.toml"), "--as-of", AS_OF.isoformat(), *args]
    out = invoke(["explain", "c1", *common])
    assert out.exit_code == 0, out.output
    lines = [line.strip() for line in out.stdout.splitlines()]
    assert "[no ] layoffs: at least 1 event in 90 days (layoffs: 0 matching events)" in lines
    assert "2026-10-12 title: VP Sales" in lines
    assert "score 9 (fit 7, intent 2, 100.0% of the maximum):" in lines
    assert (
        "+2 researching our category: 3 matching events, 2 distinct topic from 2026-10-02 to "
        "2026-11-01; needs intent: at least 1 event in 30 days, topic is one of sales "
        "engagement, outbound automation, abm, at least 2 distinct topic"
    ) in lines
    assert "2026-07-24 amount_usd: 15,000,000" in lines
    assert (
        "+2 headcount up 20% in six months: employees in headcount, latest on or before "
        "2026-05-05 -> latest on or before 2026-11-01: 140 -> 182 (+30.0%); needs at least "
        "20% in 180 days"
    ) in lines
    out = invoke(["explain", "c4", *common])
    assert (
        "segment core: not eligible: excluded because layoffs: at least 1 event in 90 days "
        "(layoffs: 1 matching event)"
    ) in out.stdout.splitlines()


def test_min_distinct_on_a_list_column_is_refused(ws: Workspace) -> None:
    from listbuilder.outputs import run_build

    ws.companies([{"company_id": "c1"}])
    rules = ws.rules(
        SEG + '[[segments.score]]\nlabel = "x"\nsignal = "intent"\nwithin_days = 5\n'
        "min_distinct = { topics = 2 }\npoints = 1\n" + TIER
    )
    path = write_frame(
        pl.DataFrame({"company_id": ["c1"], "date": [AS_OF], "topics": [["a", "b"]]}),
        ws.root / "intent.parquet",
    )
    with pytest.raises(RulesError) as caught:
        run_build(
            rules_path=rules,
            companies_path=ws.root / "companies.parquet",
            events_paths={"intent": path},
            as_of=AS_OF,
            out=ws.out,
        )
    assert caught.value.problems == [
        "segments[0].score[0].min_distinct.topics: `min_distinct` needs a string or number or "
        f"date or bool column; `topics` in {path} holds List(String)"
    ]


def test_the_project_file_names_event_tables(ws: Workspace) -> None:
    write_issue_inputs(ws)
    (ws.root / "listbuilder.toml").write_text(
        '[inputs]\ncompanies = "companies.parquet"\nrules = "rules.toml"\n'
        'funding = "funding.parquet"\n'
        '[inputs.events]\nexec_hires = "exec_hires.parquet"\nintent = "intent.csv"\n'
        'layoffs = "layoffs.parquet"\nheadcount = "headcount.parquet"\n'
        f'[run]\nas_of = {AS_OF.isoformat()}\nout = "out"\nprevious = "none"\n',
        encoding="utf-8",
    )
    result = invoke(["build", "--config", str(ws.root / "listbuilder.toml")])
    assert result.exit_code == 0, result.output
    assert set(ws.summary()["inputs"]) == {
        "companies",
        "funding",
        "exec_hires",
        "intent",
        "layoffs",
        "headcount",
    }
    assert ws.listed("core")["company_id"].to_list() == ["c1", "c2", "c3"]
    # Naming the project's own companies file changes nothing: the tables still describe
    # these companies. Another companies file would drop them (tested for profile).
    again = ["build", "--config", str(ws.root / "listbuilder.toml"), "--out", str(ws.out)]
    result = invoke([*again, "--companies", str(ws.root / "companies.parquet")])
    assert result.exit_code == 0, result.output
    assert "intent" in ws.summary()["inputs"]
    assert ws.listed("core")["company_id"].to_list() == ["c1", "c2", "c3"]


def test_each_event_table_is_scanned_once_however_many_criteria_read_it(
    ws: Workspace,
) -> None:
    from listbuilder.rules import score_companies

    rules = rules_from(
        ISSUE_RULES.replace(
            "[segments.exclude]",
            '[segments.include]\nsignals = [{ signal = "intent", within_days = 60 }]\n'
            "[segments.exclude]",
        )
        + ISSUE_RULES.replace('name = "core"', 'name = "second"')
    )
    tables = {}
    for name, columns in {
        "exec_hires": {"title": ["VP Sales"]},
        "intent": {"topic": ["abm"]},
        "layoffs": {},
        "headcount": {"employees": [3]},
        "funding": {"amount_usd": [1.0]},
    }.items():
        date = "announced_date" if name == "funding" else "date"
        frame = pl.DataFrame({"company_id": ["c1"], date: [AS_OF], **columns})
        tables[name] = pl.scan_parquet(write_frame(frame, ws.root / f"{name}.parquet"))
    companies = pl.scan_parquet(
        write_frame(pl.DataFrame({"company_id": ["c1"]}), ws.root / "c.parquet")
    )
    plan = score_companies(rules, companies, tables, AS_OF).explain()
    for name in tables:
        # Read by up to five criteria and tests in two segments: one scan each.
        assert plan.count(f"{name}.parquet") == 1, name


def test_explain_of_a_run_reads_hiring_given_as_an_events_source_file(ws: Workspace) -> None:
    """A run built with ``--events hiring=postings.toml`` (a source of role ``events``) is
    explained from its own summary, reading the table as the build did."""
    ws.companies([{"company_id": c} for c in ("c1", "c2")])
    ws.rules(
        SEG
        + '[[segments.score]]\nlabel = "hiring"\nsignal = "hiring"\nwithin_days = 30\n'
        + "points = 2\n"
        + TIER
    )
    opened = (AS_OF - dt.timedelta(days=3)).isoformat()
    write_frame(pl.DataFrame({"org": ["c1"], "opened": [opened]}), ws.root / "postings.csv")
    source = ws.root / "postings.toml"
    source.write_text(
        'role = "events"\ndate_column = "opened"\n[input]\npath = "postings.csv"\n'
        '[columns]\ncompany_id = "org"\n[extra]\nopened = "opened"\n',
        encoding="utf-8",
    )
    args = ["build", "--as-of", AS_OF.isoformat(), "--rules", str(ws.root / "rules.toml")]
    args += ["--companies", str(ws.root / "companies.parquet"), "--events", f"hiring={source}"]
    result = invoke([*args, "--out", str(ws.out)])
    assert result.exit_code == 0, result.output
    assert ws.listed("s")["company_id"].to_list() == ["c1"]
    out = invoke(["explain", str(ws.out), "c1"])
    assert out.exit_code == 0, out.output
    lines = [line.strip() for line in out.stdout.splitlines()]
    assert "+2 hiring: 1 posting from 2026-10-02 to 2026-11-01, needs 1" in lines
