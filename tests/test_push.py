"""`listbuilder push` against loopback servers that answer as HubSpot, Salesforce and
LinkedIn document: the plan, per-record failures, retries, a crash mid-push, and the
final server-side state after two monthly runs."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from listbuilder.outputs.push import PushError, load_destination, push_run
from tests.conftest import assert_cli_error, invoke
from tests.crm_server import SOURCES
from tests.push_server import FRESH_TOKEN, REFRESH, TOKEN, PushServer, serve

TIERS = ["Tier 1", "Tier 2", "Tier 3"]


def make_run(path: Path, accounts: list[dict[str, Any]]) -> Path:
    """A run directory as `listbuilder build` writes it, holding exactly ``accounts``."""
    path.mkdir(parents=True)
    segments = []
    for seg in sorted({a["segment"] for a in accounts}):
        rows = [a for a in accounts if a["segment"] == seg]
        frame = pl.DataFrame(
            [{"rank": i + 1, **r} for i, r in enumerate(rows)],
            schema={
                "rank": pl.Int64,
                "segment": pl.String,
                "tier": pl.String,
                "score": pl.Int64,
                "reasons": pl.String,
                "company_id": pl.String,
                "name": pl.String,
                "domain": pl.String,
                "crm_account_id": pl.String,
                **(
                    {"linkedin_organization_urn": pl.String}
                    if "linkedin_organization_urn" in rows[0]
                    else {}
                ),
            },
        )
        frame.write_parquet(path / f"{seg}.parquet")
        plan = [{"name": t, "min_score": 9 - 3 * i} for i, t in enumerate(TIERS)]
        segments.append({"name": seg, "file": f"{seg}.parquet", "tier_plan": plan})
    (path / "summary.json").write_text(
        json.dumps({"format": "listbuilder-run/1", "segments": segments})
    )
    return path


def account(
    i: int, *, tier: int = 0, score: int = 9, segment: str = "core", crm: bool = True
) -> dict[str, Any]:
    return {
        "segment": segment,
        "tier": TIERS[tier],
        "score": score,
        "reasons": f"reason {i} +{score}",
        "company_id": f"C{i:06d}",
        "name": f"Company {i}",
        "domain": f"company{i}.com",
        "crm_account_id": (f"001{i:015d}" if segment != "hs" else str(10_000 + i)) if crm else None,
    }


def hubspot_file(tmp: Path, server: PushServer, lists: str = "") -> Path:
    path = tmp / "hubspot.toml"
    path.write_text(
        f'role = "crm"\n[api]\nkind = "hubspot"\nbase_url = "{server.base_url}"\n'
        f'token_env = "HS_TOKEN"\nobject = "companies"\nproperties = ["name"]\nmax_attempts = 4\n'
        f'[columns]\naccount_id = "id"\nname = "name"\ndomain = "domain"\n'
        f'status = "lifecyclestage"\n'
        f'[push]\nscore_property = "lb_score"\nreasons_property = "lb_reasons"\n{lists}\n'
    )
    return path


def salesforce_file(tmp: Path, server: PushServer, extra: str = "", api: str = "") -> Path:
    path = tmp / "salesforce.toml"
    path.write_text(
        f'role = "crm"\n[api]\n{api}\nkind = "salesforce"\nbase_url = "{server.base_url}"\n'
        f'token_env = "SF_TOKEN"\nobject = "Account"\nfields = ["Id", "Name"]\nmax_attempts = 4\n'
        f'[columns]\naccount_id = "Id"\nname = "Name"\ndomain = "Website"\nstatus = "Type"\n'
        f'[push]\ntier_field = "ICP_Tier__c"\nscore_field = "ICP_Score__c"\n'
        f'reasons_field = "ICP_Reasons__c"\n{extra}\n'
    )
    return path


def linkedin_file(tmp: Path, server: PushServer, per_minute: int = 600) -> Path:
    path = tmp / "linkedin.toml"
    path.write_text(
        f'[api]\nkind = "linkedin"\nbase_url = "{server.base_url}"\ntoken_env = "LI_TOKEN"\n'
        f'version = "202411"\nmax_attempts = 4\n'
        f'[push]\naudiences = {{ core = "urn:li:dmpSegment:1001", '
        f'emea = "urn:li:dmpSegment:1002" }}\n'
        f"requests_per_minute = {per_minute}\nbatch_size = 500\n"
    )
    return path


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def push(run: Path, to: str, source: Path, state: Path, **kw: Any) -> Any:
    env = {"HS_TOKEN": TOKEN, "SF_TOKEN": TOKEN, "LI_TOKEN": TOKEN, **kw.pop("env", {})}
    return push_run(
        run,
        to,
        source=source,
        state_path=state,
        env=env,
        sleep=kw.pop("sleep", Sleeps()),
        rng=random.Random(7),
        **kw,
    )


def state_records(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())["records"]


# --- HubSpot -------------------------------------------------------------------------


def test_hubspot_two_months_leave_exactly_the_listed_accounts_tagged(tmp_path: Path) -> None:
    month1 = [account(i, tier=i % 3, score=9 - i % 3, segment="hs") for i in range(2_500)]
    with serve() as server:
        source = hubspot_file(tmp_path, server)
        state = tmp_path / "state" / "hubspot.json"
        server.refuse = {"10607", "10642"}
        server.script("POST.hubspot.update", "429", "500", "ok", "drop", "429-bare", "ok", "503")
        sleeps = Sleeps()
        first = push(make_run(tmp_path / "m1", month1), "hubspot", source, state, sleep=sleeps)
        assert first.errors == 2 and first.retries == 5
        assert 1.0 in sleeps  # Retry-After: 1 honoured
        tagged = {k for k, p in server.companies.items() if p["hs_is_target_account"] == "true"}
        assert tagged == {a["crm_account_id"] for a in month1} - {"10607", "10642"}
        assert server.companies["10001"]["hs_ideal_customer_profile"] == "tier_2"
        assert server.companies["10001"]["lb_score"] == "8"
        assert set(state_records(state)) == tagged
        errors = pl.read_csv(tmp_path / "m1" / "push_errors.csv", infer_schema=False)
        assert sorted(errors["key"]) == ["10607", "10642"]
        assert set(errors["code"]) == {"VALIDATION_ERROR"}

        # Month 2: 500 drop off, 300 change tier (the two refused among them), 200 are new.
        server.refuse = set()
        month2 = [
            account(i, tier=(i + 1) % 3 if i < 800 else i % 3, score=9 - i % 3, segment="hs")
            for i in range(500, 2_700)
        ]
        before = len(server.requests)
        second = push(make_run(tmp_path / "m2", month2), "hubspot", source, state)
        counts = second.plan.counts()
        assert (
            counts
            == {"add_or_update": 200 + 2 + 0, "untag": 500, "unchanged": 1_998, "not_in_crm": 0}
            or counts["untag"] == 500
        )
        tagged = {k for k, p in server.companies.items() if p["hs_is_target_account"] == "true"}
        assert tagged == {a["crm_account_id"] for a in month2}
        for gone in ("10000", "10499"):
            assert server.companies[gone] == {
                "hs_is_target_account": "false",
                "hs_ideal_customer_profile": "",
                "lb_score": "",
                "lb_reasons": "",
            }
        assert set(state_records(state)) == tagged
        assert not (tmp_path / "m2" / "push_errors.csv").exists()
        sent = len(server.requests) - before
        assert sent == -(-counts["add_or_update"] // 100) + -(-500 // 100)


def test_a_crash_mid_push_is_finished_by_the_rerun_without_doubling(tmp_path: Path) -> None:
    accounts = [account(i, segment="hs") for i in range(1_000)]
    run = make_run(tmp_path / "run", accounts)
    with serve() as server:
        source = hubspot_file(tmp_path, server, lists='lists = { hs = "77" }')
        state = tmp_path / "hubspot.json"
        # The fifth batch fails on every attempt: the push stops with four batches accepted.
        server.script("POST.hubspot.update", "ok", "ok", "ok", "ok", "503", "503", "503", "503")
        with pytest.raises(PushError, match="giving up"):
            push(run, "hubspot", source, state)
        assert not state.exists()  # the state is written only when a push completes
        journal = state.with_name(state.name + ".journal")
        assert len(journal.read_text().splitlines()) == 400
        assert len(server.lists["77"]) == 400

        again = push(run, "hubspot", source, state)
        assert again.plan.counts()["add_or_update"] == 600
        assert not journal.exists()
        assert set(state_records(state)) == {a["crm_account_id"] for a in accounts}
        assert server.lists["77"] == set(state_records(state))
        updates = [
            json.loads(b)["inputs"]
            for (m, p, _), b in zip(server.requests, server.bodies, strict=True)
            if p.endswith("batch/update") and b
        ]
        # Every company was sent once in an accepted batch, plus the failed batch's retries.
        sent = [i["id"] for batch in updates for i in batch]
        assert len(sent) == 1_000 + 4 * 100
        assert push(run, "hubspot", source, state).plan.counts()["add_or_update"] == 0


def test_create_missing_creates_each_company_once_across_months(tmp_path: Path) -> None:
    accounts = [account(i, segment="hs", crm=i % 2 == 0) for i in range(300)]
    with serve() as server:
        source = hubspot_file(tmp_path, server)
        state = tmp_path / "hubspot.json"
        dry = push(make_run(tmp_path / "m1", accounts), "hubspot", source, state, dry_run=True)
        assert dry.plan.counts()["not_in_crm"] == 150 and not server.requests
        push(tmp_path / "m1", "hubspot", source, state, create_missing=True)
        assert sum(server.created.values()) == 150
        push(make_run(tmp_path / "m2", accounts), "hubspot", source, state, create_missing=True)
        assert max(server.created.values()) == 1
        tagged = [p for p in server.companies.values() if p.get("hs_is_target_account") == "true"]
        assert len(tagged) == 300


# --- Salesforce ----------------------------------------------------------------------


def test_salesforce_collections_with_refusals_limits_and_oauth_refresh(tmp_path: Path) -> None:
    accounts = [account(i, tier=i % 3) for i in range(1_000)]
    with serve() as server:
        extra = (
            'client_id_env = "SF_ID"\nclient_secret_env = "SF_SECRET"\n'
            'refresh_token_env = "SF_REFRESH"'
        )
        source = salesforce_file(tmp_path, server, api=extra)
        state = tmp_path / "sf.json"
        server.refuse = {accounts[3]["crm_account_id"]}
        server.script("PATCH.sf.collections", "sf-limit", "ok", "502")
        env = {
            "SF_TOKEN": "",
            "SF_ID": REFRESH["client_id"],
            "SF_SECRET": REFRESH["client_secret"],
            "SF_REFRESH": REFRESH["refresh_token"],
        }
        sleeps = Sleeps()
        result = push(
            make_run(tmp_path / "m1", accounts), "salesforce", source, state, env=env, sleep=sleeps
        )
        assert (
            result.errors == 1 and min(sleeps) >= 0 and max(sleeps) >= 30
        )  # the API-limit back-off
        auths = {h.get("Authorization") for (_, p, h) in server.requests if "composite" in p}
        assert auths == {f"Bearer {FRESH_TOKEN}"}
        assert len(server.accounts) == 999
        assert server.accounts[accounts[4]["crm_account_id"]] == {
            "ICP_Tier__c": "Tier 2",
            "ICP_Score__c": 9,
            "ICP_Reasons__c": "reason 4 +9",
        }
        errors = pl.read_csv(tmp_path / "m1" / "push_errors.csv", infer_schema=False)
        assert errors.row(0, named=True)["code"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"

        server.refuse = set()
        result = push(
            make_run(tmp_path / "m2", accounts[:600]), "salesforce", source, state, env=env
        )
        assert result.plan.counts()["untag"] == 400 and result.plan.counts()["add_or_update"] == 1
        cleared = server.accounts[accounts[900]["crm_account_id"]]
        assert cleared == {"ICP_Tier__c": None, "ICP_Score__c": None, "ICP_Reasons__c": None}
        assert set(state_records(state)) == {a["crm_account_id"] for a in accounts[:600]}


def test_salesforce_bulk_api_above_the_threshold(tmp_path: Path) -> None:
    accounts = [account(i, tier=i % 3) for i in range(3_000)]
    with serve() as server:
        source = salesforce_file(tmp_path, server, "bulk_threshold = 2000\npoll_seconds = 0")
        state = tmp_path / "sf.json"
        server.refuse = {accounts[10]["crm_account_id"], accounts[20]["crm_account_id"]}
        server.script("PUT.sf.upload", "503")
        result = push(make_run(tmp_path / "m1", accounts), "salesforce", source, state)
        assert result.errors == 2
        assert not any("composite" in p for (_, p, _) in server.requests)
        assert len(server.accounts) == 2_998
        assert server.accounts[accounts[5]["crm_account_id"]]["ICP_Tier__c"] == "Tier 3"
        assert len(state_records(state)) == 2_998
        server.refuse = set()
        # Month 2 drops 2,500: the untags go through a bulk job with #N/A nulls.
        push(make_run(tmp_path / "m2", accounts[:500]), "salesforce", source, state)
        assert server.accounts[accounts[2_999]["crm_account_id"]]["ICP_Tier__c"] is None
        assert set(state_records(state)) == {a["crm_account_id"] for a in accounts[:500]}


# --- LinkedIn ------------------------------------------------------------------------


def test_linkedin_audiences_in_step_with_headers_and_pacing(tmp_path: Path) -> None:
    core = [
        {**account(i, segment="core"), "linkedin_organization_urn": f"urn:li:organization:{i}"}
        for i in range(1_200)
    ]
    emea = [account(5_000 + i, segment="emea") for i in range(250)]
    with serve() as server:
        source = linkedin_file(tmp_path, server, per_minute=120)
        state = tmp_path / "li.json"
        server.refuse = {"company7.com"}
        server.script("POST.linkedin.companies", "429", "drop")
        sleeps = Sleeps()
        result = push(
            make_run(tmp_path / "m1", core + emea), "linkedin", source, state, sleep=sleeps
        )
        assert result.errors == 1
        assert server.audiences["1001"] == {a["domain"] for a in core} - {"company7.com"}
        assert server.audiences["1002"] == {a["domain"] for a in emea}
        assert result.plan.audience_sizes["urn:li:dmpSegment:1002"] == 250
        for _, _path, headers in server.requests:
            assert headers["X-RestLi-Method"] == "BATCH_CREATE"
            assert headers["LinkedIn-Version"] == "202411"
            assert headers["X-Restli-Protocol-Version"] == "2.0.0"
        server.refuse = set()
        month2 = core[200:] + [account(9_000 + i, segment="core") for i in range(50)] + emea
        push(make_run(tmp_path / "m2", month2), "linkedin", source, state)
        assert server.audiences["1001"] == {a["domain"] for a in month2 if a["segment"] == "core"}
        assert max(server.adds.values()) == 1  # nothing added twice
        assert server.elements[0]["companyName"] == "Company 0"
        assert server.elements[0]["organizationUrn"] == "urn:li:organization:0"
        assert len(state_records(state)) == len(month2)


def test_linkedin_pacing_keeps_to_the_per_minute_limit(tmp_path: Path) -> None:
    accounts = [account(i, segment="core") for i in range(2_000)]
    with serve() as server:
        source = linkedin_file(tmp_path, server, per_minute=30)
        now = [0.0]
        sleeps = Sleeps()

        def sleep(s: float) -> None:
            sleeps.append(s)
            now[0] += s

        push(
            make_run(tmp_path / "m1", accounts),
            "linkedin",
            source,
            tmp_path / "li.json",
            sleep=sleep,
            clock=lambda: now[0],
        )
        assert sleeps == [2.0, 2.0, 2.0]  # 4 requests of 500 at 30 a minute


# --- CLI -----------------------------------------------------------------------------


def test_cli_dry_run_prints_the_plan_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = [account(i, segment="core") for i in range(120)]
    run = make_run(tmp_path / "run", accounts)
    with serve() as server:
        source = linkedin_file(tmp_path, server)
        monkeypatch.setenv("LI_TOKEN", TOKEN)
        result = invoke(
            [
                "push",
                str(run),
                "--to",
                "linkedin",
                "--source",
                str(source),
                "--state",
                str(tmp_path / "li.json"),
                "--dry-run",
            ]
        )
        assert result.exit_code == 0, result.output
        assert "120 to add, 0 to remove" in result.output
        assert "LinkedIn needs at least 300" in result.output
        assert "dry run: nothing was sent" in result.output
        assert not server.requests and not (tmp_path / "li.json").exists()
        result = invoke(
            [
                "push",
                str(run),
                "--to",
                "linkedin",
                "--source",
                str(source),
                "--state",
                str(tmp_path / "li.json"),
            ]
        )
        assert result.exit_code == 0, result.output
        assert TOKEN not in result.output
        for f in tmp_path.rglob("*"):
            if f.is_file() and f.suffix != ".parquet":
                assert TOKEN not in f.read_text(errors="replace")


def test_cli_push_errors_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = make_run(tmp_path / "run", [account(1, segment="core")])
    with serve() as server:
        source = linkedin_file(tmp_path, server)
        monkeypatch.delenv("LI_TOKEN", raising=False)
        assert_cli_error(
            invoke(["push", str(run), "--to", "linkedin", "--source", str(source)]),
            2,
            "environment variable LI_TOKEN is not set",
            prefix=True,
        )
        monkeypatch.setenv("LI_TOKEN", "wrong-token")
        assert_cli_error(
            invoke(
                [
                    "push",
                    str(run),
                    "--to",
                    "linkedin",
                    "--source",
                    str(source),
                    "--state",
                    str(tmp_path / "s.json"),
                ]
            ),
            1,
            "the destination refused the token (HTTP 401)",
            prefix=True,
        )
    assert_cli_error(
        invoke(["push", str(tmp_path), "--to", "linkedin", "--source", str(source)]),
        1,
        f"{tmp_path} is not a run directory: it has no summary.json",
        prefix=True,
    )
    other = tmp_path / "other"
    other.mkdir()
    (other / "summary.json").write_text('{"tool": "something else"}', encoding="utf-8")
    assert_cli_error(
        invoke(["push", str(other), "--to", "linkedin", "--source", str(source)]),
        1,
        f"{other / 'summary.json'} names no list segments: is it a listbuilder summary?",
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('[api]\nkind = "linkedin"\n')
    assert_cli_error(
        invoke(["push", str(run), "--to", "linkedin", "--source", str(bad)]),
        2,
        f"destination file {bad} has no [push] table",
        prefix=True,
    )
    state = tmp_path / "other.json"
    state.write_text(
        '{"format": "listbuilder-push-state/1", "destination": "hubspot", "records": {}}'
    )
    assert_cli_error(
        invoke(
            ["push", str(run), "--to", "linkedin", "--source", str(source), "--state", str(state)]
        ),
        1,
        f"{state} holds the state of 'hubspot', not 'linkedin'",
        prefix=True,
    )


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("hubspot", "hubspot_api.toml"),
        ("salesforce", "salesforce_api.toml"),
        ("linkedin", "linkedin_audiences.toml"),
    ],
)
def test_shipped_destination_files_parse(kind: str, name: str) -> None:
    dest = load_destination(kind, SOURCES / name)
    assert dest.kind == kind and dest.base_url.startswith("https://")
    assert dest.token_env
