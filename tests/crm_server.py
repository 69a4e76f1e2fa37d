"""A loopback HTTP server that pages like HubSpot's CRM v3 objects API and Salesforce's
REST query, with thousands of records, and fails on cue: 429 with Retry-After, 500 and
503, a connection dropped mid-page, a reset, a slow answer, a 401 echoing the token, a
400. Shared by the ``crm_api.pull`` tests and the ``listbuilder pull`` CLI tests.

Paging as documented: HubSpot answers ``{"results": [...], "paging": {"next": {"after":
...}}}`` for ``GET /crm/v3/objects/{object}?limit=&properties=&after=``; Salesforce
answers ``{"totalSize", "done", "records", "nextRecordsUrl"}`` for ``GET
/services/data/v61.0/query?q=SOQL`` and for each ``nextRecordsUrl``. A failure is
scripted per page as ``"<object>:<offset>"`` (``crm.fail("companies:300", "500")``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SOURCES = Path(__file__).resolve().parent.parent / "sources"
TOKEN = "pat-na1-7c0ffee0-dead-beef-0000-123456789abc"
N_COMPANIES = 2_345
N_DEALS = 1_234
N_ACCOUNTS = 2_345
N_OPPORTUNITIES = 777
SF_BATCH = 200
STAGES = ["customer", "opportunity", "lead", "evangelist", "", "1234567"]


def modified(i: int, day: int = 1) -> str:
    """A modification time: record i was last changed i minutes into January ``day``."""
    return f"2024-01-{day:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00.000Z"


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
            "hs_lastmodifieddate": modified(i),
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
        "Website": f"http://www.account{i}.com/about" if i % 4 else None,
        "Type": ["Customer - Direct", "Prospect", "Technology Partner", None][i % 4],
        "Industry": "Technology",
        "NumberOfEmployees": 50 + i,
        "AnnualRevenue": float(i * 1000) if i % 2 else 1.5e6,
        "BillingCountry": ["United States", "UK", "France", None][i % 4],
        "SystemModstamp": modified(i).replace("Z", "+0000"),
        "IsDeleted": False,
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


def epoch_ms(value: str) -> int:
    """ISO time (Z or +0000) or epoch milliseconds, as epoch milliseconds."""
    if value.isdigit():
        return int(value)
    value = value.replace("Z", "+00:00").replace("+0000", "+00:00")
    return int(dt.datetime.fromisoformat(value).timestamp() * 1000)


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
        # HubSpot archived records (id, archivedAt); Salesforce deletions set IsDeleted.
        self.archived: dict[str, list[dict[str, Any]]] = {"companies": [], "deals": []}
        self.archived_loops = False
        self.oauth: dict[str, str] = {}
        self.rate_limit_headers: dict[str, str] = {}
        self.views: dict[str, list[dict[str, Any]]] = {}
        self.search_cap = 10_000
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
        elif action == "sf-limit":
            self.send_json(
                403,
                [
                    {
                        "message": "TotalRequests Limit exceeded.",
                        "errorCode": "REQUEST_LIMIT_EXCEEDED",
                    }
                ],
            )
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
        if parts.path.startswith("/crm/v3/properties/"):
            self.properties(crm, parts.path.rsplit("/", 1)[1])
        elif parts.path.startswith("/crm/v3/objects/") and query.get("archived") == "true":
            self.archived(crm, parts.path.rsplit("/", 1)[1], query)
        elif parts.path.startswith("/crm/v3/objects/"):
            self.hubspot(crm, parts.path.rsplit("/", 1)[1], query)
        elif parts.path.startswith(("/services/data/v61.0/query", "/services/data/v61.0/queryAll")):
            self.salesforce(crm, parts.path, query)
        else:
            self.send_json(404, {"message": "not found"})

    def do_POST(self) -> None:
        crm: FakeCRM = self.server.crm
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        with crm.lock:
            crm.requests.append(self.path)
        parts = urlsplit(self.path)
        if parts.path == "/services/oauth2/token":
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            if form.get("grant_type") == "refresh_token" and all(
                form.get(k) == v for k, v in crm.oauth.items()
            ):
                self.send_json(200, {"access_token": crm.token, "token_type": "Bearer"})
            else:
                self.send_json(400, {"error": "invalid_grant", "error_description": "bad refresh"})
            return
        if self.headers.get("Authorization") != f"Bearer {crm.token}":
            self.send_json(
                401, {"status": "error", "message": "Authentication credentials not found."}
            )
            return
        if parts.path.endswith("/search"):
            self.search(crm, parts.path.split("/")[-2], json.loads(raw))
        else:
            self.send_json(404, {"message": "not found"})

    def properties(self, crm: FakeCRM, obj: str) -> None:
        names = sorted({k for r in crm.hubspot[obj] for k in r["properties"]} | {"createdate"})
        self.send_json(200, {"results": [{"name": n, "type": "string"} for n in names]})

    def search(self, crm: FakeCRM, obj: str, body: dict[str, Any]) -> None:
        """HubSpot's search: one GTE filter on hs_lastmodifieddate, ascending, at most
        10,000 results per query (paging stops there)."""
        (flt,) = body["filterGroups"][0]["filters"]
        assert flt["propertyName"] == "hs_lastmodifieddate" and flt["operator"] == "GTE"
        gte = int(flt["value"])
        limit = min(int(body.get("limit", 10)), 200)
        start = int(body.get("after", 0))
        hits = sorted(
            (
                r
                for r in crm.hubspot[obj]
                if epoch_ms(r["properties"]["hs_lastmodifieddate"]) >= gte
            ),
            key=lambda r: epoch_ms(r["properties"]["hs_lastmodifieddate"]),
        )
        page = [
            {"id": r["id"], "properties": {p: r["properties"].get(p) for p in body["properties"]}}
            for r in hits[start : start + limit]
        ]
        out: dict[str, Any] = {"total": len(hits), "results": page}
        if start >= crm.search_cap:  # HubSpot answers 400 past its 10,000-result cap
            self.send_json(400, {"status": "error", "message": "paging past 10000 results"})
            return
        if start + limit < len(hits):
            out["paging"] = {"next": {"after": str(start + limit)}}
        action = crm.action(f"search:{start}")
        if action:
            self.misbehave(action, out)
        else:
            self.send_json(200, out, crm.rate_limit_headers)

    def archived(self, crm: FakeCRM, obj: str, query: dict[str, str]) -> None:
        records = crm.archived[obj]
        start = int(query.get("after", "0"))
        limit = min(int(query["limit"]), 100)
        body: dict[str, Any] = {"results": records[start : start + limit]}
        if start + limit < len(records):
            # A looping server hands out its first cursor again and again.
            after = limit if crm.archived_loops else start + limit
            body["paging"] = {"next": {"after": str(after)}}
        self.send_json(200, body)

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
        since = None
        if path.endswith(("/query", "/queryAll")):
            soql = query["q"]
            crm.soql.append(soql)
            obj = re.search(r"\bFROM (\w+)", soql).group(1)  # type: ignore[union-attr]
            stamp = re.search(r"SystemModstamp > (\S+)", soql)
            since = stamp.group(1) if stamp else None
            start = 0
            crm.views[obj] = [
                r
                for r in crm.salesforce[obj]
                if (since is None or epoch_ms(r.get("SystemModstamp", "")) > epoch_ms(since))
                and (path.endswith("/queryAll") or not r.get("IsDeleted"))
            ]
        else:
            obj, _, offset = path.rsplit("/", 1)[1].partition("-")
            start = int(offset)
        records = crm.views.get(obj, crm.salesforce[obj])
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


@contextlib.contextmanager
def serving() -> Iterator[FakeCRM]:
    """Run a fresh ``FakeCRM`` on an ephemeral loopback port; ``base_url`` points at it."""
    fake = FakeCRM()
    server = Server(("127.0.0.1", 0), Handler)
    server.crm = fake  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


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
