"""``crm_api.pull`` against a real HTTP server on loopback that pages like HubSpot and
Salesforce and fails on cue: 429 with Retry-After, 500 then success, a connection dropped
mid-page, a reset, a slow answer, a 401. Thousands of records over many pages; nothing may
be lost, duplicated or leak the token. The server is ``tests/crm_server.py``."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import requests

from listbuilder.errors import ConfigError
from listbuilder.inputs import PullError, bad_value_counts, open_source, pull
from listbuilder.inputs.http import retry_after as _retry_after
from tests.crm_server import (
    N_ACCOUNTS,
    N_COMPANIES,
    N_DEALS,
    N_OPPORTUNITIES,
    SF_BATCH,
    SOURCES,
    TOKEN,
    FakeCRM,
    Sleeps,
    local_copy,
    serving,
)


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCRM]:
    monkeypatch.setenv("HUBSPOT_TOKEN", TOKEN)
    monkeypatch.setenv("SALESFORCE_TOKEN", TOKEN)
    with serving() as fake:
        yield fake


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.trust_env = False  # no proxy from the environment between us and loopback
        yield s


def snapshot(result_out: Path) -> pl.DataFrame:
    return pl.read_parquet(result_out)


# --- HubSpot ------------------------------------------------------------------------------


def test_hubspot_companies_survive_every_failure(
    crm: FakeCRM, session: requests.Session, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    crm.fail("companies:0", "429")
    crm.fail("companies:300", "500")
    crm.fail("companies:700", "drop")
    crm.fail("companies:1100", "reset", "503")
    crm.fail("companies:1500", "slow")
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    out = tmp_path / "snap" / "hubspot_companies.parquet"
    sleeps = Sleeps()
    caplog.set_level(logging.DEBUG)

    result = pull(source, out, session=session, sleep=sleeps, rng=random.Random(7))

    pages = -(-N_COMPANIES // 100)
    assert (result.records, result.pages, result.duplicates_skipped) == (N_COMPANIES, pages, 0)
    assert result.retries == 6
    assert result.requests == len(crm.requests) == pages + 6 + 1  # and the property check
    assert len(sleeps) == 6
    assert sleeps[0] >= 7  # Retry-After honoured
    assert all(0 <= s <= 60 for s in sleeps)

    df = snapshot(out)
    assert df["id"].to_list() == [
        str(10_000 + i) for i in range(N_COMPANIES)
    ]  # none lost, none twice
    assert df.columns[0] == "id" and "lifecyclestage" in df.columns
    row = df.row(15, named=True)
    assert row["name"] == "Company 15" and row["domain"] == "company15.com"

    meta = json.loads(result.metadata.read_text())
    assert meta["records"] == N_COMPANIES and meta["kind"] == "hubspot"
    assert meta["request"]["path"] == "/crm/v3/objects/companies"
    assert meta["base_url"] == crm.base_url
    assert {p.name for p in out.parent.iterdir()} == {
        "hubspot_companies.parquet",
        "hubspot_companies.pull.json",
    }

    # The snapshot reads through the same source file as the crm input.
    crm_source = open_source(source, "crm", data=out)
    accounts = crm_source.frame.collect()
    assert accounts.height == N_COMPANIES
    by_id = {r["account_id"]: r for r in accounts.iter_rows(named=True)}
    assert by_id["10000"]["status"] == "customer"
    assert by_id["10001"]["status"] == "open_opportunity"
    assert by_id["10002"]["status"] == "prospect"
    assert by_id["10004"]["status"] is None
    assert by_id["10001"]["domain"] == "company1.com"
    assert by_id["10000"]["domain"] is None  # neither domain nor website
    assert by_id["10007"]["domain"] == "company7.com"  # from website: no domain property
    assert by_id["10001"]["country"] == "GB"
    assert bad_value_counts(crm_source)["country"] == N_COMPANIES // 4  # Narnia

    # The token appears nowhere: not in the files, not in the log.
    for path in out.parent.iterdir():
        assert TOKEN.encode() not in path.read_bytes()
    assert TOKEN not in caplog.text
    assert "retry" in caplog.text


def test_hubspot_deals_with_associations(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    source = local_copy(tmp_path, "hubspot_deals_api.toml", crm.base_url)
    out = tmp_path / "deals.parquet"
    result = pull(source, out, session=session, sleep=Sleeps())
    assert result.records == N_DEALS
    assert crm.requests[0] == "/crm/v3/properties/deals"  # names checked before paging
    assert all("associations=companies" in r for r in crm.requests[1:])
    df = open_source(source, "opportunities", data=out).frame.collect()
    assert df["opportunity_id"].n_unique() == N_DEALS
    by_id = {r["opportunity_id"]: r for r in df.iter_rows(named=True)}
    first = by_id["50001"]
    assert first["account_id"] == "10001"
    assert (first["is_closed"], first["is_won"]) == (True, True)
    assert by_id["50000"]["account_id"] is None  # no association
    assert by_id["50003"]["is_closed"] is False
    assert str(first["close_date"]) == "2024-03-31"
    snap = pl.read_parquet(out)
    assert snap.schema["associations.companies"] == pl.List(pl.String)
    assert snap.filter(pl.col("id") == "50001")["associations.companies"].to_list() == [["10001"]]


def test_a_401_fails_clearly_and_keeps_the_good_snapshot(
    crm: FakeCRM, session: requests.Session, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    out = tmp_path / "companies.parquet"
    pull(source, out, session=session, sleep=Sleeps())
    good = out.read_bytes()
    good_meta = out.with_name("companies.pull.json").read_bytes()
    caplog.set_level(logging.DEBUG)

    crm.fail("companies:1200", "401")  # the token expires half-way through
    before = len(crm.requests)
    with pytest.raises(PullError) as info:
        pull(source, out, session=session, sleep=Sleeps())
    message = str(info.value)
    assert "HTTP 401" in message and "HUBSPOT_TOKEN" in message
    assert TOKEN not in message  # even though the server echoed it
    assert TOKEN not in caplog.text
    # The property check, twelve pages, then one 401: no retries.
    assert len(crm.requests) - before == 14
    assert out.read_bytes() == good
    assert out.with_name("companies.pull.json").read_bytes() == good_meta
    # Beside them only the twelve pages that arrived, kept for the next pull to resume from.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".companies.parquet.partial",
        "companies.parquet",
        "companies.pull.json",
        "sources",
    ]
    assert len(list((tmp_path / ".companies.parquet.partial").glob("page-*.parquet"))) == 12


def test_a_wrong_token_is_refused(
    crm: FakeCRM, session: requests.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBSPOT_TOKEN", "not-the-token")
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    with pytest.raises(PullError, match="refused the token \\(HTTP 401\\)"):
        pull(source, tmp_path / "x.parquet", session=session, sleep=Sleeps())
    assert not (tmp_path / "x.parquet").exists()


def test_retries_are_bounded(crm: FakeCRM, session: requests.Session, tmp_path: Path) -> None:
    crm.fail("companies:200", "500", "500", "500", "500", "500")
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url, max_attempts=3)
    sleeps = Sleeps()
    with pytest.raises(
        PullError,
        match=r"giving up on .*/crm/v3/objects/companies after 3 attempts; last error: HTTP 500",
    ):
        pull(source, tmp_path / "x.parquet", session=session, sleep=sleeps)
    assert len(crm.requests) == 1 + 2 + 3  # the property check, two pages, three tries
    assert len(sleeps) == 2
    assert not (tmp_path / "x.parquet").exists()


def test_backoff_is_exponential_with_seeded_jitter(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    crm.fail("companies:0", "500", "500", "500")
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    sleeps = Sleeps()
    pull(source, tmp_path / "x.parquet", session=session, sleep=sleeps, rng=random.Random(42))
    expected = random.Random(42)
    assert sleeps == [expected.uniform(0, 1), expected.uniform(0, 2), expected.uniform(0, 4)]


def test_a_retry_after_too_long_is_an_error(
    crm: FakeCRM, session: requests.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    crm.fail("companies:0", "429")
    monkeypatch.setattr("listbuilder.inputs.http.MAX_RETRY_AFTER", 5.0)
    with pytest.raises(PullError, match="asked to wait 7 s"):
        pull(source, tmp_path / "x.parquet", session=session, sleep=Sleeps())


def test_unset_token_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBSPOT_TOKEN", raising=False)
    source = local_copy(tmp_path, "hubspot_api.toml", "http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="HUBSPOT_TOKEN is not set"):
        pull(source, tmp_path / "x.parquet", sleep=Sleeps())


def test_export_definitions_cannot_be_pulled(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="has no \\[api\\] table"):
        pull(SOURCES / "pdl.toml", tmp_path / "x.parquet")


def test_default_out_path_and_session(
    crm: FakeCRM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    result = pull(source, sleep=Sleeps())  # its own session, closed at the end
    assert result.out == tmp_path / "snapshots" / "hubspot_companies.parquet"
    assert result.out.is_file()
    # With the snapshot where the file says, the definition reads it with no data path.
    assert open_source(source, "crm").frame.collect().height == N_COMPANIES


# --- Salesforce ---------------------------------------------------------------------------


def test_salesforce_accounts_follow_next_records_url(
    crm: FakeCRM, session: requests.Session, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    crm.fail("Account:0", "429")
    crm.fail("Account:400", "500")
    crm.fail("Account:1000", "drop", "reset")
    crm.fail("Account:2200", "slow")
    caplog.set_level(logging.DEBUG)
    source = local_copy(tmp_path, "salesforce_api.toml", crm.base_url)
    out = tmp_path / "accounts.parquet"
    sleeps = Sleeps()

    result = pull(source, out, session=session, sleep=sleeps, rng=random.Random(1))

    pages = -(-N_ACCOUNTS // SF_BATCH)
    assert (result.records, result.pages, result.retries) == (N_ACCOUNTS, pages, 5)
    assert result.requests == len(crm.requests) == pages + 5
    assert sleeps[0] >= 7
    assert crm.soql[0] == (
        "SELECT Id, Name, Website, Type, Industry, NumberOfEmployees, AnnualRevenue, "
        "BillingCountry FROM Account"
    )
    assert all(
        r.startswith("/services/data/v61.0/query/Account-")
        for r in crm.requests[1:]
        if "?" not in r
    )
    df = pl.read_parquet(out)
    assert df["Id"].to_list() == [f"001{i:015d}" for i in range(N_ACCOUNTS)]
    assert set(df.schema.values()) == {pl.String}
    assert df["NumberOfEmployees"][3] == "53"
    assert df["AnnualRevenue"][:2].to_list() == ["1500000", "1000"]

    crm_df = open_source(source, "crm", data=out).frame.collect()
    first = crm_df.row(0, named=True)
    assert (first["status"], first["domain"], first["country"]) == ("customer", None, "US")
    second = crm_df.row(1, named=True)
    assert (second["status"], second["domain"], second["country"]) == (
        "prospect",
        "account1.com",
        "GB",
    )
    assert crm_df.row(2, named=True)["status"] == "partner"
    assert crm_df["annual_revenue"][0] == 1_500_000.0

    assert TOKEN not in caplog.text
    assert TOKEN.encode() not in out.read_bytes()
    meta = json.loads(result.metadata.read_text())
    assert meta["request"]["soql"].endswith("FROM Account")


def test_salesforce_closed_opportunities(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    source = local_copy(tmp_path, "salesforce_opportunities_api.toml", crm.base_url)
    out = tmp_path / "opps.parquet"
    result = pull(source, out, session=session, sleep=Sleeps())
    assert result.records == N_OPPORTUNITIES
    assert crm.soql[0].endswith("FROM Opportunity WHERE IsClosed = true")
    df = open_source(source, "opportunities", data=out).frame.collect()
    assert df["opportunity_id"].n_unique() == N_OPPORTUNITIES
    row = df.row(1, named=True)
    assert (row["is_closed"], row["is_won"], row["amount"]) == (True, True, 1000.0)
    assert str(row["created_date"]) == "2024-01-05" and str(row["close_date"]) == "2024-03-31"


def test_salesforce_never_sends_the_token_to_another_host(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    crm.next_host = "https://elsewhere.example"
    source = local_copy(tmp_path, "salesforce_api.toml", crm.base_url)
    with pytest.raises(PullError, match="refusing to follow a link to another host"):
        pull(source, tmp_path / "x.parquet", session=session, sleep=Sleeps())
    assert len(crm.requests) == 1


def test_salesforce_query_errors_are_reported(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    crm.fail("Account:0", "400")
    source = local_copy(tmp_path, "salesforce_api.toml", crm.base_url)
    with pytest.raises(
        PullError, match=r"HTTP 400 from .*/query: MALFORMED_QUERY unexpected token: FORM"
    ):
        pull(source, tmp_path / "x.parquet", session=session, sleep=Sleeps())
    assert len(crm.requests) == 1


def test_retry_after_forms() -> None:
    assert _retry_after("7") == 7.0
    assert _retry_after(None) == 0.0
    assert _retry_after("soon") == 0.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    future = time.time() + 30
    stamp = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(future))
    assert 25 <= _retry_after(stamp) <= 31
