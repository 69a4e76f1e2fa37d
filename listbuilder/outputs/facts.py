"""What the run report shows, as checked plain data.

``load_run_info`` reads a run's ``summary.json`` into ``RunInfo`` (failing with the file
and key when something is missing or of the wrong type); ``Breakdown`` and ``ListFacts``
hold what ``report`` reads from a segment's list. The HTML modules (``sections``,
``panels``) take only these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from listbuilder.errors import DataError
from listbuilder.files import read_run_summary

# Rows of the Tier 1 table, and of each breakdown, before "and N more".
TABLE_ROWS = 100
TOP_ROWS = 10
REASON_ROWS = 5
FUNNEL_KEYS = (
    "companies_read",
    "eligible",
    "qualified",
    "taken_by_earlier_segment",
    "suppressed_by_crm",
    "duplicate_domain",
    "listed",
    "not_listed_caps",
)


@dataclass(frozen=True)
class TierInfo:
    """One tier as the run recorded it."""

    name: str
    min_score: int | None
    max_accounts: int | None
    size: int
    threshold: str = ""
    min_fit: int | None = None
    min_intent: int | None = None

    @property
    def needs(self) -> str:
        """The tier's thresholds in words: ``score ≥ 5``, or what the run recorded."""
        if self.threshold and not self.threshold.startswith("score >= "):
            return self.threshold.replace(">=", "≥")
        return f"score ≥ {self.min_score}"


@dataclass(frozen=True)
class SegmentInfo:
    """One segment of ``summary.json``, checked."""

    index: int
    name: str
    description: str
    file: str
    funnel: dict[str, int]
    max_accounts: int | None
    tiers: tuple[TierInfo, ...]
    disqualifiers: tuple[tuple[str, int], ...]
    histogram: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class RunInfo:
    """What the report needs from ``summary.json``, checked."""

    path: Path
    as_of: str
    rules_path: str
    rules_sha256: str
    inputs: tuple[tuple[str, str, int | None], ...]
    suppressed: int
    segments: tuple[SegmentInfo, ...]
    previous: dict[str, Any] | None
    changes: dict[str, dict[str, int]] | None
    warnings: tuple[str, ...] = ()


class _Checker:
    """Reads typed values out of the parsed summary, naming file and key when one is wrong."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, expected: str, got: Any) -> DataError:
        return DataError(
            f"{self.path}: key `{where}`: expected {expected}, got {json.dumps(got)[:80]}"
        )

    def get(self, obj: dict[str, Any], key: str, where: str) -> Any:
        if key not in obj:
            # Most likely a run from before the report existed.
            at = f"{where}.{key}" if where else key
            raise DataError(
                f"{self.path}: key `{at}` is missing; a summary written by "
                "`listbuilder build` has it (rebuild the run)"
            )
        return obj[key]

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "an object", value)
        return value

    def integer(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, "an integer", value)
        return value

    def opt_integer(self, value: Any, where: str) -> int | None:
        return None if value is None else self.integer(value, where)

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "a string", value)
        return value

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "a list", value)
        return value


def load_run_info(run_dir: str | Path) -> RunInfo:
    """Read and check a run directory's ``summary.json``.

    Raises:
        DataError: The directory is not a run, or its summary lacks what the report
            shows; the message names the file and the key.
    """
    run = Path(run_dir)
    path, raw = read_run_summary(run)
    c = _Checker(path)
    top = c.obj(raw, "(top level)")
    rules = c.obj(c.get(top, "rules", ""), "rules")
    inputs = c.obj(c.get(top, "inputs", ""), "inputs")
    segments = [
        _segment_info(c, c.obj(item, f"segments[{i}]"), i)
        for i, item in enumerate(c.array(c.get(top, "segments", ""), "segments"))
    ]
    changes = None
    if "changes" in top:
        changes = {
            name: {
                kind: c.integer(n, f"changes.{name}.{kind}")
                for kind, n in c.obj(counts, f"changes.{name}").items()
            }
            for name, counts in c.obj(top["changes"], "changes").items()
        }
    previous = c.obj(top["previous"], "previous") if "previous" in top else None
    return RunInfo(
        path=run,
        as_of=c.string(c.get(top, "as_of", ""), "as_of"),
        rules_path=c.string(c.get(rules, "path", "rules"), "rules.path"),
        rules_sha256=c.string(c.get(rules, "sha256", "rules"), "rules.sha256"),
        inputs=tuple(
            (
                role,
                str(c.obj(spec, f"inputs.{role}").get("path", "")),
                c.opt_integer(spec.get("rows"), f"inputs.{role}.rows"),
            )
            for role, spec in inputs.items()
        ),
        suppressed=c.integer(c.get(top, "suppressed", ""), "suppressed"),
        segments=tuple(segments),
        previous=previous,
        changes=changes,
        warnings=_warnings(c, top),
    )


def bad_value_warnings(summary: dict[str, Any]) -> list[str]:
    """One line per input column with values its parser could not read.

    Such values (a band like ``lots``, a country like ``Narnia``) are read as empty rather
    than failing the run; the counts are in ``summary.json`` under
    ``inputs.<role>.bad_values``, a few of them under ``inputs.<role>.bad_value_examples``.
    """
    lines = []
    for role, entry in summary["inputs"].items():
        examples = entry.get("bad_value_examples") or {}
        for column, count in (entry.get("bad_values") or {}).items():
            shown = ", ".join(repr(v) for v in examples.get(column) or [])
            lines.append(
                f"{role} input {entry['path']}: {count:,} value{'s' if count != 1 else ''} "
                f"of `{column}` could not be read and {'are' if count != 1 else 'is'} "
                f"treated as empty{f', e.g. {shown}' if shown else ''}"
            )
    return lines


def _warnings(c: _Checker, top: dict[str, Any]) -> tuple[str, ...]:
    """The run's warnings: values its inputs could not read, and what its exports'
    tools would refuse or leave out."""
    inputs = {}
    for role, spec in c.obj(c.get(top, "inputs", ""), "inputs").items():
        spec = c.obj(spec, f"inputs.{role}")
        where = f"inputs.{role}.bad_values"
        counts = c.obj(spec.get("bad_values", {}), where)
        examples = c.obj(spec.get("bad_value_examples", {}), f"inputs.{role}.bad_value_examples")
        inputs[role] = {
            "path": str(spec.get("path", "")),
            "bad_values": {k: c.integer(n, f"{where}.{k}") for k, n in counts.items()},
            "bad_value_examples": {
                k: [str(v) for v in c.array(x, f"inputs.{role}.bad_value_examples.{k}")]
                for k, x in examples.items()
            },
        }
    lines = bad_value_warnings({"inputs": inputs})
    exported = top.get("exports")
    if exported is not None:
        found = c.get(c.obj(exported, "exports"), "warnings", "exports")
        items = c.array(found, "exports.warnings")
        lines += [c.string(w, f"exports.warnings[{i}]") for i, w in enumerate(items)]
    return tuple(lines)


def _segment_info(c: _Checker, seg: dict[str, Any], i: int) -> SegmentInfo:
    where = f"segments[{i}]"
    name = c.string(c.get(seg, "name", where), f"{where}.name")
    file = c.string(seg.get("file", f"{name}.parquet"), f"{where}.file")
    # Only a file inside the run: a summary must not point the report anywhere else.
    if Path(file).name != file or file in ("", ".", ".."):
        raise c.fail(f"{where}.file", "a file name in the run directory", file)
    funnel = c.obj(c.get(seg, "funnel", where), f"{where}.funnel")
    tiers = []
    for k, tier in enumerate(c.array(c.get(seg, "tier_plan", where), f"{where}.tier_plan")):
        at = f"{where}.tier_plan[{k}]"
        tier = c.obj(tier, at)
        tiers.append(
            TierInfo(
                name=c.string(c.get(tier, "name", at), f"{at}.name"),
                min_score=c.opt_integer(c.get(tier, "min_score", at), f"{at}.min_score"),
                max_accounts=c.opt_integer(tier.get("max_accounts"), f"{at}.max_accounts"),
                size=c.integer(c.get(tier, "size", at), f"{at}.size"),
                threshold=c.string(tier["threshold"], f"{at}.threshold")
                if tier.get("threshold")
                else "",
                min_fit=c.opt_integer(tier.get("min_fit"), f"{at}.min_fit"),
                min_intent=c.opt_integer(tier.get("min_intent"), f"{at}.min_intent"),
            )
        )
    hist = []
    for k, item in enumerate(
        c.array(c.get(seg, "score_histogram", where), f"{where}.score_histogram")
    ):
        at = f"{where}.score_histogram[{k}]"
        item = c.obj(item, at)
        hist.append(
            (
                c.integer(c.get(item, "score", at), f"{at}.score"),
                c.integer(c.get(item, "accounts", at), f"{at}.accounts"),
            )
        )
    dq = c.obj(c.get(seg, "disqualifiers", where), f"{where}.disqualifiers")
    return SegmentInfo(
        index=i,
        name=name,
        description=str(seg.get("description") or ""),
        file=file,
        funnel={
            k: c.integer(c.get(funnel, k, f"{where}.funnel"), f"{where}.funnel.{k}")
            for k in FUNNEL_KEYS
        },
        max_accounts=c.opt_integer(seg.get("max_accounts"), f"{where}.max_accounts"),
        tiers=tuple(tiers),
        disqualifiers=tuple((k, c.integer(v, f"{where}.disqualifiers.{k}")) for k, v in dq.items()),
        histogram=tuple(sorted(hist)),
    )


@dataclass(frozen=True)
class Breakdown:
    """Listed accounts by one attribute: the top values and what the cut-off holds."""

    rows: list[tuple[str, int]]
    more_values: int
    more_accounts: int


@dataclass(frozen=True)
class ListFacts:
    """What the report reads from one segment's list."""

    breakdowns: dict[str, Breakdown | None]
    top_table: pl.DataFrame  # the first tier's top rows, in rank order
    top_total: int  # accounts in the first tier
