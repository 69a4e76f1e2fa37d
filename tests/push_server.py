"""A loopback server that answers like HubSpot, Salesforce and LinkedIn do to a push.

Request and response shapes follow each vendor's documentation:

* HubSpot ``POST /crm/v3/objects/companies/batch/update`` and ``batch/create``: 200 with
  ``{"status": "COMPLETE", "results": [...]}``, or 207 with ``errors`` naming the ids
  (``context.ids``) it could not update; lists API v3 ``PUT /crm/v3/lists/{id}/memberships/
  add|remove`` with a JSON array of record ids, answering ``recordIdsAdded`` /
  ``recordIdsRemoved`` and ``recordIdsMissing``.
* Salesforce ``PATCH /services/data/vXX.X/composite/sobjects`` with ``allOrNone`` and
  ``records``, answering one ``{id, success, errors}`` per record in order; Bulk API 2.0
  ingest jobs (create, ``PUT .../batches`` CSV, ``PATCH`` UploadComplete, ``GET`` state,
  ``GET .../failedResults/`` CSV with ``sf__Id`` and ``sf__Error``); the OAuth token
  endpoint's refresh-token grant.
* LinkedIn ``POST /rest/dmpSegments/{id}/companies`` with ``X-RestLi-Method:
  BATCH_CREATE``, ``LinkedIn-Version`` and ``X-Restli-Protocol-Version: 2.0.0``, answering
  ``{"elements": [{"status": 201}, ...]}``.

Faults are scripted per route as a queue (``server.script("hubspot.update", "429", "ok")``):
``429`` with Retry-After, ``429-bare`` without it, ``500``/``502``/``503``, ``drop`` (the
connection closes with no answer), ``sf-limit`` (Salesforce's 403 REQUEST_LIMIT_EXCEEDED).
Records named in ``server.refuse`` fail one by one, as the vendors report them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "push-token-5e3cret-0000-1111-2222-333344445555"
REFRESH = {"client_id": "cid-123", "client_secret": "csecret-456", "refresh_token": "rt-789"}
FRESH_TOKEN = "00Dfresh!access.token.from.refresh"


class PushServer:
    """Server-side state of the three destinations, and the faults to inject."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.companies: dict[str, dict[str, str]] = {}  # HubSpot id -> properties
        self.lists: dict[str, set[str]] = defaultdict(set)
        self.accounts: dict[str, dict[str, Any]] = {}  # Salesforce Id -> fields
        self.audiences: dict[str, set[str]] = defaultdict(set)  # LinkedIn segment -> domains
        self.created = Counter[str]()  # HubSpot creates per domain
        self.adds = Counter[tuple[str, str]]()  # LinkedIn ADDs per (segment, domain)
        self.elements: list[dict[str, Any]] = []  # every LinkedIn element received
        self.refuse: set[str] = set()
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.bodies: list[str] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.tokens = {TOKEN}
        self.base_url = ""
        self._next_id = 900_000

    def script(self, route: str, *faults: str) -> None:
        self.faults[route].extend(faults)

    def fault(self, route: str) -> str:
        with self.lock:
            queue = self.faults.get(route)
            return queue.pop(0) if queue else "ok"

    def new_id(self) -> str:
        with self.lock:
            self._next_id += 1
            return str(self._next_id)


class Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(
        self, status: int, body: Any, headers: dict[str, str] | None = None, raw: str | None = None
    ) -> None:
        data = (raw if raw is not None else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Type", "text/csv" if raw is not None else "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _fault(self, route: str) -> bool:
        what = self.server.state.fault(route)
        if what == "ok":
            return False
        if what == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        if what == "429":
            self._reply(429, {"message": "rate limited"}, {"Retry-After": "1"})
        elif what == "429-bare":
            self._reply(429, {"message": "rate limited"})
        elif what == "sf-limit":
            self._reply(
                403,
                [
                    {
                        "errorCode": "REQUEST_LIMIT_EXCEEDED",
                        "message": "TotalRequests Limit exceeded.",
                    }
                ],
            )
        else:
            self._reply(int(what), {"message": "server error"})
        return True

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length)

    def _authorised(self) -> bool:
        auth = self.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") in self.server.state.tokens:
            return True
        self._reply(401, {"message": "Authentication credentials not found"})
        return False

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def _dispatch(self, method: str) -> None:
        state = self.server.state
        path = urlsplit(self.path).path
        body = self._body()
        with state.lock:
            state.requests.append((method, path, dict(self.headers)))
            state.bodies.append(body.decode("utf-8", "replace"))
        if path == "/services/oauth2/token":
            return self._oauth(body)
        if not self._authorised():
            return
        for pattern, route, handler in ROUTES:
            m = re.fullmatch(pattern, path)
            if m and route.split(".")[0] == method:
                if self._fault(route):
                    return
                return handler(self, body, *m.groups())
        self._reply(404, {"message": f"no route {method} {path}"})

    # --- OAuth ------------------------------------------------------------------------
    def _oauth(self, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") == "refresh_token" and all(
            form.get(k) == v for k, v in REFRESH.items()
        ):
            self.server.state.tokens.add(FRESH_TOKEN)
            return self._reply(
                200,
                {
                    "access_token": FRESH_TOKEN,
                    "instance_url": self.server.state.base_url,
                    "token_type": "Bearer",
                },
            )
        self._reply(
            400, {"error": "invalid_grant", "error_description": "expired access/refresh token"}
        )

    # --- HubSpot ----------------------------------------------------------------------
    def hs_update(self, body: bytes) -> None:
        state = self.server.state
        inputs = json.loads(body)["inputs"]
        assert len(inputs) <= 100, "HubSpot takes at most 100 inputs a batch"
        results, errors = [], []
        for item in inputs:
            cid = str(item["id"])
            if cid in state.refuse:
                errors.append(
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": f"Property values were not valid for {cid}",
                        "context": {"ids": [cid]},
                    }
                )
                continue
            with state.lock:
                state.companies.setdefault(cid, {}).update(item["properties"])
            results.append({"id": cid, "properties": item["properties"]})
        answer = {"status": "COMPLETE", "results": results}
        if errors:
            answer |= {"errors": errors, "numErrors": len(errors)}
        self._reply(207 if errors else 200, answer)

    def hs_create(self, body: bytes) -> None:
        state = self.server.state
        results = []
        for item in json.loads(body)["inputs"]:
            cid = state.new_id()
            with state.lock:
                state.companies[cid] = dict(item["properties"])
                state.created[item["properties"].get("domain")] += 1
            results.append({"id": cid, "properties": item["properties"]})
        self._reply(201, {"status": "COMPLETE", "results": results})

    def hs_members(self, body: bytes, list_id: str, verb: str) -> None:
        state = self.server.state
        ids = [str(i) for i in json.loads(body)]
        known = [i for i in ids if i in state.companies]
        with state.lock:
            if verb == "add":
                state.lists[list_id].update(known)
            else:
                state.lists[list_id].difference_update(known)
        key = "recordIdsAdded" if verb == "add" else "recordIdsRemoved"
        self._reply(200, {key: known, "recordIdsMissing": [i for i in ids if i not in known]})

    # --- Salesforce -------------------------------------------------------------------
    def sf_collections(self, body: bytes, version: str) -> None:
        state = self.server.state
        payload = json.loads(body)
        assert payload["allOrNone"] is False and len(payload["records"]) <= 200
        out = []
        for record in payload["records"]:
            rid = record["id"]
            if rid in state.refuse:
                out.append(
                    {
                        "id": rid,
                        "success": False,
                        "errors": [
                            {
                                "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                "message": "Tier locked",
                                "fields": [],
                            }
                        ],
                    }
                )
                continue
            fields = {k: v for k, v in record.items() if k not in ("attributes", "id")}
            with state.lock:
                state.accounts.setdefault(rid, {}).update(fields)
            out.append({"id": rid, "success": True, "errors": []})
        self._reply(200, out)

    def sf_job_create(self, body: bytes, version: str) -> None:
        state = self.server.state
        spec = json.loads(body)
        job_id = "750" + state.new_id()
        state.jobs[job_id] = {"spec": spec, "csv": "", "state": "Open", "polls": 0}
        self._reply(
            200,
            {
                "id": job_id,
                "state": "Open",
                "object": spec["object"],
                "operation": spec["operation"],
            },
        )

    def sf_job_upload(self, body: bytes, version: str, job_id: str) -> None:
        self.server.state.jobs[job_id]["csv"] += body.decode()
        self._reply(201, None, raw="")

    def sf_job_close(self, body: bytes, version: str, job_id: str) -> None:
        job = self.server.state.jobs[job_id]
        job["state"] = json.loads(body)["state"]
        self._reply(200, {"id": job_id, "state": job["state"]})

    def sf_job_info(self, body: bytes, version: str, job_id: str) -> None:
        state = self.server.state
        job = state.jobs[job_id]
        job["polls"] += 1
        if job["state"] == "UploadComplete" and job["polls"] >= 2:
            failed = []
            for row in csv.DictReader(io.StringIO(job["csv"])):
                rid = row.pop("Id")
                if rid in state.refuse:
                    failed.append(
                        {
                            "sf__Id": "",
                            "sf__Error": "FIELD_CUSTOM_VALIDATION_EXCEPTION:Tier locked:--",
                            "Id": rid,
                            **row,
                        }
                    )
                    continue
                with state.lock:
                    state.accounts.setdefault(rid, {}).update(
                        {k: (None if v == "#N/A" else v) for k, v in row.items()}
                    )
            job["failed"], job["state"] = failed, "JobComplete"
        self._reply(
            200,
            {
                "id": job_id,
                "state": job["state"] if job["state"] != "UploadComplete" else "InProgress",
            },
        )

    def sf_job_failed(self, body: bytes, version: str, job_id: str) -> None:
        failed = self.server.state.jobs[job_id].get("failed", [])
        out = io.StringIO()
        if failed:
            writer = csv.DictWriter(out, fieldnames=list(failed[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(failed)
        else:
            out.write('"sf__Id","sf__Error","Id"\n')
        self._reply(200, None, raw=out.getvalue())

    # --- LinkedIn ---------------------------------------------------------------------
    def li_companies(self, body: bytes, segment: str) -> None:
        state = self.server.state
        h = self.headers
        if (
            h.get("X-RestLi-Method") != "BATCH_CREATE"
            or h.get("X-Restli-Protocol-Version") != "2.0.0"
            or not re.fullmatch(r"\d{6}", h.get("LinkedIn-Version", ""))
        ):
            return self._reply(400, {"message": "missing Rest.li headers", "status": 400})
        elements = []
        for el in json.loads(body)["elements"]:
            state.elements.append(el)
            domain = el.get("companyWebsiteDomain") or el["companyName"]
            if domain in state.refuse:
                elements.append({"status": 400, "error": {"message": "Invalid company domain"}})
                continue
            with state.lock:
                if el["action"] == "ADD":
                    state.audiences[segment].add(domain)
                    state.adds[(segment, domain)] += 1
                else:
                    state.audiences[segment].discard(domain)
            elements.append({"status": 201})
        self._reply(200, {"elements": elements})


V = r"(v\d+\.\d)"
ROUTES = [
    (r"/crm/v3/objects/companies/batch/update", "POST.hubspot.update", Handler.hs_update),
    (r"/crm/v3/objects/companies/batch/create", "POST.hubspot.create", Handler.hs_create),
    (r"/crm/v3/lists/(\w+)/memberships/(add|remove)", "PUT.hubspot.lists", Handler.hs_members),
    (rf"/services/data/{V}/composite/sobjects", "PATCH.sf.collections", Handler.sf_collections),
    (rf"/services/data/{V}/jobs/ingest", "POST.sf.job", Handler.sf_job_create),
    (rf"/services/data/{V}/jobs/ingest/(\w+)/batches", "PUT.sf.upload", Handler.sf_job_upload),
    (rf"/services/data/{V}/jobs/ingest/(\w+)", "PATCH.sf.close", Handler.sf_job_close),
    (rf"/services/data/{V}/jobs/ingest/(\w+)", "GET.sf.info", Handler.sf_job_info),
    (
        rf"/services/data/{V}/jobs/ingest/(\w+)/failedResults/",
        "GET.sf.failed",
        Handler.sf_job_failed,
    ),
    (r"/rest/dmpSegments/(\d+)/companies", "POST.linkedin.companies", Handler.li_companies),
]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: PushServer


@contextlib.contextmanager
def serve() -> Iterator[PushServer]:
    """Run a push server on a free loopback port for the duration of the block."""
    server = _Server(("127.0.0.1", 0), Handler)
    server.state = PushServer()
    server.state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
