"""Push a run's lists to where they are used: HubSpot, Salesforce, LinkedIn audiences.

Each push compares the run with the state the destination last received (``plan``),
sends only the difference, journals every accepted batch (``state``), and writes the
records the destination refused to ``push_errors.csv`` in the run directory.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import requests

from listbuilder.errors import ConfigError, PushError
from listbuilder.files import atomic_file, record_file
from listbuilder.inputs import Client, Refused, access_token
from listbuilder.outputs.push import hubspot, linkedin, salesforce
from listbuilder.outputs.push.plan import Plan, format_plan, make_plan, read_listed
from listbuilder.outputs.push.settings import KINDS, Destination, load_destination
from listbuilder.outputs.push.state import load_state, save_state

SENDERS = {"hubspot": hubspot.push, "salesforce": salesforce.push, "linkedin": linkedin.push}
ERROR_COLUMNS = ("destination", "key", "action", "code", "message")
DEFAULT_STATE_DIR = Path("push_state")


@dataclass(frozen=True)
class PushResult:
    """What a push planned, sent and had refused."""

    destination: Destination
    plan: Plan
    sent: bool
    errors: int
    requests: int
    retries: int
    state: Path
    errors_file: Path | None


def push_run(
    run_dir: str | Path,
    to: str,
    *,
    source: str | Path | None = None,
    state_path: str | Path | None = None,
    dry_run: bool = False,
    create_missing: bool = False,
    env: Mapping[str, str] | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> PushResult:
    """Plan and (unless ``dry_run``) send a run's lists to one destination.

    Raises:
        ConfigError: Unknown destination, a bad destination file, or an unset token.
        DataError: ``run_dir`` is not a run, or the state file is not one.
        PushError: The destination refused the token or kept failing; every batch it
            accepted before that is journalled, so pushing again finishes the plan.
    """
    dest = load_destination(to, source)
    if create_missing and dest.kind != "hubspot":
        raise ConfigError(
            "--create-missing is for HubSpot only: Salesforce Accounts and "
            "LinkedIn audiences are not created from a list"
        )
    listed = read_listed(run_dir)
    state = load_state(state_path or DEFAULT_STATE_DIR / f"{dest.kind}.json", dest.kind)
    plan = make_plan(dest, listed, state)
    if dry_run:
        return PushResult(dest, plan, False, 0, 0, 0, state.path, None)
    env = os.environ if env is None else env
    client = _client(dest, env, session, sleep, clock, rng)
    try:
        errors = SENDERS[dest.kind](client, dest, plan, state, create_missing)
        save_state(state)
    except Refused as exc:
        raise PushError(
            f"the destination refused the token (HTTP {exc.status}) at {exc.where}: check that "
            f"{dest.token_env} holds a valid token with write access ({exc.detail})"
        ) from None
    finally:
        if session is None:
            client.session.close()
    errors_file = _write_errors(Path(run_dir), dest.kind, errors)
    return PushResult(
        dest, plan, True, len(errors), client.requests, client.retries, state.path, errors_file
    )


def _client(
    dest: Destination,
    env: Mapping[str, str],
    session: requests.Session | None,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    rng: random.Random | None,
) -> Client:
    per_minute = dest.requests_per_minute if dest.kind == "linkedin" else None
    client = Client(
        dest.base_url,
        "",
        max_attempts=dest.max_attempts,
        timeout=(dest.connect_timeout, dest.read_timeout),
        per_minute=per_minute,
        session=session,
        sleep=sleep,
        clock=clock,
        rng=rng or random.Random(),
        token_env=dest.token_env,
        error=PushError,
    )
    refresh = (dest.client_id_env, dest.client_secret_env, dest.refresh_token_env)
    client.token = access_token(client, dest.path, dest.token_env, refresh, env)
    return client


def _write_errors(run_dir: Path, destination: str, errors: list[dict[str, Any]]) -> Path | None:
    """Replace this destination's rows of ``push_errors.csv``, keeping the others'."""
    path = run_dir / "push_errors.csv"
    schema = dict.fromkeys(ERROR_COLUMNS, pl.String)
    old = pl.read_csv(path, schema=schema) if path.exists() else pl.DataFrame(schema=schema)
    new = pl.DataFrame([{**e, "destination": destination} for e in errors], schema=schema)
    frame = pl.concat([old.filter(pl.col("destination") != destination), new]).sort(
        "destination", "action", "key"
    )
    if frame.is_empty():
        path.unlink(missing_ok=True)
        return None
    with atomic_file(path) as tmp:
        frame.write_csv(tmp)
    # Written into the run directory: its marker must know, or the next build would refuse
    # to replace the run.
    record_file(run_dir, path)
    return path


__all__ = [
    "KINDS",
    "Destination",
    "Plan",
    "PushError",
    "PushResult",
    "format_plan",
    "load_destination",
    "push_run",
]
