"""A pull fit for a monthly schedule: incremental pulls with deletions, resuming after a
failure, the Salesforce refresh-token flow and API-limit 403, HubSpot property names
checked before paging, and pacing by HubSpot's rate-limit headers. Against the loopback
CRM of ``tests/crm_server.py``."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import requests

from listbuilder.errors import ConfigError
from listbuilder.inputs import PullError, pull
from tests.crm_server import (
    N_ACCOUNTS,
    N_COMPANIES,
    TOKEN,
    FakeCRM,
    Sleeps,
    local_copy,
    modified,
    serving,
)


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCRM]:
    monkeypatch.setenv("HUBSPOT_TOKEN", TOKEN)
    monkeypatch.setenv("SALESFORCE_TOKEN", TOKEN)
    for name in ("SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET", "SALESFORCE_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with serving() as fake:
        yield fake


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def stamp_meta(out: Path, when: str) -> None:
    """Say the previous pull started at ``when`` (the watermark of the next incremental)."""
    meta_path = out.with_name(f"{out.stem}.pull.json")
    meta = json.loads(meta_path.read_text())
    meta["started_at"] = when
    meta_path.write_text(json.dumps(meta))


def _pulled_full(
    crm: FakeCRM, session: requests.Session, tmp_path: Path, stamp: str
) -> tuple[Path, Path]:
    """A full HubSpot pull into ``companies.parquet``, recorded as made at ``stamp``."""
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    out = tmp_path / "companies.parquet"
    pull(source, out, session=session, sleep=Sleeps())
    stamp_meta(out, stamp)
    return source, out


def test_hubspot_incremental_merges_changes_and_removes_deletions(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    source, out = _pulled_full(crm, session, tmp_path, "2024-01-02T00:00:00Z")
    companies = crm.hubspot["companies"]
    for i in (5, 6, 7):  # changed on January 3rd
        companies[i]["properties"]["name"] = f"Renamed {i}"
        companies[i]["properties"]["hs_lastmodifieddate"] = modified(i, day=3)
    new = {"id": "99999", "properties": {"name": "Newco", "hs_lastmodifieddate": modified(1, 4)}}
    companies.append(new)
    gone = companies.pop(10)
    crm.archived["companies"] = [
        {"id": gone["id"], "archived": True},
        {"id": "1", "archived": True},
    ]
    crm.requests.clear()

    result = pull(source, out, since_last=True, session=session, sleep=Sleeps())

    assert (result.mode, result.changed, result.deleted) == ("incremental", 4, 1)
    assert any("/search" in r for r in crm.requests)
    df = pl.read_parquet(out)
    assert df.height == N_COMPANIES  # 2,345 - 1 deleted + 1 new
    assert df["id"].n_unique() == df.height
    names = dict(zip(df["id"], df["name"], strict=True))
    assert names["10005"] == "Renamed 5" and names["99999"] == "Newco"
    assert gone["id"] not in names
    deleted = pl.read_parquet(out.with_name("companies.deleted.parquet"))
    assert deleted["key"].to_list() == [gone["id"]]  # id "1" was never in the snapshot
    meta = json.loads(out.with_name("companies.pull.json").read_text())
    assert meta["mode"] == "incremental" and meta["request"]["since"] == "2024-01-02T00:00:00Z"


def test_hubspot_archived_pages_that_loop_stop_the_pull(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    source, out = _pulled_full(crm, session, tmp_path, "2024-01-02T00:00:00Z")
    before = out.read_bytes()
    crm.archived["companies"] = [{"id": str(90000 + i), "archived": True} for i in range(250)]
    crm.archived_loops = True
    with pytest.raises(PullError, match="returned the paging cursor '100' twice"):
        pull(source, out, since_last=True, session=session, sleep=Sleeps())
    assert out.read_bytes() == before


def test_hubspot_search_restarts_at_its_result_cap(
    crm: FakeCRM, session: requests.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, out = _pulled_full(crm, session, tmp_path, "2024-01-01T00:00:00Z")
    crm.search_cap = 500  # as HubSpot stops at 10,000: every record changed since then
    monkeypatch.setattr("listbuilder.inputs.crm_pages.SEARCH_CAP", 500)
    for r in crm.hubspot["companies"]:
        r["properties"]["name"] = r["properties"]["name"].upper()
    result = pull(source, out, since_last=True, session=session, sleep=Sleeps())
    assert result.changed == N_COMPANIES
    df = pl.read_parquet(out)
    assert df.height == N_COMPANIES and df["name"].str.starts_with("COMPANY").all()
    assert result.duplicates_skipped > 0  # the records at each restart's time came twice


def test_salesforce_incremental_uses_query_all_and_drops_deleted(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    source = local_copy(tmp_path, "salesforce_api.toml", crm.base_url)
    out = tmp_path / "accounts.parquet"
    pull(source, out, session=session, sleep=Sleeps())
    stamp_meta(out, "2024-01-02T00:00:00Z")
    accounts = crm.salesforce["Account"]
    accounts[3]["Name"] = "Changed"
    accounts[3]["SystemModstamp"] = "2024-01-05T00:00:00.000+0000"
    accounts[4]["IsDeleted"] = True
    accounts[4]["SystemModstamp"] = "2024-01-05T00:00:00.000+0000"
    result = pull(source, out, since_last=True, session=session, sleep=Sleeps())
    assert (result.changed, result.deleted) == (1, 1)
    assert "SystemModstamp > 2024-01-02T00:00:00Z" in crm.soql[-1]
    assert "IsDeleted" in crm.soql[-1]
    df = pl.read_parquet(out)
    assert df.height == N_ACCOUNTS - 1
    assert df.filter(pl.col("Id") == accounts[3]["Id"])["Name"].to_list() == ["Changed"]
    assert accounts[4]["Id"] not in df["Id"].to_list()


def test_since_last_needs_a_previous_pull(crm: FakeCRM, tmp_path: Path) -> None:
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    with pytest.raises(ConfigError, match="--since-last needs a previous pull"):
        pull(source, tmp_path / "none.parquet", since_last=True, sleep=Sleeps())


def test_a_failed_pull_resumes_from_its_last_page(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url, max_attempts=2)
    out = tmp_path / "companies.parquet"
    crm.fail("companies:2000", "500", "500")
    with pytest.raises(PullError, match="giving up"):
        pull(source, out, session=session, sleep=Sleeps())
    assert not out.exists()
    crm.requests.clear()
    result = pull(source, out, session=session, sleep=Sleeps())
    # The property check, then pages 21 to 24 only: the first twenty were kept.
    assert len(crm.requests) == 1 + 4
    assert "after=2000" in crm.requests[1]
    assert result.resumed_pages == 20 and result.pages == 24
    df = pl.read_parquet(out)
    assert df["id"].to_list() == [str(10_000 + i) for i in range(N_COMPANIES)]
    assert not (tmp_path / ".companies.parquet.partial").exists()


def test_a_changed_source_file_starts_afresh(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url, max_attempts=1)
    out = tmp_path / "companies.parquet"
    crm.fail("companies:1000", "500")
    with pytest.raises(PullError):
        pull(source, out, session=session, sleep=Sleeps())
    other = local_copy(tmp_path, "hubspot_api.toml", crm.base_url, page_size=50)
    result = pull(other, out, session=session, sleep=Sleeps())
    assert result.resumed_pages == 0 and result.records == N_COMPANIES


def test_a_mistyped_hubspot_property_is_an_error(crm: FakeCRM, tmp_path: Path) -> None:
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    text = source.read_text().replace('"lifecyclestage"', '"lifecycle_stage"')
    source.write_text(text)
    with pytest.raises(ConfigError, match="did you mean lifecyclestage"):
        pull(source, tmp_path / "x.parquet", sleep=Sleeps())
    assert crm.requests == ["/crm/v3/properties/companies"]  # no page read


def test_salesforce_refresh_token_flow(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    crm.oauth = {"client_id": "cid", "client_secret": "s3cret-value", "refresh_token": "rt-value"}
    source = local_copy(tmp_path, "salesforce_api.toml", crm.base_url)
    env = {
        "SALESFORCE_CLIENT_ID": "cid",
        "SALESFORCE_CLIENT_SECRET": "s3cret-value",
        "SALESFORCE_REFRESH_TOKEN": "rt-value",
    }
    out = tmp_path / "accounts.parquet"
    result = pull(source, out, session=session, sleep=Sleeps(), env=env)
    assert result.records == N_ACCOUNTS
    assert crm.requests[0] == "/services/oauth2/token"
    env["SALESFORCE_REFRESH_TOKEN"] = "expired"
    with pytest.raises(PullError, match="invalid_grant") as info:
        pull(source, out, session=session, sleep=Sleeps(), env=env)
    assert "expired" not in str(info.value) and "s3cret" not in str(info.value)
    del env["SALESFORCE_CLIENT_SECRET"]
    with pytest.raises(ConfigError, match="SALESFORCE_CLIENT_SECRET"):
        pull(source, out, session=session, sleep=Sleeps(), env=env)


def test_salesforce_api_limit_403_backs_off(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    source = local_copy(tmp_path, "salesforce_api.toml", crm.base_url)
    crm.fail("Account:0", "sf-limit")
    sleeps = Sleeps()
    result = pull(
        source, tmp_path / "a.parquet", session=session, sleep=sleeps, rng=random.Random(1)
    )
    assert result.records == N_ACCOUNTS and result.retries == 1
    assert sleeps == [30.0]


def test_hubspot_rate_limit_headers_pace_the_next_request(
    crm: FakeCRM, session: requests.Session, tmp_path: Path
) -> None:
    source, out = _pulled_full(crm, session, tmp_path, "2024-01-01T00:00:00Z")
    crm.rate_limit_headers = {
        "X-HubSpot-RateLimit-Remaining": "0",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    }
    sleeps = Sleeps()
    pull(source, out, since_last=True, session=session, sleep=sleeps)
    # Each search page spent the window: the next request waited it out (10 s).
    assert sleeps and set(sleeps) == {10.0}


def test_cli_pull_since_last_says_what_changed(crm: FakeCRM, tmp_path: Path) -> None:
    from tests.conftest import invoke

    source = local_copy(tmp_path, "salesforce_api.toml", crm.base_url)
    out = tmp_path / "accounts.parquet"
    assert invoke(["pull", "--source", str(source), "--out", str(out)]).exit_code == 0
    stamp_meta(out, "2024-01-02T00:00:00Z")
    crm.salesforce["Account"][7]["IsDeleted"] = True
    crm.salesforce["Account"][7]["SystemModstamp"] = "2024-01-09T00:00:00.000+0000"
    result = invoke(["pull", "--source", str(source), "--out", str(out), "--since-last"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("0 records changed and 1 deleted since the previous pull\n")
    assert TOKEN not in result.output


def test_a_pull_that_failed_after_its_last_page_reads_no_page_again(
    crm: FakeCRM, session: requests.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = local_copy(tmp_path, "hubspot_api.toml", crm.base_url)
    out = tmp_path / "companies.parquet"

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched, pytest.raises(OSError):
        patched.setattr("listbuilder.inputs.crm_api._write_full", disk_full)
        pull(source, out, session=session, sleep=Sleeps())
    crm.requests.clear()
    result = pull(source, out, session=session, sleep=Sleeps())
    assert crm.requests == ["/crm/v3/properties/companies"]  # every page was already in
    assert result.records == N_COMPANIES and result.resumed_pages == result.pages == 24
