"""Progress for long steps: a live line on a terminal, timings and row counts in the log.

The build announces its stages here; whether anything shows is the caller's choice, so
the library stays silent by default and a scheduler's log stays clean.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

log = logging.getLogger("listbuilder")
_SPINNER = "|/-\\"


@dataclass
class Stage:
    """One step in progress; the step may set ``rows`` to report how much it handled."""

    name: str
    rows: int | None = None


class Progress:
    """Announces stages: a live line when ``live`` (a terminal), log records always."""

    def __init__(self, *, live: bool = False, stream: TextIO | None = None) -> None:
        self.live = live
        self.stream = stream if stream is not None else sys.stderr

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[Stage]:
        """Time a step; on a terminal, show it running and then how long it took."""
        info = Stage(name)
        start = time.perf_counter()
        stop = threading.Event()
        spinner = None
        if self.live:
            spinner = threading.Thread(target=self._spin, args=(name, start, stop), daemon=True)
            spinner.start()
        try:
            yield info
        finally:
            stop.set()
            if spinner is not None:
                spinner.join()
            elapsed = time.perf_counter() - start
            rows = f", {info.rows:,} rows" if info.rows is not None else ""
            log.info("%s: %.2fs%s", name, elapsed, rows)
            if self.live:
                self.stream.write(f"\r{name}: {elapsed:.1f}s{rows}\033[K\n")
                self.stream.flush()

    def _spin(self, name: str, start: float, stop: threading.Event) -> None:
        tick = 0
        while not stop.wait(0.2):
            elapsed = time.perf_counter() - start
            self.stream.write(f"\r{_SPINNER[tick % 4]} {name} {elapsed:.0f}s\033[K")
            self.stream.flush()
            tick += 1


QUIET = Progress(live=False)
