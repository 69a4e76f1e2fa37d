"""``crm_api.pull`` against a real HTTP server on loopback that pages like HubSpot and
Salesforce and fails on cue: 429 with Retry-After, 500 then success, a connection dropped
mid-page, a reset, a slow answer, a 401. Thousands of records over many pages; nothing may
be lost, duplicated or leak the token."""

from __future__ import annotations

import json
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
import requests

from listbuilder.crm_api import PullError, _retry_after, pull
from listbuilder.errors import ConfigError
from listbuilder.sourcedefs import bad_value_counts, open_source

SOURCES = Path(__file__).resolve().parent.parent / "sources"
TOKEN = "pat-na1-7c0ffee0-dead-beef-0000-123456789abc"
N_COMPANIES = 2_345
N_DEALS = 1_234
N_ACCOUNTS = 2_345
N_OPPORTUNITIES = 777
SF_BATCH = 200
STAGES = ["customer", "opportunity", "lead", "evangelist", "", "1234567"]


def company(i: int) -> dict[str, Any]:
    return {
        "id": str(10_000 + i),
        "properties": {
            "name": f"Company {i}",
            "domain": f"company{i}.com" if i % 7 else None,
            "website": f"https://www.company{i}.com/" if i % 5 else None,
            "lifecyclestage": STAGES[i % len(STAGES)] or None,
            "country": ["United States", "GB", "DEU", "Narnia"][i % 4],
            "industry": "COMPUTER_SOFTWARE",
            "numberofemployees": str(10 + i),
            "annualrevenue": None if i % 3 else f"{i * 1000}.5",
            "hs_object_id": str(10_000 + i),
        },
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-02-01T00:00:00Z",
        "archived": False,
    }


def deal(i: int) -> dict[str, Any]:
    closed = i % 3 != 0
    record = {
        "id": str(50_000 + i),
        "properties": {
            "dealname": f"Deal {i}",
            "amount": str(1000 * i),
            "createdate": "2024-01-05T10:00:00.000Z",
            "closedate": "2024-03-31T12:00:00Z",
            "dealstage": "closedwon" if closed and i % 2 else "appointmentscheduled",
            "pipeline": "default",
            "hs_is_closed": "true" if closed else "false",
            "hs_is_closed_won": "true" if closed and i % 2 else "false",
        },
    }
    if i % 10:
        company_id = str(10_000 + i % N_COMPANIES)
        record["associations"] = {
            "companies": {
                "results": [
                    {"id": company_id, "type": "deal_to_company_unlabeled"},
                    {"id": company_id, "type": "deal_to_company"},
                ]
            }
        }
    return record


def account(i: int) -> dict[str, Any]:
    return {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v61.0/sobjects/Account/001{i:015d}",
        },
        "Id": f"001{i:015d}",
        "Name": f"Account {i}",
        "Website": f"http://account{i}.example.org" if i % 4 else None,
        "Type": ["Customer - Direct", "Prospect", "Technology Partner", None][i % 4],
        "Industry": "Technology",
        "NumberOfEmployees": 50 + i,
        "AnnualRevenue": float(i * 1000) if i % 2 else 1.5e6,
        "BillingCountry": ["United States", "UK", "France", None][i % 4],
    }


def opportunity(i: int) -> dict[str, Any]:
    return {
        "attributes": {
            "type": "Opportunity",
            "url": f"/services/data/v61.0/sobjects/Opportunity/006{i:015d}",
        },
        "Id": f"006{i:015d}",
        "AccountId": f"001{i % N_ACCOUNTS:015d}",
        "Name": f"Opportunity {i}",
        "StageName": "Closed Won" if i % 2 else "Closed Lost",
        "Amount": 1000.0 * i,
        "CreatedDate": "2024-01-05T10:00:00.000+0000",
        "CloseDate": "2024-03-31",
        "IsClosed": True,
        "IsWon": bool(i % 2),
    }


class FakeCRM:
    """The server's state: records, scripted failures per page, and a request log."""

    def __init__(self) -> None:
        self.hubspot = {
            "companies": [company(i) for i in range(N_COMPANIES)],
            "deals": [deal(i) for i in range(N_DEALS)],
        }
        self.salesforce = {
            "Account": [account(i) for i in range(N_ACCOUNTS)],
            "Opportunity": [opportunity(i) for i in range(N_OPPORTUNITIES)],
        }
        self.failures: dict[str, list[str]] = {}
        self.requests: list[str] = []
        self.soql: list[str] = []
        self.token = TOKEN
        self.lock = threading.Lock()
        self.base_url = ""
        self.next_host = ""

    def fail(self, key: str, *actions: str) -> None:
        self.failures.setdefault(key, []).extend(actions)

    def action(self, key: str) -> str | None:
        with self.lock:
            queue = self.failures.get(key)
            return queue.pop(0) if queue else None


class Handler(BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the request log instead."""

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def misbehave(self, action: str, body: Any) -> None:
        if action == "429":
            self.send_json(
                429, {"message": "You have reached your secondly limit."}, {"Retry-After": "7"}
            )
        elif action == "500":
            self.send_json(500, {"message": "internal error"})
        elif action == "503":
            self.send_json(503, {"message": "unavailable"})
        elif action == "drop":
            # Headers promise the whole page; half of it arrives, then the line goes dead.
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif action == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif action == "slow":
            time.sleep(1.3)  # past the client's read timeout (1 s)
            self.send_json(200, body)
        elif action == "401":
            self.send_json(401, {"message": f"The token {self.server.crm.token} has expired"})
        elif action == "400":
            self.send_json(
                400, [{"message": "unexpected token: FORM", "errorCode": "MALFORMED_QUERY"}]
            )
        else:  # pragma: no cover - a typo in a test
            raise AssertionError(action)

    def do_GET(self) -> None:
        crm: FakeCRM = self.server.crm
        with crm.lock:
            crm.requests.append(self.path)
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if self.headers.get("Authorization") != f"Bearer {crm.token}":
            self.send_json(
                401, {"status": "error", "message": "Authentication credentials not found."}
            )
            return
        if parts.path.startswith("/crm/v3/objects/"):
            self.hubspot(crm, parts.path.rsplit("/", 1)[1], query)
        elif parts.path.startswith("/services/data/v61.0/query"):
            self.salesforce(crm, parts.path, query)
        else:
            self.send_json(404, {"message": "not found"})

    def hubspot(self, crm: FakeCRM, obj: str, query: dict[str, str]) -> None:
        records = crm.hubspot[obj]
        start = int(query.get("after", "0"))
        limit = min(int(query["limit"]), 100)
        props = query["properties"].split(",")
        page = []
        for r in records[start : start + limit]:
            item = {"id": r["id"], "properties": {p: r["properties"].get(p) for p in props}}
            if "associations" in query and "associations" in r:
                item["associations"] = r["associations"]
            page.append(item)
        body: dict[str, Any] = {"results": page}
        if start + limit < len(records):
            body["paging"] = {"next": {"after": str(start + limit), "link": "ignored"}}
        action = crm.action(f"{obj}:{start}")
        if action:
            self.misbehave(action, body)
        else:
            self.send_json(200, body)

    def salesforce(self, crm: FakeCRM, path: str, query: dict[str, str]) -> None:
        if path.endswith("/query"):
            soql = query["q"]
            crm.soql.append(soql)
            obj = re.search(r"\bFROM (\w+)", soql).group(1)  # type: ignore[union-attr]
            start = 0
        else:
            obj, _, offset = path.rsplit("/", 1)[1].partition("-")
            start = int(offset)
        records = crm.salesforce[obj]
        page = records[start : start + SF_BATCH]
        done = start + SF_BATCH >= len(records)
        body: dict[str, Any] = {"totalSize": len(records), "done": done, "records": page}
        if not done:
            body["nextRecordsUrl"] = (
                f"{crm.next_host}/services/data/v61.0/query/{obj}-{start + SF_BATCH}"
            )
        action = crm.action(f"{obj}:{start}")
        if action:
            self.misbehave(action, body)
        else:
            self.send_json(200, body)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that timed out leaves the slow handler a closed socket."""


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCRM]:
    fake = FakeCRM()
    server = Server(("127.0.0.1", 0), Handler)
    server.crm = fake  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HUBSPOT_TOKEN", TOKEN)
    monkeypatch.setenv("SALESFORCE_TOKEN", TOKEN)
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.trust_env = False  # no proxy from the environment between us and loopback
        yield s


def local_copy(tmp_path: Path, name: str, base_url: str, **api: Any) -> Path:
    """A shipped API source file pointed at the loopback server, with short timeouts,
    written to ``tmp_path/sources/`` (so its ``../snapshots/`` path stays in ``tmp_path``)."""
    text = (SOURCES / name).read_text(encoding="utf-8")
    text = re.sub(r'base_url = "[^"]*"', f'base_url = "{base_url}"', text)
    extra = {"connect_timeout": 2, "read_timeout": 1, "max_attempts": 4, **api}
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in extra.items())
    text = text.replace("[api]\n", f"[api]\n{lines}\n")
    path = tmp_path / "sources" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


class Sleeps(list):
    """Records the backoff delays instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


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
    assert result.requests == len(crm.requests) == pages + 6
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
    assert all("associations=companies" in r for r in crm.requests)
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
    assert len(crm.requests) - before == 13  # twelve pages, then one 401: no retries
    assert out.read_bytes() == good
    assert out.with_name("companies.pull.json").read_bytes() == good_meta
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "companies.parquet",
        "companies.pull.json",
        "sources",
    ]


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
    assert len(crm.requests) == 2 + 3
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
    monkeypatch.setattr("listbuilder.crm_api.MAX_RETRY_AFTER", 5.0)
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
        "account1.example.org",
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
