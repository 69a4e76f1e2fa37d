"""The run report's HTML, read back without a browser: numbers, escaping, caps, no network.

The main scenario is small enough to count by hand. Segment `us` takes US companies, the
`Public` funding stage disqualifies, `big` (employees >= 100) scores +2 and `software`
+1; tiers T1 >= 3 (at most 1 account) and T2 >= 1, at most 4 accounts in all. Segment
`de` takes DE companies, +1 for any headcount, one tier at 1.

| id | country, employees, industry | score | outcome in `us` |
| -- | ---------------------------- | ----- | --------------- |
| u1 | US, 500, software | 3 | T1 |
| u2 | US, 200, software | 3 | T2 (T1 full) |
| u3 | US, 150, fintech | 2 | T2 |
| u8 | US, 300, fintech | 2 | T2 |
| u4 | US, 10, software | 1 | beyond the segment cap of 4 |
| u5 | US, 10, fintech | 0 | eligible, below the threshold |
| u6 | US, 5000, software, Public | - | disqualified |
| u7 | US, 120, software | 3 | suppressed: a customer in the CRM |
| d1 | DE, 50 | 1 | (segment de: T1) |
| d2 | DE, no headcount | 0 | (segment de: eligible only) |
| x1 | FR | - | in no segment |
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest

from listbuilder.errors import DataError
from listbuilder.outputs import (
    ADS_MIN,
    ADS_RECOMMENDED,
    ICP_MAX,
    TABLE_ROWS,
    TOP_ROWS,
    render_report,
    run_build,
    size_check,
    write_report,
)
from listbuilder.outputs.report import _top_reasons
from tests.conftest import AS_OF, Workspace, assert_cli_error, invoke

RULES = """
[crm]
exclude_status = ["customer"]

[[segments]]
name = "us"
description = "US companies"
max_accounts = 4
[segments.include]
country = ["US"]
[segments.exclude]
funding_stage = ["Public"]
[[segments.score]]
label = "big"
when = { employees = { min = 100 } }
points = 2
[[segments.score]]
label = "software"
when = { industry = ["software"] }
points = 1
[[segments.tiers]]
name = "T1"
min_score = 3
max_accounts = 1
[[segments.tiers]]
name = "T2"
min_score = 1

[[segments]]
name = "de"
[segments.include]
country = ["DE"]
[[segments.score]]
label = "any"
when = { employees = { min = 1 } }
points = 1
[[segments.tiers]]
name = "T1"
min_score = 1
"""

COMPANIES = [
    {"company_id": "u1", "country": "US", "employees": 500, "industry": "software"},
    {"company_id": "u2", "country": "US", "employees": 200, "industry": "software"},
    {"company_id": "u3", "country": "US", "employees": 150, "industry": "fintech"},
    {"company_id": "u4", "country": "US", "employees": 10, "industry": "software"},
    {"company_id": "u5", "country": "US", "employees": 10, "industry": "fintech"},
    {
        "company_id": "u6",
        "country": "US",
        "employees": 5000,
        "industry": "software",
        "funding_stage": "Public",
    },
    {"company_id": "u7", "country": "US", "employees": 120, "industry": "software"},
    {"company_id": "u8", "country": "US", "employees": 300, "industry": "fintech"},
    {"company_id": "d1", "country": "DE", "employees": 50},
    {"company_id": "d2", "country": "DE"},
    {"company_id": "x1", "country": "FR", "employees": 80},
]
# The same rules without caps, and T1 from 2 points: every big US company is in T1.
OPEN_RULES = (
    RULES.replace("max_accounts = 4\n", "")
    .replace("max_accounts = 1\n", "")
    .replace("min_score = 3", "min_score = 2")
)
DASH = "\u2013"
CRM = [{"account_id": "A7", "name": "u7 Holdings", "domain": "u7.example", "status": "customer"}]


class Element:
    """An element of the page: tag, attributes and its text (its descendants' too)."""

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = ""
        self.children: list[Element] = []

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and all(
                child.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()
            ):
                found.append(child)
            found += child.find_all(tag, **attrs)
        return found


class Page(HTMLParser):
    """The report parsed into a tree of ``Element`` (void and self-closed tags are leaves)."""

    VOID: ClassVar[set[str]] = {"meta", "link", "br", "img", "input", "hr", "line"}

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack = [self.root]
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        while len(self.stack) > 1:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.text += data


def resolve(summary: Any, field: str) -> Any:
    """The value a JSON pointer (RFC 6901) names in the summary."""
    value = summary
    for raw in field.split("/")[1:]:
        key = raw.replace("~1", "/").replace("~0", "~")
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


def chart_rows(page: Page, chart: str) -> list[tuple[str, int]]:
    """(label, number) of each row of a bar chart, in page order."""
    (table,) = page.root.find_all("table", data_chart=chart)
    rows = []
    for row in table.find_all("tr"):
        heads = row.find_all("th")
        numbers = row.find_all("td", **{"class": "num"})
        if heads and numbers:
            rows.append((heads[0].text, int(numbers[0].text.replace(",", ""))))
    return rows


def build(ws: Workspace, companies: list[dict[str, Any]] = COMPANIES, rules: str = RULES) -> str:
    ws.companies(companies)
    ws.rules(rules)
    ws.crm(CRM)
    ws.build(crm=ws.root / "crm.csv")
    return (ws.out / "report.html").read_text(encoding="utf-8")


def test_summary_records_tier_plan_caps_and_score_histogram(ws: Workspace) -> None:
    build(ws)
    us, de = ws.summary()["segments"]
    assert us["funnel"] == {
        "companies_read": 11,
        "eligible": 7,
        "qualified": 6,
        "taken_by_earlier_segment": 0,
        "suppressed_by_crm": 1,
        "duplicate_domain": 0,
        "listed": 4,
        "not_listed_caps": 1,
    }
    assert us["max_accounts"] == 4
    assert us["tier_plan"] == [
        {"name": "T1", "min_score": 3, "max_accounts": 1, "size": 1},
        {"name": "T2", "min_score": 1, "max_accounts": None, "size": 3},
    ]
    # Scores of the eligible: u5 0, u4 1, u3 and u8 2, u1, u2 and u7 3.
    assert us["score_histogram"] == [
        {"score": 0, "accounts": 1},
        {"score": 1, "accounts": 1},
        {"score": 2, "accounts": 2},
        {"score": 3, "accounts": 3},
    ]
    assert de["max_accounts"] is None
    assert de["score_histogram"] == [{"score": 0, "accounts": 1}, {"score": 1, "accounts": 1}]


def test_every_number_marked_on_the_page_is_the_summarys(ws: Workspace) -> None:
    page = Page(build(ws))
    summary = ws.summary()
    marked = [e for e in page.root.find_all() if "data-field" in e.attrs]
    for element in marked:
        expected = resolve(summary, element.attrs["data-field"])
        assert int(element.attrs["data-value"]) == expected, element.attrs
        if element.tag not in ("rect", "svg"):
            assert int(element.text.replace(",", "")) == expected, (element.attrs, element.text)
    fields = {e.attrs["data-field"] for e in marked}
    assert {
        "/segments/0/funnel/eligible",
        "/segments/0/funnel/suppressed_by_crm",
        "/segments/0/funnel/not_listed_caps",
        "/segments/0/tiers/T1",
        "/segments/0/tiers/T2",
        "/segments/0/score_histogram/3/accounts",
        "/segments/0/disqualifiers/funding_stage is one of Public",
        "/segments/1/funnel/listed",
        "/suppressed",
    } <= fields


def test_charts_show_the_hand_counts(ws: Workspace) -> None:
    page = Page(build(ws))
    assert chart_rows(page, "funnel:us") == [
        ("Eligible", 7),
        ("Qualified", 6),
        ("Not in an earlier segment", 6),
        ("Not in the CRM", 5),
        ("One per domain", 5),
        ("Listed", 4),
    ]
    assert chart_rows(page, "tiers:us") == [("T1 (score ≥ 3)", 1), ("T2 (score ≥ 1)", 3)]
    # u1, u2, u3 and u8 are listed: all four are big, u1 and u2 are software.
    assert chart_rows(page, "fired:us") == [("big", 4), ("software", 2)]
    assert chart_rows(page, "disqualifiers:us") == [("funding_stage is one of Public", 1)]
    assert chart_rows(page, "industry:us") == [("fintech", 2), ("software", 2)]
    assert chart_rows(page, "country:us") == [("US", 4)]
    assert chart_rows(page, "employees:us") == [(f"51{DASH}200", 2), (f"201{DASH}500", 2)]
    # The T1 cap (1) is drawn as an outline a third as long as T2's bar (3).
    (tiers,) = page.root.find_all("table", data_chart="tiers:us")
    widths = {
        (r.attrs["class"], int(r.attrs["data-value"])): float(r.attrs["width"])
        for r in tiers.find_all("rect")
    }
    assert widths == pytest.approx(
        {("tier1", 1): 1000 / 3, ("cap", 1): 1000 / 3, ("tier2", 3): 1000.0}, abs=0.01
    )


def test_histogram_marks_each_tier_threshold(ws: Workspace) -> None:
    page = Page(build(ws))
    (svg,) = page.root.find_all("svg", data_chart="scores:us")
    bars = {r.attrs["data-score"]: int(r.attrs["data-value"]) for r in svg.find_all("rect")}
    assert bars == {"0": 1, "1": 1, "2": 2, "3": 3}
    heights = {r.attrs["data-score"]: float(r.attrs["height"]) for r in svg.find_all("rect")}
    assert heights["3"] == pytest.approx(3 * heights["0"], abs=0.02)
    lines = svg.find_all("line", **{"class": "threshold"})
    assert sorted(int(line.attrs["data-score"]) for line in lines) == [1, 3]
    assert "T1 ≥ 3" in svg.text and "T2 ≥ 1" in svg.text


def test_size_flags_name_the_reason(ws: Workspace) -> None:
    page = Page(build(ws))
    (us,) = page.root.find_all("section", data_segment="us")
    (check,) = us.find_all("p", **{"class": "check bad"})
    assert check.text.startswith("Too small to run ads on. 4 accounts listed.")
    assert f"at least {ADS_MIN} companies" in check.text


@pytest.mark.parametrize(
    ("listed", "addressable", "level", "title"),
    [
        (ADS_MIN - 1, ADS_MIN - 1, "bad", "Too small to run ads on"),
        (ADS_MIN, ADS_MIN, "warn", "Small for account-based ads"),
        (ADS_RECOMMENDED - 1, ADS_RECOMMENDED - 1, "warn", "Small for account-based ads"),
        (ADS_RECOMMENDED, ADS_RECOMMENDED, "ok", "Within the ICP band"),
        (ICP_MAX, ICP_MAX, "ok", "Within the ICP band"),
        (ICP_MAX + 1, ICP_MAX + 1, "bad", "Far too big to be an ICP"),
        # Caps can keep a list small while the rules describe a market: still too big.
        (5_000, 250_000, "bad", "Far too big to be an ICP"),
    ],
)
def test_size_check_band(listed: int, addressable: int, level: str, title: str) -> None:
    check = size_check(listed, addressable)
    assert (check.level, check.title) == (level, title)


def test_size_check_too_big_says_what_the_caps_kept() -> None:
    assert "250,000 accounts qualify outside the CRM; the caps list 5,000 of them" in (
        size_check(5_000, 250_000).reason
    )


HOSTILE = [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "Smith & Sons <b>Ltd</b>",
]


def test_hostile_values_are_escaped(ws: Workspace) -> None:
    companies = [
        {
            "company_id": f"h{k}",
            "name": name,
            "country": "US",
            "employees": 500,
            "industry": name,
            "funding_stage": None,
        }
        for k, name in enumerate(HOSTILE)
    ]
    text = build(ws, companies, OPEN_RULES)
    for name in HOSTILE:
        assert name not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "Smith &amp; Sons &lt;b&gt;Ltd&lt;/b&gt;" in text
    page = Page(text)
    assert len(page.root.find_all("script")) == 1
    assert page.root.find_all("img") == []
    assert page.root.find_all("b") == []
    (table,) = page.root.find_all("table", data_chart="table:us")
    names = [row.find_all("td")[1].text for row in table.find_all("tbody")[0].find_all("tr")]
    assert sorted(names) == sorted(HOSTILE)


def test_long_lists_show_their_top_and_count_the_rest(ws: Workspace) -> None:
    # 105 accounts all in T1, in 12 industries: ind00 has 12 accounts, ind01 11, ...
    # ind11 1, so the two smallest (ind10: 2, ind11: 1) are cut from the top 10.
    sizes = [12, 11, 10, 10, 10, 10, 10, 10, 10, 9, 2, 1]
    industries = [f"ind{k:02d}" for k, n in enumerate(sizes) for _ in range(n)]
    assert len(industries) == TABLE_ROWS + 5
    companies = [
        {
            "company_id": f"c{k:03d}",
            "country": "US",
            "employees": 500,
            "industry": industry,
            "funding_stage": None,
        }
        for k, industry in enumerate(industries)
    ]
    page = Page(build(ws, companies, OPEN_RULES))
    (table,) = page.root.find_all("table", data_chart="table:us")
    assert len(table.find_all("tbody")[0].find_all("tr")) == TABLE_ROWS
    assert table.attrs["data-total"] == str(TABLE_ROWS + 5)
    (us,) = page.root.find_all("section", data_segment="us")
    assert "and 5 more T1 accounts in us.csv" in us.text
    industry = chart_rows(page, "industry:us")
    assert len(industry) == TOP_ROWS
    assert industry[:2] == [("ind00", 12), ("ind01", 11)]
    assert "and 2 more, with 3 accounts" in us.text


def test_nothing_on_the_page_loads_from_elsewhere(ws: Workspace) -> None:
    text = build(ws)
    page = Page(text)
    assert not re.search(r"https?:", text)
    for element in page.root.find_all():
        assert "src" not in element.attrs, element.tag
        href = element.attrs.get("href")
        assert href is None or href.startswith(("#", "data:")), href
    style = page.root.find_all("style")[0].text
    assert "url(" not in style and "@import" not in style

    def digest(source: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()

    # The policy forbids everything but this page's own style block and script.
    (meta,) = page.root.find_all("meta", http_equiv="Content-Security-Policy")
    policy = dict(part.strip().split(" ", 1) for part in meta.attrs["content"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["style-src"] == digest(style) + "'"
    assert policy["script-src"] == digest(page.root.find_all("script")[0].text) + "'"


def test_same_run_same_bytes(ws: Workspace) -> None:
    first = build(ws)
    ws.build(crm=ws.root / "crm.csv", out=ws.root / "again")
    assert (ws.root / "again" / "report.html").read_text(encoding="utf-8") == first
    assert render_report(ws.out) == first


def test_changes_since_the_previous_run_are_shown(ws: Workspace) -> None:
    build(ws)
    # Next month u8 has 50 people: no longer big, 0 points, so it drops out of T2 and
    # u4, beyond the segment's cap before, takes its seat.
    ws.companies([dict(c, employees=50) if c["company_id"] == "u8" else c for c in COMPANIES])
    summary = run_build(
        rules_path=ws.root / "rules.toml",
        companies_path=ws.root / "companies.parquet",
        crm_path=ws.root / "crm.csv",
        as_of=AS_OF,
        out=ws.root / "next",
        previous_path=ws.out,
    )
    assert (summary["changes"]["us"]["dropped"], summary["changes"]["us"]["added"]) == (1, 1)
    page = Page((ws.root / "next" / "report.html").read_text(encoding="utf-8"))
    (us,) = page.root.find_all("section", data_segment="us")
    (card,) = [c for c in us.find_all("section") if c.text.startswith("Since the previous run")]
    rows = {row.find_all("th")[0].text: row for row in card.find_all("tbody")[0].find_all("tr")}
    assert rows["Dropped"].find_all("td")[0].text == "1"
    assert [li.text for li in rows["Dropped"].find_all("li")] == [
        "below T2 threshold 1",
        "employees changed 1",
        "no longer: big +2 1",
    ]
    assert [li.text for li in rows["Added"].find_all("li")] == ["previously beyond the caps 1"]
    assert rows["Tier up"].find_all("td")[0].text == "0"


def test_top_reasons_add_up_the_same_cause(tmp_path: Path) -> None:
    path = tmp_path / "seg.changes.csv"
    path.write_text(
        "company_id,change,reason\n"
        'a,added,"new: hiring +2 (1 posting in 30d); big +3"\n'
        'b,added,"new: hiring +2 (3 postings in 30d)"\n'
        'c,dropped,"below T3 threshold: 0 < 1; no longer: hiring +2"\n'
        "d,dropped,now a customer in the CRM\n"
        'e,tier_down,"no longer: big +3; hiring +2"\n'
        'f,held,"held in T1 by stickiness: score 3 (was 5, allowance 2)"\n'
        "g,tier_up,\n",
        encoding="utf-8",
    )
    assert _top_reasons(path) == {
        "added": ([("new: hiring +2", 2), ("new: big +3", 1)], 0),
        "dropped": (
            [
                ("below T3 threshold", 1),
                ("no longer: hiring +2", 1),
                ("now a customer in the CRM", 1),
            ],
            0,
        ),
        "held": ([("held in T1 by stickiness", 1)], 0),
        "tier_down": ([("no longer: big +3", 1), ("no longer: hiring +2", 1)], 0),
    }


def test_report_command_rebuilds_the_page(ws: Workspace) -> None:
    first = build(ws)
    (ws.out / "report.html").unlink()
    result = invoke(["report", str(ws.out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {ws.out / 'report.html'}\n"
    assert (ws.out / "report.html").read_text(encoding="utf-8") == first


def test_report_command_needs_a_run_directory(tmp_path: Path) -> None:
    assert_cli_error(
        invoke(["report", str(tmp_path)]),
        1,
        f"{tmp_path} is not a run directory: it has no summary.json (a run directory is "
        "written by `listbuilder build --out DIR`)",
    )


def test_report_names_what_an_old_summary_lacks(ws: Workspace) -> None:
    build(ws)
    summary = ws.summary()
    del summary["segments"][1]["tier_plan"]
    (ws.out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert_cli_error(
        invoke(["report", str(ws.out)]),
        1,
        f"{ws.out / 'summary.json'}: key `segments[1].tier_plan` is missing; a summary "
        "written by `listbuilder build` has it (rebuild the run)",
    )


def test_report_names_a_value_of_the_wrong_type(ws: Workspace) -> None:
    build(ws)
    summary = ws.summary()
    summary["segments"][0]["funnel"]["eligible"] = "7"
    (ws.out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        write_report(ws.out)
    assert str(caught.value) == (
        f"{ws.out / 'summary.json'}: key `segments[0].funnel.eligible`: expected an integer, "
        'got "7"'
    )


def test_report_refuses_a_list_outside_the_run(ws: Workspace) -> None:
    build(ws)
    summary = ws.summary()
    summary["segments"][0]["file"] = "../elsewhere.parquet"
    (ws.out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(DataError, match=r"key `segments\[0\]\.file`: expected a file name"):
        write_report(ws.out)


def test_report_names_an_unreadable_list(ws: Workspace) -> None:
    build(ws)
    (ws.out / "us.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"cannot read the list of segment 'us', .*us\.parquet"):
        write_report(ws.out)
