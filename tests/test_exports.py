"""Exports: each destination's documented header, limits, tier values, ids and CSV safety.

The run is built from six companies whose lists are worked out by hand. Segment `saas`
takes software companies; `big` (employees >= 100) scores +2 and `any` (employees >= 1)
+1; Tier 1 needs 3 points and holds 2 accounts, Tier 2 needs 1.

| id | name | domain | employees | score | rank, tier |
| -- | ---- | ------ | --------- | ----- | ---------- |
| c1 | =HYPERLINK(...) | https://www.alpha.com/about | 500 | 3 | 1, Tier 1 |
| c2 | Beta | beta.io (CRM: Salesforce id) | 200 | 3 | 2, Tier 1 |
| c3 | Gamma | gamma.com | 150 | 3 | 3, Tier 2 (Tier 1 full) |
| c4 | +Delta | none | 10 | 1 | 4, Tier 2 |
| c5 | @Eps | eps.co.uk (CRM: HubSpot id) | 20 | 1 | 5, Tier 2 |
| c6 | Other | other.com | retail: not eligible | | |
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
import re
import sys
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from listbuilder.errors import ConfigError, DataError
from listbuilder.outputs import (
    FORMULA_LOOKALIKES,
    FORMULA_PREFIXES,
    REGISTRY,
    Column,
    Destination,
    csv_records,
    destination_names,
    encode_csv,
    export_run,
    exports,
    header_record,
    neutralise,
    record_sizes,
    register,
    text,
    write_exports,
)
from listbuilder.outputs.exports import _bounds
from tests.conftest import Workspace, snapshot

# Each tool's documented import header, copied from the source cited beside the
# destination in listbuilder/exports.py.
DOCUMENTED_HEADERS = {
    # LinkedIn Campaign Manager company list template (headers must not change).
    "linkedin": [
        "companyname",
        "companywebsite",
        "companyemaildomain",
        "linkedincompanypageurl",
        "stocksymbol",
        "industry",
        "city",
        "state",
        "companycountry",
        "zipcode",
    ],
    # HubSpot default company property labels.
    "hubspot": [
        "Company name",
        "Company Domain Name",
        "Number of Employees",
        "Annual Revenue",
        "Country/Region",
        "Target Account",
        "Ideal Customer Profile Tier",
    ],
    # Salesforce Account API field names.
    "salesforce": [
        "Id",
        "Name",
        "Website",
        "Industry",
        "NumberOfEmployees",
        "AnnualRevenue",
        "BillingCountryCode",
        "Rating",
    ],
    # Outreach account fields.
    "outreach": [
        "Name",
        "Domain",
        "Website URL",
        "Industry",
        "Number of Employees",
        "Locality",
        "Tags",
        "Custom ID",
    ],
    # Salesloft account fields.
    "salesloft": [
        "Account Name",
        "Domain",
        "Website",
        "Industry",
        "Size",
        "Country",
        "Tags",
        "CRM ID",
    ],
    # Apollo account fields; the website as a bare domain.
    "apollo": ["Account Name", "Website", "Industry", "# Employees", "Annual Revenue", "Country"],
}
BUILT_INS = {*DOCUMENTED_HEADERS, "domains"}

RULES = """
[[segments]]
name = "saas"
[segments.include]
industry = ["software"]
[[segments.score]]
label = "big"
when = { employees = { min = 100 } }
points = 2
[[segments.score]]
label = "any"
when = { employees = { min = 1 } }
points = 1
[[segments.tiers]]
name = "Tier 1"
min_score = 3
max_accounts = 2
[[segments.tiers]]
name = "Tier 2"
min_score = 1
"""
HYPERLINK = '=HYPERLINK("http://x.test","click")'
COMPANIES = [
    {
        "company_id": "c1",
        "name": HYPERLINK,
        "domain": "https://www.alpha.com/about",
        "industry": "software",
        "employees": 500,
        "revenue_usd": -1.0,
        "country": "US",
    },
    {
        "company_id": "c2",
        "name": "Beta",
        "domain": "beta.io",
        "industry": "software",
        "employees": 200,
        "revenue_usd": 2_000_000.0,
        "country": "gb ",
    },
    {
        "company_id": "c3",
        "name": "Gamma",
        "domain": "gamma.com",
        "industry": "software",
        "employees": 150,
        "revenue_usd": None,
        "country": "US",
    },
    {
        "company_id": "c4",
        "name": "+Delta",
        "domain": None,
        "industry": "software",
        "employees": 10,
        "revenue_usd": 3.4,
        "country": "USA",
    },
    {
        "company_id": "c5",
        "name": "@Eps",
        "domain": "eps.co.uk",
        "industry": "software",
        "employees": 20,
        "revenue_usd": 4.6,
        "country": "GB",
    },
    {
        "company_id": "c6",
        "name": "Other",
        "domain": "other.com",
        "industry": "retail",
        "employees": 5,
        "country": "US",
    },
]
CRM = [
    {"account_id": "001A0000001abcD", "name": "Beta", "domain": "beta.io", "status": "prospect"},
    {"account_id": "hs-42", "name": "Eps", "domain": "eps.co.uk", "status": "prospect"},
]


def read_rows(path: Path) -> list[list[str]]:
    """Parse a CSV file the way an importer would (RFC 4180)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def column(path: Path, header: str) -> list[str]:
    """One column's cells, by header."""
    head, *rows = read_rows(path)
    return [row[head.index(header)] for row in rows]


@pytest.fixture
def run_dir(ws: Workspace) -> Path:
    """A real run directory of the table above."""
    ws.companies(COMPANIES)
    ws.rules(RULES)
    ws.build(crm=ws.crm(CRM))
    listed = ws.listed("saas")
    # The premises the expectations rest on, checked rather than assumed.
    assert listed["company_id"].to_list() == ["c1", "c2", "c3", "c4", "c5"]
    assert listed["tier"].to_list() == ["Tier 1", "Tier 1", "Tier 2", "Tier 2", "Tier 2"]
    assert listed["crm_account_id"].to_list() == [None, "001A0000001abcD", None, None, "hs-42"]
    return ws.out


def test_every_built_in_destination_is_registered_and_covered():
    assert set(destination_names()) == BUILT_INS


@pytest.mark.parametrize("name", sorted(DOCUMENTED_HEADERS))
def test_each_destination_writes_its_documented_header(
    run_dir: Path, tmp_path: Path, name: str
) -> None:
    result = export_run(run_dir, [name], tmp_path / "x")
    assert result.files == (f"saas.{name}.2026-11-01.csv",)
    assert REGISTRY[name].headers == DOCUMENTED_HEADERS[name]
    assert read_rows(tmp_path / "x" / f"saas.{name}.2026-11-01.csv")[0] == DOCUMENTED_HEADERS[name]


def test_documented_limits():
    assert REGISTRY["linkedin"].max_rows == 300_000
    # "20 MB" in both tools' pages: 20,000,000 bytes, not 20 MiB.
    assert REGISTRY["linkedin"].max_bytes == 20_000_000
    assert REGISTRY["linkedin"].min_rows_warning == 1_000
    assert REGISTRY["linkedin"].min_rows == 300
    assert REGISTRY["hubspot"].max_rows == 1_048_576
    assert REGISTRY["hubspot"].max_bytes == 20_000_000
    assert REGISTRY["apollo"].max_rows == 10_000
    for name in ("salesforce", "outreach", "salesloft", "domains"):
        assert REGISTRY[name].max_rows is None
        assert REGISTRY[name].max_bytes is None


def test_csv_is_utf8_rfc4180_with_crlf_and_no_bom(run_dir: Path, tmp_path: Path):
    export_run(run_dir, ["outreach"], tmp_path / "x")
    raw = (tmp_path / "x" / "saas.outreach.2026-11-01.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and len(lines) == 1 + 5 + 1  # header, five rows, final CRLF
    assert b"\n" not in raw.replace(b"\r\n", b"")
    # Quoted only because it holds quotes and a comma; inner quotes doubled.
    assert lines[1] == (
        b'"\'=HYPERLINK(""http://x.test"",""click"")",alpha.com,https://alpha.com,'
        b"software,500,US,saas - Tier 1,c1"
    )
    assert lines[2] == b"Beta,beta.io,https://beta.io,software,200,GB,saas - Tier 1,c2"


def test_rows_in_rank_order_with_one_tag_and_the_company_id(run_dir: Path, tmp_path: Path):
    export_run(run_dir, ["outreach"], tmp_path / "x")
    path = tmp_path / "x" / "saas.outreach.2026-11-01.csv"
    assert column(path, "Custom ID") == ["c1", "c2", "c3", "c4", "c5"]
    assert column(path, "Tags") == ["saas - Tier 1"] * 2 + ["saas - Tier 2"] * 3
    # Registrable domain, website built from it; c4 has no domain but Outreach needs none.
    assert column(path, "Domain") == ["alpha.com", "beta.io", "gamma.com", "", "eps.co.uk"]
    assert column(path, "Website URL")[0] == "https://alpha.com"
    # Country codes: the input's "USA" was read as the ISO code US.
    assert column(path, "Locality") == ["US", "GB", "US", "US", "GB"]


@pytest.mark.parametrize("name", sorted(DOCUMENTED_HEADERS))
def test_formula_cells_are_neutralised_in_every_csv(run_dir: Path, tmp_path: Path, name: str):
    export_run(run_dir, [name], tmp_path / "x")
    path = tmp_path / "x" / f"saas.{name}.2026-11-01.csv"
    for row in read_rows(path)[1:]:
        for cell in row:
            # Only a number may start with "-": spreadsheets read it as a number.
            assert not cell.startswith(FORMULA_PREFIXES) or re.fullmatch(r"-\d+", cell), cell
    names = column(path, DOCUMENTED_HEADERS[name][0 if name != "salesforce" else 1])
    assert "'" + HYPERLINK in names
    if name not in ("hubspot", "salesloft"):  # these drop c4, which has no domain
        assert "'+Delta" in names


def test_numbers_stay_numbers_rounded_to_whole_units(run_dir: Path, tmp_path: Path):
    export_run(run_dir, ["apollo"], tmp_path / "x")
    path = tmp_path / "x" / "saas.apollo.2026-11-01.csv"
    # c1's revenue is negative: a number, not a formula, so it is written as is.
    assert column(path, "Annual Revenue") == ["-1", "2000000", "", "3", "5"]
    assert column(path, "# Employees") == ["500", "200", "150", "10", "20"]
    assert column(path, "Account Name") == ["'" + HYPERLINK, "Beta", "Gamma", "'+Delta", "'@Eps"]
    assert column(path, "Website") == ["alpha.com", "beta.io", "gamma.com", "", "eps.co.uk"]


def test_text_in_a_number_column_is_neutralised_as_text(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    odd = Destination(
        name="odd",
        title="a number column fed text",
        source="test",
        columns=(text("company", "company_id"), Column("count", pl.col("name"), "number")),
    )
    monkeypatch.setitem(REGISTRY, "odd", odd)
    export_run(run_dir, ["odd"], tmp_path / "x")
    assert column(tmp_path / "x" / "saas.odd.2026-11-01.csv", "count")[0] == "'" + HYPERLINK


def test_hubspot_marks_target_accounts_with_icp_tiers_one_row_per_domain(
    run_dir: Path, tmp_path: Path
):
    result = export_run(run_dir, ["hubspot"], tmp_path / "x")
    path = tmp_path / "x" / "saas.hubspot.2026-11-01.csv"
    # c4 has no domain: left out.
    assert column(path, "Company Domain Name") == ["alpha.com", "beta.io", "gamma.com", "eps.co.uk"]
    assert column(path, "Ideal Customer Profile Tier") == ["tier_1", "tier_1", "tier_2", "tier_2"]
    assert column(path, "Target Account") == ["true"] * 4
    assert result.warnings == ("saas.hubspot: 1 account left out: no valid Company Domain Name",)


def test_a_list_holding_one_domain_twice_exports_it_once(run_dir: Path, tmp_path: Path):
    # A build lists one company per domain; a list edited by hand (or by an older
    # version) may not, and the tools keyed on domain must still get each domain once.
    path = run_dir / "saas.parquet"
    listed = pl.read_parquet(path)
    twin = listed.filter(pl.col("company_id") == "c1").with_columns(
        company_id=pl.lit("c1b"), rank=pl.lit(6, dtype=listed.schema["rank"])
    )
    pl.concat([listed, twin]).write_parquet(path)
    result = export_run(run_dir, ["hubspot", "domains"], tmp_path / "x")
    assert column(tmp_path / "x" / "saas.hubspot.2026-11-01.csv", "Company Domain Name") == [
        "alpha.com",
        "beta.io",
        "gamma.com",
        "eps.co.uk",
    ]
    assert (tmp_path / "x" / "saas.domains.2026-11-01.txt").read_text() == (
        "alpha.com\nbeta.io\ngamma.com\neps.co.uk\n"
    )
    assert (
        "saas.hubspot: 1 account left out: same Company Domain Name as a higher-ranked account"
        in result.warnings
    )
    assert "saas.domains: 1 account left out: same domain as a higher-ranked account" in (
        result.warnings
    )


def test_tiers_past_a_tools_vocabulary_take_its_last_value(ws: Workspace, tmp_path: Path):
    # Employees 10, 20, 30, 40 score 1 to 4 points; tiers T1 (4) to T4 (1) take one each.
    ws.companies(
        [{"company_id": f"c{i}", "domain": f"c{i}.com", "employees": 10 * i} for i in range(1, 5)]
    )
    criteria = "".join(
        f"[[segments.score]]\nlabel = 'e{n}'\nwhen = {{ employees = {{ min = {n} }} }}\n"
        "points = 1\n"
        for n in (10, 20, 30, 40)
    )
    tiers = "".join(
        f"[[segments.tiers]]\nname = 'T{k}'\nmin_score = {5 - k}\n" for k in range(1, 5)
    )
    ws.rules("[[segments]]\nname = 's'\n" + criteria + tiers)
    ws.build()
    assert ws.listed("s")["tier"].to_list() == ["T1", "T2", "T3", "T4"]
    export_run(ws.out, ["hubspot", "salesforce"], tmp_path / "x")
    assert column(tmp_path / "x" / "s.hubspot.2026-11-01.csv", "Ideal Customer Profile Tier") == [
        "tier_1",
        "tier_2",
        "tier_3",
        "tier_3",
    ]
    assert column(tmp_path / "x" / "s.salesforce.2026-11-01.csv", "Rating") == [
        "Hot",
        "Warm",
        "Cold",
        "Cold",
    ]


def test_salesforce_carries_the_id_only_of_accounts_already_in_salesforce(
    run_dir: Path, tmp_path: Path
):
    result = export_run(run_dir, ["salesforce"], tmp_path / "x")
    path = tmp_path / "x" / "saas.salesforce.2026-11-01.csv"
    # Beta matched a Salesforce Account: an update. Eps matched a CRM id Salesforce
    # cannot take: an insert, with a warning. The rest are not in the CRM: inserts.
    assert column(path, "Id") == ["", "001A0000001abcD", "", "", ""]
    assert column(path, "Rating") == ["Hot", "Hot", "Warm", "Warm", "Warm"]
    assert column(path, "BillingCountryCode") == ["US", "GB", "US", "US", "GB"]
    assert result.warnings == (
        "saas.salesforce: 1 account with a CRM id that is not a Salesforce Account Id "
        "(e.g. 'hs-42') written without Id: an upsert inserts them",
    )


def test_salesloft_needs_a_domain_and_carries_the_crm_id(run_dir: Path, tmp_path: Path):
    export_run(run_dir, ["salesloft"], tmp_path / "x")
    path = tmp_path / "x" / "saas.salesloft.2026-11-01.csv"
    assert column(path, "Domain") == ["alpha.com", "beta.io", "gamma.com", "eps.co.uk"]
    assert column(path, "CRM ID") == ["", "001A0000001abcD", "", "hs-42"]


def test_domains_are_registrable_unique_and_plain(run_dir: Path, tmp_path: Path):
    result = export_run(run_dir, ["domains"], tmp_path / "x")
    raw = (tmp_path / "x" / "saas.domains.2026-11-01.txt").read_bytes()
    assert raw == b"alpha.com\nbeta.io\ngamma.com\neps.co.uk\n"
    assert result.rows == {"saas.domains.2026-11-01.txt": 4}


def test_only_host_names_become_domains_one_line_per_registrable_domain(
    ws: Workspace, tmp_path: Path
):
    ws.companies(
        [
            {"company_id": "a", "domain": "=cmd|' /C calc'!A0", "employees": 5},
            {"company_id": "b", "domain": "-lead.com", "employees": 5},
            {"company_id": "c", "domain": "https://münchen.de/impressum", "employees": 5},
            {"company_id": "d", "domain": "ok-example.com", "employees": 5},
            # Same registrable domain as d: the build lists it once.
            {"company_id": "e", "domain": "https://blog.ok-example.com/post", "employees": 5},
        ]
    )
    ws.rules(
        "[[segments]]\nname = 's'\n[[segments.score]]\nlabel = 'any'\n"
        "when = { employees = { min = 1 } }\npoints = 1\n"
        "[[segments.tiers]]\nname = 'T'\nmin_score = 1\n"
    )
    ws.build()
    result = export_run(ws.out, ["domains", "linkedin"], tmp_path / "x")
    domains = (tmp_path / "x" / "s.domains.2026-11-01.txt").read_text(encoding="utf-8").splitlines()
    # An internationalised domain is kept (as Unicode, or as punycode if normalised so).
    assert domains[0] in ("münchen.de", "xn--mnchen-3ya.de")
    assert domains[1:] == ["ok-example.com"]
    assert result.warnings[0] == "s.domains: 2 accounts left out: no valid domain"
    assert not any("same domain" in w for w in result.warnings)
    linkedin = tmp_path / "x" / "s.linkedin.2026-11-01.csv"
    assert column(linkedin, "companyemaildomain")[:2] == ["", ""]


def test_linkedin_says_it_will_refuse_under_300_and_splits_at_its_row_limit(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(REGISTRY, "linkedin", dataclasses.replace(REGISTRY["linkedin"], max_rows=2))
    result = export_run(run_dir, ["linkedin"], tmp_path / "x")
    assert result.files == tuple(f"saas.linkedin.2026-11-01.part{k}.csv" for k in (1, 2, 3))
    parts = [read_rows(tmp_path / "x" / f) for f in result.files]
    assert all(p[0] == DOCUMENTED_HEADERS["linkedin"] for p in parts)
    assert [len(p) - 1 for p in parts] == [2, 2, 1]
    assert [r[0] for p in parts for r in p[1:]] == [
        "'" + HYPERLINK,
        "Beta",
        "Gamma",
        "'+Delta",
        "'@Eps",
    ]
    assert result.warnings == (
        "saas.linkedin: 5 companies; LinkedIn will refuse this file: a company list needs at "
        "least 300 companies",
    )


def test_linkedin_warns_from_its_minimum_up_to_a_thousand(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The five-row list stands for one of 300 to 999 companies: the minimum scaled down.
    monkeypatch.setitem(REGISTRY, "linkedin", dataclasses.replace(REGISTRY["linkedin"], min_rows=5))
    result = export_run(run_dir, ["linkedin"], tmp_path / "x")
    assert result.warnings == (
        "saas.linkedin: 5 companies; LinkedIn recommends at least 1,000 companies, and an "
        "audience with fewer than 300 matched companies does not serve",
    )


# The Salesforce file's header takes 84 bytes and its records 86, 66, 48, 33 and 48 (CRLF
# included), 365 bytes in all; the rows per part below follow from those sizes by hand.
@pytest.mark.parametrize(
    ("limit", "rows_per_part"),
    [(170, [1, 1, 2, 1]), (200, [1, 2, 2]), (250, [2, 3]), (364, [4, 1]), (365, [5])],
)
def test_byte_limit_parts_are_full_and_never_over_it(
    run_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    limit: int,
    rows_per_part: list[int],
):
    dest = dataclasses.replace(REGISTRY["salesforce"], max_bytes=limit)
    monkeypatch.setitem(REGISTRY, "salesforce", dest)
    result = export_run(run_dir, ["salesforce"], tmp_path / "x")
    blobs = [(tmp_path / "x" / f).read_bytes() for f in result.files]
    header = blobs[0].split(b"\r\n")[0] + b"\r\n"
    assert len(header) == 84
    assert all(len(b) <= limit and b.startswith(header) for b in blobs)
    assert [result.rows[f] for f in result.files] == rows_per_part
    # Greedy: each part but the last would exceed the limit with the next record.
    for blob, following in itertools.pairwise(blobs):
        next_record = following[len(header) :].split(b"\r\n")[0] + b"\r\n"
        assert len(blob) + len(next_record) > limit
    rows = [r for b in blobs for r in csv.reader(io.StringIO(b.decode(), newline=""))]
    assert [r[1] for r in rows if r[0] != "Id"] == [
        "'" + HYPERLINK,
        "Beta",
        "Gamma",
        "'+Delta",
        "'@Eps",
    ]
    if len(blobs) == 1:
        assert result.files == ("saas.salesforce.2026-11-01.csv",)


def test_a_record_larger_than_the_byte_limit_is_an_error(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    dest = dataclasses.replace(REGISTRY["salesforce"], max_bytes=169)
    monkeypatch.setitem(REGISTRY, "salesforce", dest)
    with pytest.raises(DataError, match=r"saas\.salesforce: row 1 alone exceeds the file limit"):
        export_run(run_dir, ["salesforce"], tmp_path / "x")
    assert not (tmp_path / "x").exists()


@given(
    sizes=st.lists(st.integers(1, 50), max_size=40),
    max_rows=st.one_of(st.none(), st.integers(1, 10)),
    max_bytes=st.one_of(st.none(), st.integers(60, 200)),
)
def test_parts_cover_every_row_in_order_within_both_limits(
    sizes: list[int], max_rows: int | None, max_bytes: int | None
):
    header = 10
    dest = Destination("t", "t", "t", (), max_rows=max_rows, max_bytes=max_bytes)
    parts = _bounds(pl.Series(sizes, dtype=pl.Int64), header, dest, "t")
    assert parts[0][0] == 0 and parts[-1][1] == len(sizes)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    for start, end in parts:
        n, used = end - start, header + sum(sizes[start:end])
        assert n <= (max_rows or n) and used <= (max_bytes or used)
        if end < len(sizes):  # full: one more row would break a limit
            assert n == max_rows or used + sizes[end] > (max_bytes or float("inf"))


def test_segment_and_tier_filters(run_dir: Path, tmp_path: Path):
    result = export_run(run_dir, ["outreach"], tmp_path / "x", segment="saas", tiers=["Tier 2"])
    path = tmp_path / "x" / "saas.outreach.2026-11-01.csv"
    assert column(path, "Custom ID") == ["c3", "c4", "c5"]
    assert result.rows == {"saas.outreach.2026-11-01.csv": 3}


def test_exports_are_byte_identical_for_the_same_run(run_dir: Path, tmp_path: Path):
    export_run(run_dir, sorted(BUILT_INS), tmp_path / "a")
    export_run(run_dir, sorted(BUILT_INS), tmp_path / "b")
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_manifest_records_files_rows_and_checksums(run_dir: Path, tmp_path: Path):
    export_run(run_dir, ["linkedin", "domains"], tmp_path / "x", tiers=["Tier 1"])
    manifest = json.loads((tmp_path / "x" / "export.json").read_text())
    assert manifest["run_as_of"] == "2026-11-01"
    assert manifest["destinations"] == ["linkedin", "domains"]
    assert manifest["tiers"] == ["Tier 1"]
    assert [(f["name"], f["rows"]) for f in manifest["files"]] == [
        ("saas.linkedin.2026-11-01.csv", 2),
        ("saas.domains.2026-11-01.txt", 2),
    ]
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])


def test_an_empty_list_gets_a_header_only_file(tmp_path: Path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text(
        json.dumps({"as_of": "2026-11-01", "segments": [{"name": "s", "tiers": {"T1": 0}}]})
    )
    columns = ("segment", "tier", "company_id", "name", "domain", "crm_account_id")
    pl.DataFrame(schema=dict.fromkeys(columns, pl.String)).write_parquet(run / "s.parquet")
    result = export_run(run, ["linkedin", "domains"], tmp_path / "x")
    assert (tmp_path / "x" / "s.linkedin.2026-11-01.csv").read_bytes() == (
        ",".join(DOCUMENTED_HEADERS["linkedin"]).encode() + b"\r\n"
    )
    assert (tmp_path / "x" / "s.domains.2026-11-01.txt").read_bytes() == b""
    assert result.warnings[0].startswith("s.linkedin: 0 companies; LinkedIn will refuse this")


def test_unknown_names_are_errors_that_list_the_known_ones(run_dir: Path, tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        export_run(run_dir, ["linkedin", "myspace"], tmp_path / "x")
    assert str(caught.value) == (
        "unknown destination(s) 'myspace'; valid destinations are "
        "apollo, domains, hubspot, linkedin, outreach, salesforce, salesloft"
    )
    with pytest.raises(ConfigError, match=r"^no destination given; valid destinations are apollo"):
        export_run(run_dir, [], tmp_path / "x")
    with pytest.raises(ConfigError, match=r"unknown segment 'nope'; the run .* has segments saas$"):
        export_run(run_dir, ["linkedin"], tmp_path / "x", segment="nope")
    with pytest.raises(
        ConfigError, match=r"unknown tier\(s\) 'Tier 9'; the run .* has tiers Tier 1, Tier 2$"
    ):
        export_run(run_dir, ["linkedin"], tmp_path / "x", tiers=["Tier 1", "Tier 9"])
    assert not (tmp_path / "x").exists()


def test_a_directory_that_is_not_a_run_is_an_error_naming_the_file(tmp_path: Path):
    with pytest.raises(DataError, match=r"is not a run directory: it has no summary\.json"):
        export_run(tmp_path, ["linkedin"], tmp_path / "x")
    with pytest.raises(DataError, match=r"nowhere is not a run directory: it does not exist"):
        export_run(tmp_path / "nowhere", ["linkedin"], tmp_path / "x")
    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(DataError, match=r"summary\.json: not valid JSON"):
        export_run(tmp_path, ["linkedin"], tmp_path / "x")


@pytest.mark.parametrize(
    ("segments", "key", "expected"),
    [
        ("x", "segments", "expected a list of the run's segments"),
        ([{"name": "../up", "tiers": {}}], "segments[0].name", "expected a segment name"),
        ([{"name": "s", "tiers": ["T1"]}], "segments[0].tiers", "expected an object"),
        (
            [{"name": "s", "tiers": {}, "file": "../../etc/passwd"}],
            "segments[0].file",
            "expected a file name",
        ),
    ],
)
def test_a_malformed_summary_is_an_error_naming_the_key(
    tmp_path: Path, segments: object, key: str, expected: str
):
    (tmp_path / "summary.json").write_text(json.dumps({"segments": segments}))
    with pytest.raises(DataError) as caught:
        export_run(tmp_path, ["linkedin"], tmp_path / "x")
    assert f"summary.json: key `{key}`: {expected}" in str(caught.value)


def test_a_list_without_the_columns_exports_read_is_an_error(tmp_path: Path):
    (tmp_path / "summary.json").write_text(
        json.dumps({"as_of": "2026-11-01", "segments": [{"name": "s", "tiers": {"T": 1}}]})
    )
    pl.DataFrame({"name": ["a"], "tier": ["T"]}).write_parquet(tmp_path / "s.parquet")
    with pytest.raises(DataError) as caught:
        export_run(tmp_path, ["linkedin"], tmp_path / "x")
    assert str(caught.value) == (
        f"{tmp_path / 's.parquet'}: missing column(s) segment, company_id, domain, "
        "crm_account_id; a list written by `listbuilder build` has them"
    )


def test_out_that_replacing_would_destroy_is_refused(run_dir: Path, tmp_path: Path):
    before = snapshot(tmp_path)
    with pytest.raises(ConfigError, match="is a listbuilder run directory, not an export"):
        export_run(run_dir, ["linkedin"], run_dir)
    with pytest.raises(ConfigError, match="is not a listbuilder export directory: it holds"):
        export_run(run_dir, ["linkedin"], run_dir.parent)
    other = tmp_path / "other-run"
    other.mkdir()
    (other / "summary.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"not a listbuilder export directory: it holds summary"):
        export_run(run_dir, ["linkedin"], other)
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "thesis.txt").write_text("years of work")
    with pytest.raises(ConfigError, match=r"not a listbuilder export directory: it holds thesis"):
        export_run(run_dir, ["linkedin"], documents)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a listbuilder export directory"):
        export_run(run_dir, ["linkedin"], tmp_path / "a-file")
    assert snapshot(tmp_path) == before | {"a-file": b"x", "other-run/summary.json": b"{}"} | {
        "documents/thesis.txt": b"years of work"
    }


def test_an_earlier_export_is_replaced_whole(run_dir: Path, tmp_path: Path):
    out = tmp_path / "x"
    export_run(run_dir, ["linkedin", "domains"], out)
    export_run(run_dir, ["apollo"], out)
    assert sorted(p.name for p in out.iterdir()) == [
        ".listbuilder.json",
        "export.json",
        "saas.apollo.2026-11-01.csv",
    ]


def test_a_failed_export_leaves_earlier_output_untouched(run_dir: Path, tmp_path: Path):
    out = tmp_path / "x"
    export_run(run_dir, ["linkedin"], out)
    before = snapshot(out)
    (run_dir / "saas.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"cannot read the list of segment 'saas'"):
        export_run(run_dir, ["linkedin", "domains"], out)
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".x")] == []


def test_write_exports_writes_into_an_existing_directory(run_dir: Path, tmp_path: Path):
    out = tmp_path / "existing"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    write_exports(run_dir, ["domains"], out)
    assert sorted(p.name for p in out.iterdir()) == [
        "export.json",
        "keep.txt",
        "saas.domains.2026-11-01.txt",
    ]


def test_a_users_destination_registers_like_the_built_ins(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(exports, "REGISTRY", dict(REGISTRY))
    register(
        Destination(
            name="crm-ids",
            title="CRM ids of listed accounts",
            source="test",
            columns=(text("account", "crm_account_id"), text("tier", "tier")),
            key="account",
        )
    )
    assert "crm-ids" in exports.destination_names()
    export_run(run_dir, ["crm-ids"], tmp_path / "x")
    assert read_rows(tmp_path / "x" / "saas.crm-ids.2026-11-01.csv") == [
        ["account", "tier"],
        ["001A0000001abcD", "Tier 1"],
        ["hs-42", "Tier 2"],
    ]
    with pytest.raises(ValueError, match="already registered"):
        register(exports.REGISTRY["crm-ids"])
    with pytest.raises(ValueError, match="must be letters, digits"):
        register(dataclasses.replace(exports.REGISTRY["crm-ids"], name="../x"))


@given(
    st.lists(
        st.tuples(st.one_of(st.none(), st.text(max_size=12)), st.text(max_size=12)),
        max_size=8,
    )
)
def test_records_parse_back_exactly_and_their_sizes_add_up(rows: list[tuple[str | None, str]]):
    df = pl.DataFrame(
        {"a, b": [r[0] for r in rows], 'c"d': [r[1] for r in rows]},
        schema={"a, b": pl.String, 'c"d': pl.String},
    )
    records = csv_records(df)
    header = header_record(df.columns)
    data = encode_csv(header, records)
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert parsed == [["a, b", 'c"d'], *([r[0] or "", r[1]] for r in rows)]
    assert len(data) == len(header.encode()) + 2 + int(record_sizes(records).sum())


# --- what each tool refuses ---------------------------------------------------------------


def hand_run(tmp_path: Path, listed: pl.DataFrame, as_of: str = "2026-11-01") -> Path:
    """A run directory holding one segment ``s`` whose list is ``listed``."""
    run = tmp_path / "run"
    run.mkdir()
    tiers = dict.fromkeys(listed["tier"].unique(maintain_order=True).to_list(), 0)
    (run / "summary.json").write_text(
        json.dumps({"as_of": as_of, "segments": [{"name": "s", "tiers": tiers}]})
    )
    listed.with_columns(segment=pl.lit("s"), crm_account_id=pl.lit(None, pl.String)).write_parquet(
        run / "s.parquet"
    )
    return run


def test_salesloft_leaves_out_accounts_without_a_name_and_counts_them(tmp_path: Path):
    listed = pl.DataFrame(
        {
            "tier": ["T1"] * 4,
            "company_id": ["a", "b", "c", "d"],
            "name": ["Acme", None, "   ", "Delta"],
            "domain": ["acme.com", "b.com", "c.com", "delta.com"],
        }
    )
    result = export_run(hand_run(tmp_path, listed), ["salesloft"], tmp_path / "x")
    path = tmp_path / "x" / "s.salesloft.2026-11-01.csv"
    assert column(path, "Account Name") == ["Acme", "Delta"]
    assert column(path, "Domain") == ["acme.com", "delta.com"]
    assert result.warnings == (
        "s.salesloft: 2 accounts left out: no Account Name, which the tool requires on every "
        "row (e.g. company_id 'b')",
    )


def test_salesforce_leaves_out_names_over_255_characters_and_reports_them(tmp_path: Path):
    listed = pl.DataFrame(
        {
            "tier": ["T1"] * 4,
            "company_id": ["a", "b", "c", "d"],
            "name": ["x" * 255, "y" * 256, "Ünïcødé " * 32, "Delta"],
            "domain": ["a.com", "b.com", "c.com", "d.com"],
        }
    )
    assert len("Ünïcødé " * 32) == 256  # characters, though more bytes
    result = export_run(hand_run(tmp_path, listed), ["salesforce"], tmp_path / "x")
    path = tmp_path / "x" / "s.salesforce.2026-11-01.csv"
    assert column(path, "Name") == ["x" * 255, "Delta"]
    assert result.warnings == (
        "s.salesforce: 2 accounts left out: Name longer than the tool's 255 characters (e.g. "
        "company_id 'b'); they stay in the run's lists",
    )
    # Nothing is lost from the run itself.
    assert pl.read_parquet(tmp_path / "run" / "s.parquet").height == 4


def test_a_file_limit_in_mb_is_in_millions_of_bytes(tmp_path: Path):
    # 95,000 rows of about 216 bytes: about 20.5 MB, under 20 MiB, so two HubSpot files.
    n = 95_000
    listed = pl.DataFrame(
        {
            "tier": ["T1"] * n,
            "company_id": [f"c{i}" for i in range(n)],
            "name": [f"{i:06d}" + "n" * 180 for i in range(n)],
            "domain": [f"c{i}.com" for i in range(n)],
        }
    )
    result = export_run(hand_run(tmp_path, listed), ["hubspot"], tmp_path / "x")
    sizes = [(tmp_path / "x" / f).stat().st_size for f in result.files]
    assert 20_000_000 < sum(sizes) < 20 * 1024 * 1024
    assert result.files == tuple(f"s.hubspot.2026-11-01.part{k}.csv" for k in (1, 2))
    assert all(size <= 20_000_000 for size in sizes)
    assert sum(result.rows.values()) == n


def test_file_names_carry_the_runs_date_so_months_do_not_mix(tmp_path: Path):
    listed = pl.DataFrame(
        {"tier": ["T1"], "company_id": ["a"], "name": ["Acme"], "domain": ["acme.com"]}
    )
    run = hand_run(tmp_path, listed, as_of="2026-10-01")
    assert export_run(run, ["domains", "apollo"], tmp_path / "x").files == (
        "s.domains.2026-10-01.txt",
        "s.apollo.2026-10-01.csv",
    )
    summary = json.loads((run / "summary.json").read_text())
    for bad in (None, "last month", "2026-10-01/../x"):
        (run / "summary.json").write_text(json.dumps({**summary, "as_of": bad}))
        with pytest.raises(DataError) as caught:
            export_run(run, ["domains"], tmp_path / "y")
        assert str(caught.value) == (
            f"{run / 'summary.json'}: key `as_of`: expected the run's date (YYYY-MM-DD), "
            f"got {bad!r}"
        )


# --- the formula neutraliser ----------------------------------------------------------------


def test_the_lookalikes_are_every_character_that_folds_to_a_formula_starter():
    starters = {"=", "+", "-", "@"}
    folding = {
        chr(c)
        for c in range(sys.maxunicode + 1)
        if chr(c) not in starters and unicodedata.normalize("NFKC", chr(c)) in starters
    }
    assert set(FORMULA_LOOKALIKES) == folding


def _first_seen(cell: str) -> str:
    """The first character a lenient spreadsheet acts on: it skips white space, control
    and invisible format characters, and folds compatibility forms (NFKC)."""
    for ch in cell:
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        return unicodedata.normalize("NFKC", ch)[:1]
    return ""


_FILLER = st.sampled_from([" ", "\u00a0", "\u3000", "\x00", "\u200b", "\ufeff", "\n", "\t"])
_STARTER = st.sampled_from([*"=+-@", *FORMULA_LOOKALIKES, "\x00", "\t", "\r"])


@given(
    st.one_of(
        st.text(max_size=20),
        st.builds(
            lambda pad, start, rest: "".join(pad) + start + rest,
            st.lists(_FILLER, max_size=4),
            _STARTER,
            st.text(max_size=10),
        ),
    )
)
def test_no_neutralised_cell_starts_a_formula_and_nothing_else_changes(value: str):
    out = pl.select(neutralise(pl.lit(value, dtype=pl.String))).item()
    # Only ever a quote in front: the value itself is never altered.
    assert out in (value, "'" + value)
    # Whatever a spreadsheet skips or folds, what it then reads is no formula starter.
    assert _first_seen(out) not in ("=", "+", "-", "@")
    # Ordinary values are left alone.
    if value[:1].isalnum():
        assert out == value


@pytest.mark.parametrize(
    "value",
    ["\x00=1+1", "\x00", " =1+1", "\u00a0\u00a0@SUM(A1)", "\uff1d1+1", "\uff0bcmd", "\uff20x"],
)
def test_hidden_and_full_width_formula_starts_are_neutralised(value: str):
    assert pl.select(neutralise(pl.lit(value, dtype=pl.String))).item() == "'" + value
