"""Plain files are read through the same value parsers as source files, and nothing a
parser cannot read is dropped in silence."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listbuilder.errors import DataError
from listbuilder.inputs import (
    VENDOR_EXPORTS,
    check_values,
    domain,
    domain_expr,
    is_own_domain_expr,
    read_source,
)
from listbuilder.inputs.parsers import host
from tests.conftest import Workspace, assert_cli_error, invoke

ROOT = Path(__file__).resolve().parent.parent
VENDORS = ROOT / "tests" / "fixtures" / "vendors"
SOURCES = ROOT / "sources"

US_RULES = """
[[segments]]
name = "na"
[segments.include]
country = ["US"]
employees = { min = 50 }
[[segments.tiers]]
name = "T1"
min_score = 0
"""


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_country_names_in_a_plain_csv_match_a_country_code_rule(ws: Workspace) -> None:
    csv = write_csv(
        ws.root / "companies.csv",
        "company_id,name,domain,country,employees\n"
        "a,A,a.com,US,100\nb,B,b.com,United States,100\nc,C,c.com,usa,100\n"
        "d,D,d.com,Germany,100\n",
    )
    ws.rules(US_RULES)
    summary = ws.build(companies=csv)
    assert summary["segments"][0]["funnel"]["eligible"] == 3
    listed = ws.listed("na").sort("company_id")
    assert listed.select("company_id", "country").rows() == [
        ("a", "US"),
        ("b", "US"),
        ("c", "US"),
    ]


def test_a_rule_written_with_country_names_matches_the_codes(ws: Workspace) -> None:
    csv = write_csv(
        ws.root / "companies.csv",
        "company_id,name,domain,country,employees\na,A,a.com,US,100\nb,B,b.com,DE,100\n",
    )
    ws.rules(US_RULES.replace('country = ["US"]', 'country = ["United States"]'))
    ws.build(companies=csv)
    assert ws.listed("na")["company_id"].to_list() == ["a"]


def test_bands_and_thousands_separators_in_a_plain_csv(ws: Workspace) -> None:
    csv = write_csv(
        ws.root / "companies.csv",
        "company_id,name,domain,country,employees\n"
        'a,A,a.com,US,"1,001-5,000"\nb,B,b.com,US,51-200\nc,C,c.com,US,"1,200"\n'
        "d,D,d.com,US,10\n",
    )
    ws.rules(US_RULES)
    summary = ws.build(companies=csv)
    # A band reads as its lower bound, as a source file's band does by default.
    listed = ws.listed("na").sort("company_id")
    assert listed.select("company_id", "employees").rows() == [("a", 1001), ("b", 51), ("c", 1200)]
    assert summary["inputs"]["companies"]["bad_values"] == {}


def test_urls_blanks_and_padding_in_a_plain_csv(tmp_path: Path) -> None:
    # A URL's host name is the domain; blank cells and padding are no bad values.
    frame = read_source(
        write_csv(
            tmp_path / "c.csv",
            "company_id,name,domain,country,employees\n"
            "a, Acme ,https://www.Acme.com/about,  gb ,\n"
            "b,Beta,,,\n",
        ),
        "companies",
    )
    df = frame.frame.collect()
    assert df.rows() == [("a", "Acme", "acme.com", "GB", None), ("b", "Beta", None, None, None)]
    assert {c: v.count for c, v in check_values(frame).items()} == {
        "domain": 0,
        "country": 0,
        "employees": 0,
    }


def test_unreadable_values_are_counted_and_shown_on_the_terminal(tmp_path: Path) -> None:
    csv = write_csv(
        tmp_path / "companies.csv",
        "company_id,name,domain,country,employees\n"
        "a,A,a.com,US,N/A\nb,B,b.com,Narnia,lots\nc,C,not a domain,US,N/A\nd,D,d.com,US,100\n",
    )
    rules = write_csv(tmp_path / "rules.toml", US_RULES)
    out = tmp_path / "out"
    result = invoke(["build", "--companies", str(csv), "--rules", str(rules), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    entry = summary["inputs"]["companies"]
    assert entry["bad_values"] == {"domain": 1, "country": 1, "employees": 3}
    assert entry["bad_value_examples"] == {
        "domain": ["not a domain"],
        "country": ["Narnia"],
        "employees": ["N/A", "lots"],
    }
    assert (
        f"warning: companies input {csv}: 3 values of `employees` could not be read and are "
        "treated as empty, e.g. 'N/A', 'lots'\n"
    ) in result.stderr
    assert "1 value of `country` could not be read and is treated as empty, e.g. 'Narnia'" in (
        result.stderr
    )
    # And in the report, for whoever reads the run rather than the terminal.
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "3 values of `employees` could not be read and are treated as empty, e.g. " in report


def test_dates_booleans_and_amounts_in_plain_files(tmp_path: Path) -> None:
    opps = read_source(
        write_csv(
            tmp_path / "opps.csv",
            "opportunity_id,account_id,is_closed,is_won,close_date,amount\n"
            'o1,a1,Yes,no,2024-01-05T10:00:00Z,"$12,500"\no2,a1,FALSE,false,2024-02-01,1.2M\n'
            "o3,a2,maybe,true,soon,lots\n",
        ),
        "opportunities",
    )
    df = opps.frame.collect()
    assert df.select("is_closed", "is_won", "amount").rows() == [
        (True, False, 12_500.0),
        (False, False, 1_200_000.0),
        (None, True, None),
    ]
    assert [str(d) if d else None for d in df["close_date"]] == ["2024-01-05", "2024-02-01", None]
    counts = {c: v.count for c, v in check_values(opps).items() if v.count}
    assert counts == {"is_closed": 1, "close_date": 1, "amount": 1}


def test_a_parquet_file_in_the_canonical_types_is_passed_through(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "company_id": ["1"],
            "name": [" A "],
            "domain": ["a.com"],
            "employees": [10],
            "technologies": [["x"]],
        }
    )
    frame.write_parquet(tmp_path / "c.parquet")
    source = read_source(tmp_path / "c.parquet", "companies")
    assert source.frame.collect().equals(frame)
    assert source.checks == {}  # nothing to parse, so no pass to count bad values


def test_a_parquet_files_country_names_are_still_read_as_codes(tmp_path: Path) -> None:
    pl.DataFrame(
        {
            "company_id": ["1", "2"],
            "name": ["A", "B"],
            "domain": ["https://www.a.com/x", "b.com"],
            "country": ["United States", "Narnia"],
        }
    ).write_parquet(tmp_path / "c.parquet")
    source = read_source(tmp_path / "c.parquet", "companies")
    out = source.frame.collect()
    assert out["country"].to_list() == ["US", None]
    # A typed file's domains are kept as they are: the build reduces each to its
    # registrable domain where it counts.
    assert out["domain"].to_list() == ["https://www.a.com/x", "b.com"]
    assert {c: v.count for c, v in check_values(source).items()} == {"country": 1}


# --- vendor exports given as plain files ----------------------------------------------------

VENDOR_FILES = {
    "hubspot_companies.toml": ("hubspot_companies.csv", "crm"),
    "hubspot_deals.toml": ("hubspot_deals.csv", "opportunities"),
    "salesforce_accounts.toml": ("salesforce_account.csv", "crm"),
    "salesforce_opportunities.toml": ("salesforce_opportunity.csv", "opportunities"),
    "pdl.toml": ("pdl_free_company_dataset.json", "companies"),
    "crunchbase_organizations.toml": ("crunchbase_organizations.csv", "companies"),
    "crunchbase_funding_rounds.toml": ("crunchbase_funding_rounds.csv", "funding"),
    "companies_house.toml": ("companies_house_basic.csv", "companies"),
}


@pytest.mark.parametrize("vendor", VENDOR_EXPORTS, ids=lambda v: v.source_file)
def test_each_vendor_signature_is_what_its_source_file_reads(vendor) -> None:  # type: ignore[no-untyped-def]
    defn = tomllib.loads((SOURCES / vendor.source_file).read_text(encoding="utf-8"))
    assert defn["role"] == vendor.role
    mapped = set()
    for table in ("columns", "extra"):
        for value in defn.get(table, {}).values():
            if isinstance(value, str):
                mapped.add(value)
            elif isinstance(value, dict) and "from" in value:
                mapped |= {value["from"]} if isinstance(value["from"], str) else set(value["from"])
    assert {h.lower() for h in vendor.headers} <= {m.strip().lower() for m in mapped}


def test_every_vendor_fixture_is_recognised() -> None:
    assert {v.source_file for v in VENDOR_EXPORTS} == set(VENDOR_FILES)


@pytest.mark.parametrize("source_file", sorted(VENDOR_FILES))
def test_a_vendor_export_given_as_a_plain_file_names_its_source_file(
    source_file: str, tmp_path: Path
) -> None:
    data, role = VENDOR_FILES[source_file]
    path = VENDORS / data
    if path.suffix == ".json":  # PDL's newline-delimited JSON; plain files call it .jsonl
        path = tmp_path / f"{path.stem}.jsonl"
        path.write_bytes((VENDORS / data).read_bytes())
    with pytest.raises(DataError) as caught:
        read_source(path, role)
    assert f"read it through sources/{source_file}" in str(caught.value)
    assert f"give that .toml file as the {role} input" in str(caught.value)


def test_a_vendor_export_given_for_another_role_says_which(tmp_path: Path) -> None:
    csv = VENDORS / "hubspot_companies.csv"
    rules = write_csv(tmp_path / "rules.toml", US_RULES)
    result = invoke(["build", "--companies", str(csv), "--rules", str(rules)])
    with csv.open(encoding="utf-8") as f:
        headers = ", ".join(h.strip('"') for h in f.readline().strip().split('","'))
    assert_cli_error(
        result,
        1,
        f"companies file {csv} lacks required column(s) company_id, name, domain; it has: "
        f"{headers}\n  it looks like a HubSpot companies export, which is a crm table, not "
        "companies: give it as the crm input through sources/hubspot_companies.toml (set "
        "[input] path in a copy of it to this file)",
    )


def test_an_unknown_file_missing_a_column_gets_no_vendor_hint(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "c.csv", "id,title\n1,x\n")
    with pytest.raises(DataError) as caught:
        read_source(csv, "companies")
    assert str(caught.value) == (
        f"companies file {csv} lacks required column(s) company_id, name, domain; it has: id, title"
    )


# --- the fast paths give what the full parsers give ------------------------------------------

_label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
_suffix = st.sampled_from(
    [
        *("com", "co.uk", "uk", "io", "github.io", "ck", "www.ck", "jp", "kawasaki.jp"),
        *("example", "bd", "com.au", "blogspot.com", "gmail.com", "de", "xn--p1ai", "zz"),
    ]
)
_names = st.builds(
    lambda labels, suffix, upper, www, scheme: (
        (f"{scheme}{'www.' if www else ''}{'.'.join(labels)}.{suffix}").upper()
        if upper
        else f"{scheme}{'www.' if www else ''}{'.'.join(labels)}.{suffix}"
    ),
    st.lists(_label, min_size=0, max_size=2),
    _suffix,
    st.booleans(),
    st.booleans(),
    st.sampled_from(["", "", "https://"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_names, st.none(), st.text(max_size=12)), min_size=1, max_size=30))
def test_domain_and_host_parsers_agree_with_their_full_parse(values: list[str | None]) -> None:
    from listbuilder.inputs.domains import host_expr
    from listbuilder.inputs.parsers import _DOMAIN

    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    full_domain = domain_expr(pl.col("v"))
    got = frame.select(
        fast=domain(pl.col("v"), {}),
        full=pl.when(full_domain.str.contains(_DOMAIN)).then(full_domain),
        fast_host=host(pl.col("v"), {}),
        full_host=host_expr(pl.col("v")),
        own=is_own_domain_expr(pl.col("v")),
        raw=pl.col("v"),
    )
    assert got["fast"].to_list() == got["full"].to_list()
    assert got["fast_host"].to_list() == got["full_host"].to_list()
    # "Certainly its own domain" is never wrong.
    own = got.filter(pl.col("own"))
    assert own["raw"].to_list() == own["full"].to_list()
