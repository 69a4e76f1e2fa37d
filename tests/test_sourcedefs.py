"""Source definition files: every shipped definition on its vendor fixture, the
normalisers (hypothesis for bands and URLs), and the errors a bad source file gets."""

from __future__ import annotations

import datetime as dt
import shutil
import string
from pathlib import Path

import polars as pl
import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listbuilder.errors import ConfigError, DataError
from listbuilder.inputs import (
    ROLES,
    bad_value_counts,
    band,
    band_bounds,
    check_values,
    country,
    domain,
    domain_expr,
    funding_stage,
    load_source_def,
    open_source,
    read_source,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "sources"
VENDORS = Path(__file__).resolve().parent / "fixtures" / "vendors"

# Each shipped export definition, the fixture written with that vendor's header, its role.
EXPORTS = {
    "canonical.toml": ("canonical_companies.csv", "companies"),
    "pdl.toml": ("pdl_free_company_dataset.json", "companies"),
    "crunchbase_organizations.toml": ("crunchbase_organizations.csv", "companies"),
    "crunchbase_funding_rounds.toml": ("crunchbase_funding_rounds.csv", "funding"),
    "companies_house.toml": ("companies_house_basic.csv", "companies"),
    "salesforce_accounts.toml": ("salesforce_account.csv", "crm"),
    "salesforce_opportunities.toml": ("salesforce_opportunity.csv", "opportunities"),
    "hubspot_companies.toml": ("hubspot_companies.csv", "crm"),
    "hubspot_deals.toml": ("hubspot_deals.csv", "opportunities"),
}
# API definitions are read from pull snapshots: tests/test_crm_api.py covers them end to end.
API_SOURCES = (
    "hubspot_api.toml",
    "hubspot_deals_api.toml",
    "salesforce_api.toml",
    "salesforce_opportunities_api.toml",
)


def read(name: str) -> pl.DataFrame:
    data, role = EXPORTS[name]
    return open_source(SOURCES / name, role, data=VENDORS / data).frame.collect()


def rows(df: pl.DataFrame, key: str) -> dict[str, dict]:
    return {r[key]: r for r in df.iter_rows(named=True)}


def write(tmp_path: Path, text: str, name: str = "source.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_source_def(path)
    return str(info.value)


# --- every shipped file -------------------------------------------------------------------


# Files with only [api] and [push]: destinations `listbuilder push` reads, tested there.
PUSH_ONLY = {"linkedin_audiences.toml"}


def test_every_shipped_source_file_is_covered() -> None:
    shipped = {p.name for p in SOURCES.glob("*.toml")}
    assert shipped == set(EXPORTS) | set(API_SOURCES) | PUSH_ONLY


@pytest.mark.parametrize("name", sorted(set(EXPORTS) | set(API_SOURCES)))
def test_shipped_source_files_parse(name: str) -> None:
    defn = load_source_def(SOURCES / name)
    assert defn.role in ROLES
    assert defn.description
    for column in ROLES[defn.role].required:
        assert column in {c.name for c in defn.columns}


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_shipped_export_reads_its_fixture_into_the_canonical_schema(name: str) -> None:
    data, role = EXPORTS[name]
    source = open_source(SOURCES / name, role, data=VENDORS / data)
    schema = source.schema
    for column, dtype in ROLES[role].dtypes.items():
        if column in schema:
            assert schema[column] == dtype, (column, schema[column])
    assert set(ROLES[role].required) <= set(schema)
    assert source.files[0] == SOURCES / name
    assert source.files[1:] == (VENDORS / data,)
    assert source.frame.collect().height > 0


def test_pdl() -> None:
    df = read("pdl.toml")
    by_id = rows(df, "company_id")
    pdl = by_id["tnHcNHbCv8MKeLh92946LAkX6PKg"]
    assert pdl["name"] == "people data labs"
    assert pdl["domain"] == "peopledatalabs.com"
    assert (pdl["employees"], pdl["employees_min"], pdl["employees_max"]) == (51, 51, 200)
    assert pdl["country"] == "US"
    assert pdl["founded_year"] == 2015
    assert pdl["linkedin_url"] == "linkedin.com/company/peopledatalabs"
    acme = by_id["Qm1xGq8cN2pL0rT5vW7yZ9aB3dE6"]
    assert (acme["domain"], acme["country"], acme["employees_min"]) == (
        "acme-widgets.co.uk",
        "GB",
        1001,
    )
    big = by_id["Zx4Yw6Vu8Ts0Rq2Po4Nm6Lk8Jh0G"]
    assert (big["employees"], big["employees_max"], big["domain"]) == (10001, None, None)
    tiny = by_id["Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9S"]
    assert tiny["employees"] is None and tiny["country"] is None


def test_pdl_bad_values_are_counted_not_raised() -> None:
    source = open_source(SOURCES / "pdl.toml", "companies", data=VENDORS / EXPORTS["pdl.toml"][0])
    counts = bad_value_counts(source)
    assert counts["employees"] == 1
    assert counts["country"] == 1
    assert counts["domain"] == 0
    report = check_values(source)
    assert report["employees"].examples == ("lots",)
    assert report["country"].examples == ("narnia",)


def test_crunchbase_organizations() -> None:
    by_id = rows(read("crunchbase_organizations.toml"), "company_id")
    wetpaint = by_id["e1393508-30ea-8a36-3f96-dd3226033abd"]
    assert wetpaint["domain"] == "wetpaint.com"
    assert wetpaint["country"] == "US"  # ISO-3 USA
    assert (wetpaint["employees_min"], wetpaint["employees_max"]) == (51, 100)
    assert wetpaint["categories"] == ["Publishing", "Social Media", "Social Media Management"]
    assert wetpaint["industry"] == "Content and Publishing"
    assert wetpaint["founded_year"] == 2005
    lumen = by_id["5f7a1c2e-9b3d-4e8f-a1b2-c3d4e5f60718"]
    assert lumen["domain"] == "lumen-analytics.de"  # from homepage_url: domain is empty
    assert lumen["country"] == "DE"
    harbour = by_id["0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"]
    assert (harbour["employees"], harbour["employees_max"], harbour["country"]) == (
        10000,
        None,
        "GB",
    )
    quiet = by_id["9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0"]
    assert quiet["employees"] is None  # "unknown" is a null value, not a bad one
    source = open_source(
        SOURCES / "crunchbase_organizations.toml",
        "companies",
        data=VENDORS / "crunchbase_organizations.csv",
    )
    counts = bad_value_counts(source)
    assert counts["employees"] == 0
    assert counts["country"] == 1  # ZZZ


def test_crunchbase_funding_rounds() -> None:
    df = read("crunchbase_funding_rounds.toml")
    by_id = rows(df, "funding_round_id")
    b = by_id["a6c3f2d1-0000-4000-8000-000000000001"]
    assert b["company_id"] == "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    assert b["round_type"] == "Series B"
    assert b["announced_date"] == dt.date(2024, 1, 20)
    assert b["amount_usd"] == 60_000_000
    assert len(b["lead_investor_uuids"]) == 2
    assert df["round_type"].to_list() == ["Series B", "Seed", "Series Unknown", "Debt"]
    assert by_id["a6c3f2d1-0000-4000-8000-000000000003"]["amount_usd"] is None


def test_companies_house() -> None:
    df = read("companies_house.toml")
    by_id = rows(df, "company_id")
    obac = by_id["07687209"]  # leading zero kept; " CompanyNumber" header trimmed
    assert obac["name"] == "!OBAC UK LIMITED"
    assert obac["domain"] is None
    assert obac["country"] == "GB"  # blank RegAddress.Country falls back to CountryOfOrigin
    assert obac["founded_year"] == 2011
    assert obac["incorporation_date"] == dt.date(2011, 6, 29)
    assert obac["industry"].startswith("70229")
    assert by_id["SC123456"]["country"] == "GB"  # SCOTLAND
    assert by_id["12345678"]["founded_year"] is None  # "not known"
    source = open_source(
        SOURCES / "companies_house.toml", "companies", data=VENDORS / "companies_house_basic.csv"
    )
    assert check_values(source)["founded_year"].examples == ("not known",)


def test_salesforce_accounts() -> None:
    by_id = rows(read("salesforce_accounts.toml"), "account_id")
    harbour = by_id["0015g00000AbCdEAAV"]
    assert (harbour["domain"], harbour["status"], harbour["country"]) == (
        "harbour-robotics.com",
        "customer",
        "GB",
    )
    assert by_id["0015g00000AbCdFAAV"]["status"] == "prospect"
    assert by_id["0015g00000AbCdGAAV"]["status"] == "partner"
    assert by_id["0015g00000AbCdHAAV"]["domain"] is None


def test_salesforce_opportunities() -> None:
    by_id = rows(read("salesforce_opportunities.toml"), "opportunity_id")
    won = by_id["0065g00000Op001AAA"]
    assert (won["is_closed"], won["is_won"], won["amount"]) == (True, True, 250000.0)
    assert won["created_date"] == dt.date(2023, 6, 1)
    assert won["close_date"] == dt.date(2023, 11, 30)
    assert by_id["0065g00000Op003AAA"]["is_closed"] is False


def test_hubspot_companies() -> None:
    by_id = rows(read("hubspot_companies.toml"), "account_id")
    assert by_id["200000000001"]["status"] == "customer"
    assert by_id["200000000002"]["status"] == "open_opportunity"
    assert by_id["200000000002"]["domain"] == "lumen-analytics.de"  # from Website URL
    assert by_id["200000000003"]["status"] == "prospect"
    assert by_id["200000000003"]["country"] == "US"
    assert by_id["200000000004"]["status"] is None  # no lifecycle stage at all


def test_hubspot_deals() -> None:
    by_id = rows(read("hubspot_deals.toml"), "opportunity_id")
    assert by_id["9001"]["account_id"] == "200000000001"
    assert (by_id["9002"]["is_closed"], by_id["9002"]["is_won"]) == (True, False)
    assert by_id["9003"]["close_date"] == dt.date(2024, 9, 30)


def test_canonical_parquet_passes_typed_columns_through(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "company_id": ["1", "2"],
            "name": ["A", "B"],
            "domain": ["a.com", "https://b.io/x"],
            "employees": [10, None],
            "technologies": [["hubspot"], None],
            "founded_year": [2001, 2002],
            "mystery": [1.5, 2.5],
        }
    )
    frame.write_parquet(tmp_path / "companies.parquet")
    source = open_source(
        SOURCES / "canonical.toml", "companies", data=tmp_path / "companies.parquet"
    )
    out = source.frame.collect()
    assert out["employees"].to_list() == [10, None]
    assert out["technologies"].to_list() == [["hubspot"], None]
    assert out["domain"].to_list() == ["a.com", "b.io"]  # a URL's host name, as a plain read
    assert out["mystery"].to_list() == [1.5, 2.5]  # kept: keep_other_columns = true


# --- read_source dispatch and paths -------------------------------------------------------


PDL_LIKE = """
role = "companies"
[input]
path = "{path}"
[columns]
company_id = "id"
name = "name"
domain = {{ from = "website", normalise = "domain" }}
employees = {{ from = "size", normalise = "band" }}
"""


def test_read_source_dispatches_on_toml_and_resolves_paths_against_the_file(tmp_path: Path) -> None:
    (tmp_path / "defs").mkdir()
    (tmp_path / "data").mkdir()
    shutil.copy(VENDORS / "pdl_free_company_dataset.json", tmp_path / "data" / "pdl.json")
    path = write(tmp_path / "defs", PDL_LIKE.format(path="../data/pdl.json"))
    source = read_source(path, "companies")
    assert source.path == str(path)
    assert source.files == (path, tmp_path / "data" / "pdl.json")
    assert source.frame.collect().height == 5
    assert bad_value_counts(source)["employees"] == 1


def test_read_source_rejects_a_source_file_of_another_role(tmp_path: Path) -> None:
    shutil.copy(VENDORS / "pdl_free_company_dataset.json", tmp_path / "pdl.json")
    path = write(tmp_path, PDL_LIKE.format(path="pdl.json"))
    with pytest.raises(ConfigError, match=r"declares role = 'companies'.*crm"):
        read_source(path, "crm")


def test_a_clean_plain_file_has_no_bad_values() -> None:
    # Read through the same parsers as a source file, so checked the same way: every
    # value of this file is readable.
    source = read_source(VENDORS / "canonical_companies.csv", "companies")
    counts = bad_value_counts(source)
    assert {"domain", "employees", "country"} <= set(counts)
    assert set(counts.values()) == {0}


def test_missing_data_file_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, PDL_LIKE.format(path="nowhere.json"))
    with pytest.raises(DataError, match=r"nowhere\.json.*input\.path in"):
        open_source(path, "companies")


def test_format_key_reads_an_unknown_extension(tmp_path: Path) -> None:
    shutil.copy(VENDORS / "pdl_free_company_dataset.json", tmp_path / "pdl.data")
    text = PDL_LIKE.format(path="pdl.data").replace("[input]\n", '[input]\nformat = "ndjson"\n')
    assert open_source(write(tmp_path, text)).frame.collect().height == 5
    without = write(tmp_path, PDL_LIKE.format(path="pdl.data"), "plain.toml")
    with pytest.raises(DataError, match="set \\[input\\] format"):
        open_source(without)


def test_api_source_without_snapshot_path_says_to_pull(tmp_path: Path) -> None:
    text = (SOURCES / "hubspot_api.toml").read_text()
    text = text.replace('[input]\npath = "../snapshots/hubspot_companies.parquet"\n', "")
    with pytest.raises(ConfigError, match="listbuilder pull --source"):
        open_source(write(tmp_path, text), "crm")


def test_mapping_to_a_column_the_file_lacks(tmp_path: Path) -> None:
    shutil.copy(VENDORS / "pdl_free_company_dataset.json", tmp_path / "pdl.json")
    text = (
        PDL_LIKE.format(path="pdl.json")
        .replace('"website"', '"Website"')
        .replace("employees = {", 'industry = "sector"\nemployees = {')
    )
    with pytest.raises(ConfigError) as info:
        open_source(write(tmp_path, text))
    message = str(info.value)
    assert str(tmp_path / "source.toml") in message
    assert "columns.domain: column `Website` is not in" in message
    assert "(did you mean `website`?)" in message
    assert "columns.industry: column `sector`" in message
    assert "the data has: id, website, name" in message


# --- bad source files ---------------------------------------------------------------------


def test_unknown_role(tmp_path: Path) -> None:
    message = problems_of(
        write(tmp_path, 'role = "compnies"\n[input]\npath = "x.csv"\n[columns]\n')
    )
    assert str(tmp_path / "source.toml") in message
    assert "role: unknown role 'compnies' (did you mean `companies`?)" in message


def test_every_problem_is_reported_at_once_with_its_key(tmp_path: Path) -> None:
    text = """
role = "companies"
colour = "blue"
[input]
path = "x.csv"
seperator = ";"
encoding = "latin1"
[columns]
company_id = "id"
name = { from = "name", normalise = "lowercase" }
employes = "size"
employees = { from = "size", normalise = "band", point = "average", sep = "," }
country = { from = "c", value = "US" }
technologies = { from = "t", normalise = "bool" }
[extra]
industry = "sector"
"""
    message = problems_of(write(tmp_path, text))
    expected = [
        "colour: unknown key `colour`",
        "input.seperator: unknown key `seperator` (did you mean `separator`?)",
        "input.encoding: invalid value 'latin1'",
        "columns.name.normalise: unknown normaliser 'lowercase' (did you mean `lower`?)",
        "columns.employes: unknown key `employes` (did you mean `employees`?)",
        "columns.employees.point: invalid value 'average'; valid values are ['min', 'mid', 'max']",
        "columns.employees.sep: unknown key `sep`",
        "columns.country: give exactly one of `from`",
        "columns.technologies.normalise: this gives a boolean, but `technologies` is a list",
        "columns.domain: required for role companies",
        "extra.industry: `industry` is canonical for companies",
    ]
    for line in expected:
        assert line in message, (line, message)


@pytest.mark.parametrize(
    ("base_url", "complaint"),
    [
        ("ftp://api.hubapi.com", "expected an https:// URL, got 'ftp://api.hubapi.com'"),
        ("api.hubapi.com", "expected an https:// URL"),
        ("http://api.hubapi.com", "expected https:// (http only on loopback)"),
        ("https://api.hubapi.com?x=1", "expected no query or fragment"),
    ],
)
def test_api_base_url_must_be_https(tmp_path: Path, base_url: str, complaint: str) -> None:
    text = (SOURCES / "hubspot_api.toml").read_text().replace("https://api.hubapi.com", base_url)
    message = problems_of(write(tmp_path, text))
    assert f"api.base_url: {complaint}" in message


def test_api_base_url_with_a_credential_is_refused_without_showing_it(tmp_path: Path) -> None:
    url = "https://me:s3cr3t-token@api.hubapi.com"
    text = (SOURCES / "hubspot_api.toml").read_text().replace("https://api.hubapi.com", url)
    message = problems_of(write(tmp_path, text))
    assert "api.base_url: expected no user name or password in the URL" in message
    assert "s3cr3t-token" not in message


def test_api_keys_are_checked_per_kind(tmp_path: Path) -> None:
    text = (SOURCES / "salesforce_api.toml").read_text()
    text = text.replace('fields = ["Id", ', 'properties = ["name"]\nfields = [')
    text = text.replace('token_env = "SALESFORCE_TOKEN"', 'token_env = "MY-TOKEN"')
    text = text.replace('api_version = "v61.0"', 'api_version = "61"')
    message = problems_of(write(tmp_path, text))
    assert "api.properties: unknown key `properties`" in message
    assert "api.fields: must include Id" in message
    assert "api.token_env: expected an environment variable name" in message
    assert "api.api_version: expected a version" in message


def test_input_path_must_be_local(tmp_path: Path) -> None:
    text = PDL_LIKE.format(path="s3://bucket/pdl.json")
    assert "input.path: expected a local file, directory or glob, got the URL" in problems_of(
        write(tmp_path, text)
    )


def test_malformed_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="malformed TOML"):
        load_source_def(write(tmp_path, "role = \n"))
    with pytest.raises(ConfigError, match="source file not found"):
        load_source_def(tmp_path / "absent.toml")


# --- column features ----------------------------------------------------------------------


def test_constants_coalescing_null_values_and_keep_other_columns(tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_text(
        "ID,Account,Site,URL,Tier,Notes\n"
        "1,Acme,,https://acme.com,n/a,hello\n"
        "2,Beta,beta.io,,gold,\n"
        "3,Gamma,,,,\n",
        encoding="utf-8",
    )
    text = """
role = "crm"
keep_other_columns = true
[input]
path = "crm.csv"
[columns]
account_id = "ID"
name = "Account"
domain = { from = ["Site", "URL"], normalise = "domain" }
status = { value = "customer" }
[extra]
tier = { from = "Tier", null_values = ["N/A"] }
"""
    out = open_source(write(tmp_path, text), "crm").frame.collect()
    assert out["domain"].to_list() == ["acme.com", "beta.io", None]
    assert out["status"].to_list() == ["customer"] * 3
    assert out["tier"].to_list() == [None, "gold", None]
    assert out["Notes"].to_list() == ["hello", None, None]
    assert "Site" in out.columns and "ID" in out.columns


# --- normalisers --------------------------------------------------------------------------


def apply(expr: pl.Expr, values: list[str | None]) -> list:
    return (
        pl.DataFrame({"v": values}, schema={"v": pl.String}).select(expr.alias("o"))["o"].to_list()
    )


def bounds(values: list[str | None]) -> list[tuple[int | None, int | None]]:
    lower, upper = band_bounds(pl.col("v"))
    df = pl.DataFrame({"v": values}, schema={"v": pl.String}).select(
        lower.alias("a"), upper.alias("b")
    )
    return list(zip(df["a"].to_list(), df["b"].to_list(), strict=True))


def test_band_vocabularies() -> None:
    cases = {
        "1-10": (1, 10),
        "51-200": (51, 200),
        "10001+": (10001, None),
        "501 - 1,000": (501, 1000),
        "10,001+ employees": (10001, None),
        "2-10 employees": (2, 10),
        "1,001-5,000 emp.": (1001, 5000),
        "c_00051_00200": (51, 200),
        "c_10001_max": (10001, None),
        "5k-10k": (5000, 10000),
        "51 to 200": (51, 200),
        "201\u2013500": (201, 500),  # en dash
        "over 500": (501, None),
        "at least 50": (50, None),
        "under 10": (1, 9),
        "up to 10": (1, 10),
        "self-employed": (1, 1),
        "250": (250, 250),
        "200-51": (None, None),
        "9223372036854775296": (None, None),  # beyond Int64, and no band
        "1-999999999999": (None, None),
        "lots": (None, None),
        "": (None, None),
    }
    assert dict(zip(cases, bounds(list(cases)), strict=True)) == cases
    points = {
        p: apply(band(pl.col("v"), {"point": p}), ["51-200", "10001+"])
        for p in ("min", "mid", "max")
    }
    assert points == {"min": [51, 10001], "mid": [125, 10001], "max": [200, 10001]}


def _with_commas(n: int) -> str:
    return f"{n:,}"


BAND_FORMATS = [
    lambda lo, hi: f"{lo}-{hi}",
    lambda lo, hi: f"{lo} - {hi}",
    lambda lo, hi: f"{_with_commas(lo)}-{_with_commas(hi)}",
    lambda lo, hi: f"{_with_commas(lo)} - {_with_commas(hi)} employees",
    lambda lo, hi: f"{lo} to {hi}",
    lambda lo, hi: f"c_{lo:05d}_{hi:05d}",
    lambda lo, hi: f"  {lo}-{hi} Employees ",
]
OPEN_FORMATS = [
    lambda lo: f"{lo}+",
    lambda lo: f"{_with_commas(lo)}+",
    lambda lo: f"{_with_commas(lo)}+ employees",
    lambda lo: f"c_{lo:05d}_max",
    lambda lo: f"{lo} or more",
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2_000_000),
            st.integers(0, 2_000_000),
            st.integers(0, len(BAND_FORMATS) - 1),
        ),
        min_size=1,
        max_size=20,
    ),
    st.lists(
        st.tuples(st.integers(0, 2_000_000), st.integers(0, len(OPEN_FORMATS) - 1)), max_size=10
    ),
)
def test_band_parser_reads_every_vendor_format(
    closed: list[tuple[int, int, int]], open_: list[tuple[int, int]]
) -> None:
    texts, expected = [], []
    for a, b, f in closed:
        lo, hi = min(a, b), max(a, b)
        texts.append(BAND_FORMATS[f](lo, hi))
        expected.append((lo, hi))
    for lo, f in open_:
        texts.append(OPEN_FORMATS[f](lo))
        expected.append((lo, None))
    assert bounds(texts) == expected


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), min_size=1, max_size=30))
def test_band_parser_never_fails_and_bounds_are_ordered(texts: list[str | None]) -> None:
    for text, (lo, hi) in zip(texts, bounds(texts), strict=True):
        if lo is None:
            assert hi is None
        else:
            assert lo >= 0
            assert hi is None or hi >= lo
        if text is None:
            assert lo is None


LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
HOST = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(LABEL, min_size=1, max_size=3),
    st.text(string.ascii_lowercase, min_size=2, max_size=6),
)


@settings(max_examples=100, deadline=None)
@given(
    HOST,
    st.sampled_from(["", "http://", "https://", "HTTPS://"]),
    st.booleans(),
    st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")),
    st.sampled_from(["", "/", "/about", "/a/b?x=1#top", "?utm=1", "#frag"]),
    st.booleans(),
)
def test_url_decoration_is_stripped(
    host: str, scheme: str, www: bool, port: str, tail: str, upper: bool
) -> None:
    url = f"{scheme}{'www.' if www else ''}{host}{port}{tail}"
    if upper:
        url = url.upper()
    # Whatever domain_expr makes of the bare host (it may reduce it to the registrable
    # domain), the scheme, www., port, path, query and case must not change it.
    got, bare = apply(domain(pl.col("v"), {}), [url, host])
    assert got == bare
    assert bare == apply(domain_expr(pl.col("v")), [host])[0]


def test_domain_rejects_what_is_not_a_domain() -> None:
    values = ["https://www.Acme.com/about", "acme.co", "n/a", "localhost", "-", "http://", None]
    assert apply(domain(pl.col("v"), {}), values) == [
        "acme.com",
        "acme.co",
        None,
        None,
        None,
        None,
        None,
    ]


def test_every_iso_country_spelling_maps_to_alpha_2() -> None:
    values, expected = [], []
    for c in pycountry.countries:
        for name in (c.alpha_2, c.alpha_3, c.name, c.name.lower(), c.name.upper()):
            values.append(name)
            expected.append(c.alpha_2)
    assert apply(country(pl.col("v"), {}), values) == expected


def test_country_aliases_and_unknowns() -> None:
    values = [
        "united states",
        "USA",
        "U.K.",
        "England",
        "Côte d'Ivoire",
        "cote d'ivoire",
        "Russia",
        "Korea, Republic of",
        "The Netherlands",
        "Bolivia",
        "Narnia",
        None,
    ]
    expected = ["US", "US", "GB", "GB", "CI", "CI", "RU", "KR", "NL", "BO", None, None]
    assert apply(country(pl.col("v"), {}), values) == expected
    assert apply(country(pl.col("v"), {"aliases": {"Narnia": "gb"}}), ["narnia"]) == ["GB"]


def test_funding_stage_vocabularies() -> None:
    cases = {
        "series_b": "Series B",
        "Series B": "Series B",
        "B": "Series B",
        "b": "Series B",
        "Round B": "Series B",
        "Series B1": "Series B",
        "Series E+": "Series E+",
        "E+": "Series E+",
        "pre_seed": "Pre-Seed",
        "Pre-Seed": "Pre-Seed",
        "seed": "Seed",
        "series_unknown": "Series Unknown",
        "debt_financing": "Debt",
        "Debt": "Debt",
        "post_ipo_equity": "Post-IPO Equity",
        "IPO": "IPO",
        "public": "Public",
        "Private Equity": "Private Equity",
        "Bootstrapped": "Bootstrapped",
        "Secret sauce": None,
    }
    assert apply(funding_stage(pl.col("v"), {}), list(cases)) == list(cases.values())


def test_canonical_definition_reads_what_a_direct_read_reads(tmp_path: Path) -> None:
    csv = VENDORS / "canonical_companies.csv"
    direct = read_source(csv, "companies").frame.collect()
    via = open_source(SOURCES / "canonical.toml", "companies", data=csv).frame.collect()
    assert via.columns == direct.columns
    assert via.equals(direct)
    direct.write_parquet(tmp_path / "companies.parquet")
    from_parquet = open_source(
        SOURCES / "canonical.toml", "companies", data=tmp_path / "companies.parquet"
    ).frame.collect()
    assert from_parquet.equals(direct)


def test_large_vendor_file_streams(tmp_path: Path) -> None:
    n = 200_000
    bands = ["1-10", "11-50", "51-200", "10001+", "lots"]
    pl.DataFrame(
        {
            "id": [f"c{i}" for i in range(n)],
            "website": [f"https://www.c{i}.com/" for i in range(n)],
            "name": [f"c{i}" for i in range(n)],
            "size": [bands[i % 5] for i in range(n)],
        }
    ).write_csv(tmp_path / "big.csv")
    path = write(tmp_path, PDL_LIKE.format(path="big.csv"))
    source = open_source(path, "companies")
    source.frame.sink_parquet(tmp_path / "out.parquet")  # the streaming engine end to end
    out = pl.scan_parquet(tmp_path / "out.parquet")
    summary = out.select(
        pl.len(), pl.col("employees").null_count(), pl.col("domain").n_unique()
    ).collect()
    assert summary.row(0) == (n, n // 5, n)
    assert bad_value_counts(source)["employees"] == n // 5
