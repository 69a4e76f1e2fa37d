"""``listbuilder pull`` end to end: the CLI against the loopback CRM server of
``tests/crm_server.py``, for HubSpot and Salesforce; what it prints, what a refused token
looks like, that a failed pull leaves the last snapshot as it was, and that a pulled
snapshot feeds ``listbuilder build --crm``. Also how values a source file cannot read
reach the build's ``summary.json`` and stderr."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from listbuilder.cli import cli
from tests.crm_server import (
    N_ACCOUNTS,
    N_COMPANIES,
    SF_BATCH,
    TOKEN,
    FakeCRM,
    local_copy,
    serving,
)

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")
HUBSPOT_PAGES = -(-N_COMPANIES // 100)
SALESFORCE_PAGES = -(-N_ACCOUNTS // SF_BATCH)


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCRM]:
    """The loopback CRM, with the token in both variables the shipped files name.

    The CLI makes its own requests session, which honours proxy variables: they are
    cleared so nothing stands between the client and loopback. Backoff delays are cut to
    milliseconds so retries do not slow the suite (their sizes are tested in
    test_crm_api.py).
    """
    monkeypatch.setenv("HUBSPOT_TOKEN", TOKEN)
    monkeypatch.setenv("SALESFORCE_TOKEN", TOKEN)
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("listbuilder.inputs.http.BASE_DELAY", 0.001)
    with serving() as fake:
        yield fake


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def files_under(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory``, hidden temporaries included, with its bytes; the
    pages a failed pull keeps for the next one to resume from (``.*.partial/``) aside."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not any(part.endswith(".partial") for part in p.parts)
    }


def assert_no_token(result: Result, directory: Path) -> None:
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    for name, data in files_under(directory).items():
        assert TOKEN.encode() not in data, name


# --- pull -----------------------------------------------------------------------------------


def test_hubspot_pull_writes_the_snapshot_where_the_source_file_says(
    crm: FakeCRM, tmp_path: Path
) -> None:
    crm.fail("companies:300", "500")
    crm.fail("companies:1800", "drop")
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)

    result = invoke("pull", "--source", source)

    assert result.exit_code == 0, result.output
    snapshots = tmp_path / "snapshots"  # [input] path = "../snapshots/hubspot_companies.parquet"
    assert result.stdout == (
        f"pulled 2,345 records in {HUBSPOT_PAGES} pages ({HUBSPOT_PAGES + 3} requests, "
        "2 retries)\n"
        f"wrote {snapshots / 'hubspot_companies.parquet'}\n"
        f"wrote {snapshots / 'hubspot_companies.pull.json'}\n"
    )
    assert result.stderr == ""
    assert sorted(files_under(snapshots)) == [
        "hubspot_companies.parquet",
        "hubspot_companies.pull.json",
    ]
    ids = pl.read_parquet(snapshots / "hubspot_companies.parquet")["id"].to_list()
    assert ids == [str(10_000 + i) for i in range(N_COMPANIES)]
    meta = json.loads((snapshots / "hubspot_companies.pull.json").read_text())
    assert (meta["kind"], meta["object"], meta["base_url"]) == (
        "hubspot",
        "companies",
        crm.base_url,
    )
    assert (meta["records"], meta["pages"], meta["retries"]) == (N_COMPANIES, HUBSPOT_PAGES, 2)
    assert meta["source"] == str(source)
    assert meta["snapshot"] == "hubspot_companies.parquet"
    assert_no_token(result, tmp_path)


def test_salesforce_pull_to_an_explicit_path(crm: FakeCRM, tmp_path: Path) -> None:
    crm.fail("Account:600", "500", "503")
    source = local_copy(tmp_path, "salesforce_api.toml", crm.base_url)
    out = tmp_path / "2026-11" / "accounts.parquet"

    result = invoke("pull", "--source", source, "--out", out)

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"pulled 2,345 records in {SALESFORCE_PAGES} pages ({SALESFORCE_PAGES + 2} requests, "
        "2 retries)\n"
        f"wrote {out}\n"
        f"wrote {out.with_name('accounts.pull.json')}\n"
    )
    ids = pl.read_parquet(out)["Id"].to_list()
    assert ids == [f"001{i:015d}" for i in range(N_ACCOUNTS)]
    assert not (tmp_path / "snapshots").exists()  # --out replaces the file's default
    meta = json.loads(out.with_name("accounts.pull.json").read_text())
    assert meta["request"]["soql"].startswith("SELECT Id, Name, Website, Type")
    assert_no_token(result, tmp_path)


def test_hubspot_401_is_one_paragraph_and_keeps_the_previous_snapshot(
    crm: FakeCRM, tmp_path: Path
) -> None:
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    assert invoke("pull", "--source", source).exit_code == 0
    before = files_under(tmp_path / "snapshots")

    crm.fail("companies:1200", "401")  # the token expires half-way; the server echoes it
    result = invoke("pull", "--source", source)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: hubspot refused the token (HTTP 401) at {crm.base_url}/crm/v3/objects/"
        "companies: check that HUBSPOT_TOKEN holds a valid, unexpired token with read access "
        "to companies (The token [token] has expired)\n"
    )
    assert "Traceback" not in result.output
    assert files_under(tmp_path / "snapshots") == before  # byte-identical, no temporaries
    assert_no_token(result, tmp_path)


def test_salesforce_401_and_a_failed_pull_keep_the_previous_snapshot(
    crm: FakeCRM, tmp_path: Path
) -> None:
    source = local_copy(tmp_path, "salesforce_api.toml", crm.base_url, max_attempts=2)
    out = tmp_path / "accounts.parquet"
    assert invoke("pull", "--source", source, "--out", out).exit_code == 0
    before = files_under(tmp_path)

    crm.fail("Account:400", "401")
    refused = invoke("pull", "--source", source, "--out", out)
    crm.fail("Account:2000", "500", "500")  # more failures than max_attempts allows
    gave_up = invoke("pull", "--source", source, "--out", out)

    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"Error: salesforce refused the token (HTTP 401) at {crm.base_url}/services/data/"
        "v61.0/query/Account-400: check that SALESFORCE_TOKEN holds a valid, unexpired token "
        "with read access to Account (The token [token] has expired)\n"
    )
    assert (gave_up.exit_code, gave_up.stdout) == (1, "")
    assert gave_up.stderr == (
        f"Error: giving up on {crm.base_url}/services/data/v61.0/query/Account-2000 after "
        "2 attempts; last error: HTTP 500\n"
    )
    assert files_under(tmp_path) == before
    assert_no_token(refused, tmp_path)


def test_unset_token_variable_is_a_usage_error(
    crm: FakeCRM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUBSPOT_TOKEN")
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    result = invoke("pull", "--source", source)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: environment variable HUBSPOT_TOKEN is not set (api.token_env in {source}): "
        "export the access token there\n"
    )
    assert crm.requests == []


def test_pull_needs_an_api_source_file(tmp_path: Path) -> None:
    source = tmp_path / "export.toml"
    source.write_text(
        textwrap.dedent(
            """\
            role = "crm"
            [input]
            path = "accounts.csv"
            [columns]
            account_id = "Id"
            name = "Name"
            domain = "Website"
            status = "Type"
            """
        )
    )
    result = invoke("pull", "--source", source)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: source file {source} has no [api] table: there is nothing to pull\n"
    )
    missing = invoke("pull")
    assert missing.exit_code == 2 and "Missing option '--source'" in missing.stderr


# --- build from a pulled snapshot -------------------------------------------------------------

RULES = """\
[[segments]]
name = "core"
[segments.include]
employees = { min = 1 }
[[segments.score]]
label = "staffed"
when = { employees = { min = 1 } }
points = 1
[[segments.tiers]]
name = "Tier 1"
min_score = 1
"""


def test_a_pulled_snapshot_feeds_build(crm: FakeCRM, tmp_path: Path) -> None:
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    assert invoke("pull", "--source", source).exit_code == 0
    # In the loopback CRM: 10000 "Company 0" is a customer without a domain, 10001 an
    # opportunity at company1.com, 10002 a lead at company2.com, 10003 an evangelist
    # (a customer) at company3.com; every fourth company's country is "Narnia".
    companies = tmp_path / "companies.csv"
    pl.DataFrame(
        {
            "company_id": ["c0", "c1", "c2", "c3", "c9"],
            "name": ["Company 0", "Company One", "Company Two", "Company Three", "Quiet Ltd"],
            "domain": ["other.example", "company1.com", "www.company2.com", "company3.com", "q.io"],
            "employees": [50, 50, 50, 50, 50],
        }
    ).write_csv(companies)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    out = tmp_path / "out"

    result = invoke(
        "build",
        "--companies",
        companies,
        "--rules",
        rules,
        "--crm",
        source,
        "--as-of",
        "2026-11-01",
        "--out",
        out,
    )

    assert result.exit_code == 0, result.output
    listed = pl.read_parquet(out / "core.parquet")
    assert listed.select("company_id", "crm_account_id", "crm_match_method").rows() == [
        ("c2", "10002", "domain"),
        ("c9", None, None),
    ]
    suppressed = pl.read_csv(out / "suppressed.csv", infer_schema=False)
    assert suppressed.select("company_id", "crm_account_id", "crm_status", "crm_match_method").sort(
        "company_id"
    ).rows() == [
        ("c0", "10000", "customer", "name"),
        ("c1", "10001", "open_opportunity", "domain"),
        ("c3", "10003", "customer", "domain"),
    ]
    summary = json.loads((out / "summary.json").read_text())
    crm_input = summary["inputs"]["crm"]
    assert crm_input["path"] == str(source)
    assert crm_input["rows"] == N_COMPANIES
    assert crm_input["bad_values"] == {"country": N_COMPANIES // 4}
    assert summary["inputs"]["companies"]["bad_values"] == {}  # checked too, all readable
    assert result.stderr == (
        f"warning: crm input {source}: 586 values of `country` could not be read and are "
        "treated as empty, e.g. 'Narnia'\n"
    )


def test_the_raw_snapshot_is_not_a_crm_table(crm: FakeCRM, tmp_path: Path) -> None:
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    assert invoke("pull", "--source", source).exit_code == 0
    snapshot = tmp_path / "snapshots" / "hubspot_companies.parquet"
    pl.DataFrame(
        {"company_id": ["c1"], "name": ["A"], "domain": ["a.io"], "employees": [5]}
    ).write_parquet(tmp_path / "companies.parquet")
    (tmp_path / "rules.toml").write_text(RULES)
    result = invoke(
        "build",
        "--companies",
        tmp_path / "companies.parquet",
        "--rules",
        tmp_path / "rules.toml",
        "--crm",
        snapshot,
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: crm file {snapshot} lacks required column(s) account_id, status; it has: id, "
    )


# --- bad values from a source file reach summary.json and stderr ----------------------------


def test_unreadable_values_are_counted_in_the_summary_and_warned(tmp_path: Path) -> None:
    (tmp_path / "vendor.csv").write_text(
        textwrap.dedent(
            """\
            id,name,website,size,country
            v1,Alpha,https://www.alpha.io/about,51-200,united states
            v2,Beta,beta.io,lots,GBR
            v3,Gamma,http://gamma.io,"10,001+",Narnia
            v4,Delta,delta.io,,DE
            v5,Epsilon,epsilon.io,a few,Germany
            """
        )
    )
    (tmp_path / "vendor.toml").write_text(
        textwrap.dedent(
            """\
            role = "companies"
            [input]
            path = "vendor.csv"
            [columns]
            company_id = "id"
            name = "name"
            domain = { from = "website", normalise = "domain" }
            employees = { from = "size", normalise = "band" }
            country = { from = "country", normalise = "country" }
            """
        )
    )
    (tmp_path / "rules.toml").write_text(
        RULES.replace("employees = { min = 1 }", 'country = ["US", "GB", "DE"]')
    )
    out = tmp_path / "out"
    result = invoke(
        "build",
        "--companies",
        tmp_path / "vendor.toml",
        "--rules",
        tmp_path / "rules.toml",
        "--as-of",
        "2026-11-01",
        "--out",
        out,
    )

    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    # "lots" and "a few" are no band; "Narnia" no country; an empty size is missing, not bad.
    assert summary["inputs"]["companies"]["bad_values"] == {"employees": 2, "country": 1}
    assert summary["inputs"]["companies"]["rows"] == 5
    where = tmp_path / "vendor.toml"
    assert result.stderr == (
        f"warning: companies input {where}: 2 values of `employees` could not be read and "
        "are treated as empty, e.g. 'lots', 'a few'\n"
        f"warning: companies input {where}: 1 value of `country` could not be read and is "
        "treated as empty, e.g. 'Narnia'\n"
        "warning: no CRM: customers and open opportunities cannot be suppressed, so the lists "
        "may include them; pass --crm (or set [inputs] crm)\n"
    )
    assert summary["inputs"]["companies"]["bad_value_examples"] == {
        "employees": ["lots", "a few"],
        "country": ["Narnia"],
    }
    listed = pl.read_parquet(out / "core.parquet").sort("company_id")
    assert listed.select("company_id", "employees", "country").rows() == [
        ("v1", 51, "US"),
        ("v2", None, "GB"),
        ("v4", None, "DE"),
        ("v5", None, "DE"),
    ]


def test_a_pull_replaces_its_own_snapshot_and_no_other_file(crm: FakeCRM, tmp_path: Path) -> None:
    source = local_copy(tmp_path, "salesforce_api.toml", crm.base_url)
    out = tmp_path / "accounts.parquet"
    assert invoke("pull", "--source", source, "--out", out).exit_code == 0
    meta = json.loads(out.with_name("accounts.pull.json").read_text())
    assert meta["format"] == "listbuilder-pull/1"
    again = invoke("pull", "--source", source, "--out", out)
    assert again.exit_code == 0, again.output
    # a parquet file of the user's own, with no pull metadata beside it
    mine = tmp_path / "mine.parquet"
    pl.DataFrame({"Id": ["x"]}).write_parquet(mine)
    before = files_under(tmp_path)
    refused = invoke("pull", "--source", source, "--out", mine)
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr == (
        f"Error: {mine} is not a snapshot written by listbuilder pull (no mine.pull.json beside "
        "it describes it); choose another output path (--out) or remove it yourself\n"
    )
    assert files_under(tmp_path) == before
    # a snapshot changed by hand since its pull
    pl.DataFrame({"Id": ["edited"]}).write_parquet(out)
    before = files_under(tmp_path)
    refused = invoke("pull", "--source", source, "--out", out)
    assert refused.exit_code == 2
    assert f"Error: {out} was changed since listbuilder pulled it" in refused.stderr
    assert files_under(tmp_path) == before
