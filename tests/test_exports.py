"""Exports: each destination's documented header, limits, tiers, ids and CSV safety."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from listbuilder import exports
from listbuilder.build import run_build
from listbuilder.cli import cli
from listbuilder.errors import ConfigError, DataError
from listbuilder.exports import REGISTRY, csv_safe, export_run, write_exports

AS_OF = dt.date(2026, 11, 1)

# The headers each tool documents for its import (see the source URL beside each
# destination in listbuilder/exports.py).
DOCUMENTED_HEADERS = {
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
    "hubspot": [
        "Company name",
        "Company Domain Name",
        "Industry",
        "Number of Employees",
        "Annual Revenue",
        "Country/Region",
        "Target Account",
        "Ideal Customer Profile Tier",
    ],
    "salesforce": [
        "Id",
        "Name",
        "Website",
        "Industry",
        "NumberOfEmployees",
        "AnnualRevenue",
        "BillingCountryCode",
        "Description",
    ],
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
    "apollo": ["Account Name", "Website", "Industry", "# Employees", "Annual Revenue", "Country"],
}

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


def companies_frame() -> pl.DataFrame:
    """Five software companies: c1-c3 score 3 (Tier 1 holds two), c4-c5 score 1."""
    return pl.DataFrame(
        {
            "company_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
            "name": ["=HYPERLINK(1)", "Beta", "Gamma", "+Delta", "@Eps", "Other"],
            "domain": [
                "https://www.alpha.com/about",
                "beta.io",
                "alpha.com",
                None,
                "eps.co.uk",
                "other.com",
            ],
            "industry": ["software"] * 5 + ["retail"],
            "employees": [500, 200, 150, 10, 20, 5],
            "revenue_usd": [-1.0, 2e6, None, 3.0, 4.0, 5.0],
            "country": ["US", "GB", "US", "DE", "GB", "US"],
        }
    )


def make_run(tmp_path: Path, crm: pl.DataFrame | None = None) -> Path:
    """Build a real run directory from the small fixture."""
    companies = tmp_path / "companies.parquet"
    companies_frame().write_parquet(companies)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    crm_path = None
    if crm is not None:
        crm_path = tmp_path / "crm.csv"
        crm.write_csv(crm_path)
    run = tmp_path / "run"
    run_build(rules_path=rules, companies_path=companies, crm_path=crm_path, as_of=AS_OF, out=run)
    return run


def read_rows(path: Path) -> list[list[str]]:
    """Parse a CSV the way an importer would (RFC 4180)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    crm = pl.DataFrame(
        {
            "account_id": ["001A0000001abcD", "hs-42"],
            "name": ["Beta", "Gamma"],
            "domain": ["beta.io", "alpha.com"],
            "status": ["prospect", "prospect"],
        }
    )
    return make_run(tmp_path, crm)


@pytest.mark.parametrize("name", sorted(DOCUMENTED_HEADERS))
def test_each_destination_writes_its_documented_header(run_dir: Path, tmp_path: Path, name: str):
    result = export_run(run_dir, [name], tmp_path / "out")
    assert result.files == [f"saas.{name}.csv"]
    rows = read_rows(tmp_path / "out" / f"saas.{name}.csv")
    assert rows[0] == DOCUMENTED_HEADERS[name]


def test_every_destination_is_covered_by_the_header_tests():
    assert set(REGISTRY) == set(DOCUMENTED_HEADERS) | {"domains"}


def test_csv_files_are_rfc4180_with_crlf_and_utf8(run_dir: Path, tmp_path: Path):
    export_run(run_dir, ["salesforce"], tmp_path / "out")
    raw = (tmp_path / "out" / "saas.salesforce.csv").read_bytes()
    raw.decode("utf-8")
    assert raw.count(b"\r\n") == 1 + 5  # header + five listed accounts
    assert b"\n" not in raw.replace(b"\r\n", b"")
    # Quotes only where RFC 4180 needs them (the round trip of hostile names is below).
    assert b",Tier 1 (saas): big +2; any +1\r\n" in raw


def test_list_order_and_values(run_dir: Path, tmp_path: Path):
    export_run(run_dir, ["outreach"], tmp_path / "out")
    rows = read_rows(tmp_path / "out" / "saas.outreach.csv")
    # Rank order: score 3 (c1, c2, c3 by id), then score 1 (c4, c5).
    assert [r[7] for r in rows[1:]] == ["c1", "c2", "c3", "c4", "c5"]
    assert rows[1][1:3] == ["alpha.com", "https://alpha.com"]
    # Tier 1 holds two; c3 overflows to Tier 2.
    assert [r[6] for r in rows[1:]] == [
        "saas; Tier 1",
        "saas; Tier 1",
        "saas; Tier 2",
        "saas; Tier 2",
        "saas; Tier 2",
    ]


def test_formula_cells_are_neutralised_in_text_but_numbers_stay_numbers(
    run_dir: Path, tmp_path: Path
):
    export_run(run_dir, ["apollo"], tmp_path / "out")
    rows = read_rows(tmp_path / "out" / "saas.apollo.csv")
    names = [r[0] for r in rows[1:]]
    assert names == ["'=HYPERLINK(1)", "Beta", "Gamma", "'+Delta", "'@Eps"]
    # c1's revenue is negative: a number, not a formula, so it is written as is.
    assert rows[1][4] == "-1.0"


@given(st.text(max_size=20))
def test_csv_safe_never_leaves_a_formula_prefix(value: str):
    out = pl.select(csv_safe(pl.lit(value, dtype=pl.String))).item()
    assert not out.startswith(exports.FORMULA_PREFIXES)
    risky = value.startswith(exports.FORMULA_PREFIXES)
    assert out == ("'" + value if risky else value)


def test_hubspot_tiers_target_flag_and_dedupe_by_domain(run_dir: Path, tmp_path: Path):
    result = export_run(run_dir, ["hubspot"], tmp_path / "out")
    rows = read_rows(tmp_path / "out" / "saas.hubspot.csv")
    by_domain = {r[1]: r for r in rows[1:]}
    # c3 shares alpha.com with the higher-ranked c1; c4 has no domain: both left out.
    assert list(by_domain) == ["alpha.com", "beta.io", "eps.co.uk"]
    assert [r[7] for r in rows[1:]] == ["tier_1", "tier_1", "tier_2"]
    assert all(r[6] == "true" for r in rows[1:])
    assert any("2 listed accounts left out" in w for w in result.warnings)


def test_salesforce_id_only_for_salesforce_account_ids(run_dir: Path, tmp_path: Path):
    export_run(run_dir, ["salesforce"], tmp_path / "out")
    rows = read_rows(tmp_path / "out" / "saas.salesforce.csv")
    ids = {r[1]: r[0] for r in rows[1:]}
    assert ids["Beta"] == "001A0000001abcD"  # known in the CRM: an update
    assert ids["Gamma"] == ""  # a CRM id that is not a Salesforce id: insert
    assert ids["'=HYPERLINK(1)"] == ""


def test_domains_are_registrable_unique_and_plain(run_dir: Path, tmp_path: Path):
    export_run(run_dir, ["domains"], tmp_path / "out")
    text = (tmp_path / "out" / "saas.domains.txt").read_text(encoding="utf-8")
    assert text == "alpha.com\nbeta.io\neps.co.uk\n"


def test_linkedin_warns_under_a_thousand_and_splits_at_its_row_limit(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    small = dataclasses.replace(REGISTRY["linkedin"], max_rows=2)
    monkeypatch.setitem(REGISTRY, "linkedin", small)
    result = export_run(run_dir, ["linkedin"], tmp_path / "out")
    assert result.files == [f"saas.linkedin.part{k}.csv" for k in (1, 2, 3)]
    parts = [read_rows(tmp_path / "out" / f) for f in result.files]
    assert all(p[0] == DOCUMENTED_HEADERS["linkedin"] for p in parts)
    assert [len(p) - 1 for p in parts] == [2, 2, 1]
    assert [r[0] for p in parts for r in p[1:]] == [
        "'=HYPERLINK(1)",
        "Beta",
        "Gamma",
        "'+Delta",
        "'@Eps",
    ]
    assert any(
        w.startswith("saas.linkedin: 5 companies; LinkedIn recommends") for w in result.warnings
    )


def test_byte_limit_splits_so_no_file_exceeds_it(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    limit = 200
    monkeypatch.setitem(
        REGISTRY, "linkedin", dataclasses.replace(REGISTRY["linkedin"], max_bytes=limit)
    )
    result = export_run(run_dir, ["linkedin"], tmp_path / "out")
    sizes = [(tmp_path / "out" / f).stat().st_size for f in result.files]
    assert len(sizes) > 1 and max(sizes) <= limit
    rows = [r for f in result.files for r in read_rows(tmp_path / "out" / f)[1:]]
    assert len(rows) == 5


def test_apollo_splits_at_ten_thousand_rows():
    assert REGISTRY["apollo"].max_rows == 10_000
    assert REGISTRY["linkedin"].max_rows == 300_000


def test_segment_and_tier_filters(run_dir: Path, tmp_path: Path):
    export_run(run_dir, ["outreach"], tmp_path / "out", segment="saas", tiers=["Tier 2"])
    rows = read_rows(tmp_path / "out" / "saas.outreach.csv")
    assert [r[7] for r in rows[1:]] == ["c3", "c4", "c5"]


def test_exports_are_byte_identical_across_runs(run_dir: Path, tmp_path: Path):
    names = sorted(REGISTRY)
    first = export_run(run_dir, names, tmp_path / "a")
    export_run(run_dir, names, tmp_path / "b")
    for name in first.files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_bad_input_errors(run_dir: Path, tmp_path: Path):
    with pytest.raises(
        ConfigError,
        match=r"unknown destination\(s\) 'myspace'; valid destinations are apollo, domains",
    ):
        export_run(run_dir, ["myspace"], tmp_path / "out")
    with pytest.raises(DataError, match=r"is not a run directory: it has no summary\.json"):
        export_run(tmp_path, ["linkedin"], tmp_path / "out")
    with pytest.raises(ConfigError, match=r"unknown segment 'nope'.*\['saas'\]"):
        export_run(run_dir, ["linkedin"], tmp_path / "out", segment="nope")
    with pytest.raises(ConfigError, match=r"unknown tier\(s\) 'Tier 9'"):
        export_run(run_dir, ["linkedin"], tmp_path / "out", tiers=["Tier 9"])
    with pytest.raises(ConfigError, match="is a run directory"):
        export_run(run_dir, ["linkedin"], run_dir)
    assert not (tmp_path / "out").exists()


def test_a_failed_export_leaves_earlier_output_untouched(run_dir: Path, tmp_path: Path):
    out = tmp_path / "out"
    export_run(run_dir, ["linkedin"], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (run_dir / "saas.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot read the list"):
        export_run(run_dir, ["linkedin", "domains"], out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_write_exports_writes_into_an_existing_directory(run_dir: Path, tmp_path: Path):
    out = tmp_path / "existing"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    write_exports(run_dir, ["domains"], out)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt", "saas.domains.txt"]


def test_export_command(run_dir: Path, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(
        cli,
        [
            "export",
            str(run_dir),
            "--to",
            "linkedin,domains",
            "--tiers",
            "Tier 1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out / 'saas.linkedin.csv'}" in result.stdout
    assert "warning: saas.linkedin: 2 companies; LinkedIn recommends" in result.stderr
    assert (out / "saas.domains.txt").read_text() == "alpha.com\nbeta.io\n"

    bad = runner.invoke(cli, ["export", str(run_dir), "--to", "fax", "--out", str(out)])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Error: unknown destination(s) 'fax'")
    assert "Traceback" not in bad.output
    missing = runner.invoke(cli, ["export", str(tmp_path), "--to", "linkedin", "--out", str(out)])
    assert missing.exit_code == 1
    assert "has no summary.json" in missing.stderr


def test_build_writes_exports_from_the_project_file_atomically(tmp_path: Path):
    (tmp_path / "rules.toml").write_text(RULES, encoding="utf-8")
    companies_frame().write_parquet(tmp_path / "companies.parquet")
    project = tmp_path / "listbuilder.toml"
    project.write_text(
        '[inputs]\ncompanies = "companies.parquet"\nrules = "rules.toml"\n'
        '[run]\nas_of = "2026-11-01"\nout = "out/{as_of:%Y-%m}"\n'
        '[exports]\nto = ["linkedin", "domains"]\ntiers = ["Tier 1"]\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["build", "--config", str(project)])
    assert result.exit_code == 0, result.output
    run = tmp_path / "out" / "2026-11"
    assert sorted(p.name for p in (run / "exports").iterdir()) == [
        "saas.domains.txt",
        "saas.linkedin.csv",
    ]
    assert (run / "exports" / "saas.domains.txt").read_text() == "alpha.com\nbeta.io\n"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["exports"]["files"] == ["saas.linkedin.csv", "saas.domains.txt"]

    # An export that fails leaves last run's directory exactly as it was.
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    project.write_text(project.read_text().replace('tiers = ["Tier 1"]', 'tiers = ["Tier 7"]'))
    failed = runner.invoke(cli, ["build", "--config", str(project)])
    assert failed.exit_code == 2
    assert "export tiers ['Tier 7'] are not tiers of" in failed.stderr
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before


def test_csv_reader_roundtrip_of_hostile_names(tmp_path: Path):
    frame = companies_frame().with_columns(
        name=pl.Series(['a,"b"', "line\nbreak", "\tTab", "\rCR", "-1+2", "ok"])
    )
    (tmp_path / "rules.toml").write_text(RULES, encoding="utf-8")
    frame.write_parquet(tmp_path / "companies.parquet")
    run_build(
        rules_path=tmp_path / "rules.toml",
        companies_path=tmp_path / "companies.parquet",
        as_of=AS_OF,
        out=tmp_path / "run",
    )
    export_run(tmp_path / "run", ["apollo"], tmp_path / "out")
    raw = (tmp_path / "out" / "saas.apollo.csv").read_bytes().decode("utf-8")
    names = [r[0] for r in csv.reader(io.StringIO(raw, newline=""))][1:]
    assert names == ['a,"b"', "line\nbreak", "'\tTab", "'\rCR", "'-1+2"]
