"""What a destination last received: a state file, and a journal of accepted batches.

The state is one JSON file per destination (default ``push_state/<destination>.json`` in
the project). While a push runs, every batch the destination accepts is appended to
``<state>.journal`` (one JSON line per accepted record) before the next batch is sent; at
the end the journal is folded into the state and removed. A push that crashes leaves the
journal behind, and the next push folds it in first, so it sends only what was not yet
accepted and never doubles anything.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from listbuilder.errors import DataError
from listbuilder.files import atomic_file

STATE_FORMAT = "listbuilder-push-state/1"
Record = dict[str, Any]


@dataclass
class PushState:
    """Accepted records by key; ``None`` marks a key that was removed (untagged)."""

    path: Path
    destination: str
    records: dict[str, Record] = field(default_factory=dict)

    @property
    def journal(self) -> Path:
        return self.path.with_name(self.path.name + ".journal")


def load_state(path: str | Path, destination: str) -> PushState:
    """The state at ``path`` with any crashed push's journal folded in (empty when new).

    Raises:
        DataError: The file exists but is not a state file of this destination.
    """
    path = Path(path)
    state = PushState(path, destination)
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read push state {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise DataError(f"{path} is not a listbuilder push state file (no format marker)")
        if data.get("destination") != destination:
            raise DataError(
                f"{path} holds the state of {data.get('destination')!r}, not {destination!r}: "
                "give each destination its own --state"
            )
        state.records = dict(data.get("records") or {})
    _fold_journal(state)
    return state


def _fold_journal(state: PushState) -> None:
    if not state.journal.exists():
        return
    with state.journal.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                # A line cut short by a crash: its batch was not fully recorded, so it is
                # simply sent again (updates are idempotent).
                continue
            _apply(state, entry)


def _apply(state: PushState, entry: dict[str, Any]) -> None:
    if entry.get("record") is None:
        state.records.pop(entry["key"], None)
    else:
        state.records[entry["key"]] = entry["record"]


def record_accepted(state: PushState, entries: list[dict[str, Any]]) -> None:
    """Append accepted records to the journal, flushed to disk before the next batch."""
    if not entries:
        return
    state.journal.parent.mkdir(parents=True, exist_ok=True)
    with state.journal.open("a", encoding="utf-8") as out:
        for entry in entries:
            out.write(json.dumps(entry, sort_keys=True) + "\n")
            _apply(state, entry)
        out.flush()
        os.fsync(out.fileno())


def save_state(state: PushState) -> None:
    """Write the state (sorted, so two equal states are equal files) and drop the journal."""
    payload = {"format": STATE_FORMAT, "destination": state.destination, "records": state.records}
    with atomic_file(state.path) as tmp:
        tmp.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    state.journal.unlink(missing_ok=True)
