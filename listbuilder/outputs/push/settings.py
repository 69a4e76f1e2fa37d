"""Where a push goes: the ``[push]`` table of a destination's file.

HubSpot and Salesforce pushes read the same source files as ``pull``
(``sources/hubspot_api.toml``, ``sources/salesforce_api.toml``): their ``[api]`` names the
base URL and the token variable, and a ``[push]`` table names the fields written.
LinkedIn has nothing to pull, so ``sources/linkedin_audiences.toml`` holds only ``[api]``
and ``[push]``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from listbuilder.errors import ConfigError
from listbuilder.inputs import load_source_def

Kind = Literal["hubspot", "salesforce", "linkedin"]
KINDS: tuple[Kind, ...] = ("hubspot", "salesforce", "linkedin")
DEFAULT_FILES = {
    "hubspot": "sources/hubspot_api.toml",
    "salesforce": "sources/salesforce_api.toml",
    "linkedin": "sources/linkedin_audiences.toml",
}
PUSH_KEYS = {
    "hubspot": ("score_property", "reasons_property", "lists", "batch_size"),
    "salesforce": (
        "object",
        "tier_field",
        "score_field",
        "reasons_field",
        "tier_values",
        "batch_size",
        "bulk_threshold",
        "poll_seconds",
    ),
    "linkedin": ("audiences", "per", "batch_size", "requests_per_minute"),
}
LINKEDIN_API_KEYS = (
    "kind",
    "base_url",
    "token_env",
    "version",
    "connect_timeout",
    "read_timeout",
    "max_attempts",
)
LINKEDIN_MINIMUM = 300


@dataclass(frozen=True)
class Destination:
    """A parsed destination: its API, and what a push writes there."""

    kind: Kind
    path: Path
    base_url: str
    token_env: str
    api_version: str = ""
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 6
    batch_size: int = 100
    # HubSpot
    score_property: str | None = None
    reasons_property: str | None = None
    lists: dict[str, str] = field(default_factory=dict)
    # Salesforce
    object: str = "Account"
    tier_field: str | None = None
    score_field: str | None = None
    reasons_field: str | None = None
    tier_values: tuple[str, ...] = ()
    bulk_threshold: int = 2_000
    poll_seconds: float = 2.0
    client_id_env: str | None = None
    client_secret_env: str | None = None
    refresh_token_env: str | None = None
    # LinkedIn
    audiences: dict[str, str] = field(default_factory=dict)
    per: Literal["segment", "tier"] = "segment"
    requests_per_minute: int = 60


def load_destination(kind: str, path: str | Path | None = None) -> Destination:
    """Read and check the destination file for ``kind`` (default: its file in ``sources/``).

    Raises:
        ConfigError: Unknown destination, missing file, or a bad ``[api]``/``[push]`` key.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown destination `{kind}`; valid destinations are {list(KINDS)}")
    path = Path(path or DEFAULT_FILES[kind])
    if not path.is_file():
        raise ConfigError(
            f"destination file {path} does not exist: give --source, or copy "
            f"{DEFAULT_FILES[kind]} from the listbuilder repository"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read destination file {path}: {exc}") from None
    push = data.get("push")
    if not isinstance(push, dict):
        raise ConfigError(
            f"destination file {path} has no [push] table: nothing says what to write"
        )
    unknown = sorted(set(push) - set(PUSH_KEYS[kind]))
    if unknown:
        raise ConfigError(
            f"unknown key push.{unknown[0]} in {path}; valid keys are {list(PUSH_KEYS[kind])}"
        )
    api = _api(kind, path, data)
    return Destination(kind=kind, path=path, **api, **_push(kind, path, push))


def _api(kind: str, path: Path, data: dict[str, Any]) -> dict[str, Any]:
    if kind in ("hubspot", "salesforce"):
        spec = load_source_def(path).api
        if spec is None or spec.kind != kind:
            raise ConfigError(f"{path} has no [api] table of kind {kind!r}")
        return {
            "base_url": spec.base_url,
            "token_env": spec.token_env,
            "api_version": spec.api_version,
            "connect_timeout": spec.connect_timeout,
            "read_timeout": spec.read_timeout,
            "max_attempts": spec.max_attempts,
            "client_id_env": spec.client_id_env,
            "client_secret_env": spec.client_secret_env,
            "refresh_token_env": spec.refresh_token_env,
        }
    api = data.get("api")
    if not isinstance(api, dict) or api.get("kind") != "linkedin":
        raise ConfigError(f'{path} needs an [api] table with kind = "linkedin"')
    unknown = sorted(set(api) - set(LINKEDIN_API_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key api.{unknown[0]} in {path}; valid keys are {list(LINKEDIN_API_KEYS)}"
        )
    base_url = _string(api, "base_url", path, "api")
    parts = urlsplit(base_url)
    if (
        parts.scheme not in ("https", "http")
        or not parts.netloc
        or parts.username
        or parts.password
    ):
        raise ConfigError(f"api.base_url in {path} must be an http(s) URL without credentials")
    version = _string(api, "version", path, "api")
    if not (len(version) == 6 and version.isdigit()):
        raise ConfigError(
            f"api.version in {path} must be a LinkedIn-Version such as 202411 (YYYYMM)"
        )
    return {
        "base_url": base_url.rstrip("/"),
        "token_env": _string(api, "token_env", path, "api"),
        "api_version": version,
        "connect_timeout": float(api.get("connect_timeout", 10.0)),
        "read_timeout": float(api.get("read_timeout", 60.0)),
        "max_attempts": int(api.get("max_attempts", 6)),
    }


def _push(kind: str, path: Path, push: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    limits = {"hubspot": 100, "salesforce": 200, "linkedin": 5_000}
    size = push.get("batch_size", limits[kind])
    if not isinstance(size, int) or not 1 <= size <= limits[kind]:
        raise ConfigError(
            f"push.batch_size in {path} must be a whole number from 1 to {limits[kind]}"
        )
    out["batch_size"] = size
    for key in PUSH_KEYS[kind]:
        if key in ("batch_size", "lists", "audiences", "tier_values") or key not in push:
            continue
        value = push[key]
        if key in ("bulk_threshold", "requests_per_minute"):
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"push.{key} in {path} must be a positive whole number")
        elif key == "poll_seconds":
            if not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"push.{key} in {path} must be a number of seconds")
            value = float(value)
        elif key == "per":
            if value not in ("segment", "tier"):
                raise ConfigError(f'push.per in {path} must be "segment" or "tier"')
        elif not isinstance(value, str) or not value:
            raise ConfigError(f"push.{key} in {path} must be a non-empty string")
        out[key] = value
    for key in ("lists", "audiences"):
        if key in push:
            table = push[key]
            if not isinstance(table, dict) or not all(
                isinstance(v, str) and v for v in table.values()
            ):
                raise ConfigError(f"push.{key} in {path} must be a table of segment = id strings")
            out[key] = dict(table)
    if "tier_values" in push:
        values = push["tier_values"]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigError(
                f"push.tier_values in {path} must be a list of strings, best tier first"
            )
        out["tier_values"] = tuple(values)
    if kind == "salesforce" and not any(
        out.get(k) for k in ("tier_field", "score_field", "reasons_field")
    ):
        raise ConfigError(
            f"{path}: [push] names no field to write (tier_field, score_field, reasons_field)"
        )
    if kind == "linkedin" and not out.get("audiences"):
        raise ConfigError(f"{path}: push.audiences names no DMP segment to keep in step")
    return out


def _string(table: dict[str, Any], key: str, path: Path, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key} in {path} must be a non-empty string")
    return value.strip()
