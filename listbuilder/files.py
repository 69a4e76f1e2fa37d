"""Writing outputs safely: whole directories and files appear at once or not at all."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from listbuilder.errors import DataError

LIST_SEPARATOR = ";"


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary directory that replaces ``target`` whole on success.

    The temporary directory is a sibling of ``target`` so the final move is a rename on
    the same filesystem. If the body raises, the temporary directory is removed and
    ``target`` is left exactly as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old: Path | None = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path that is renamed onto ``target`` when the body succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)


def flatten_lists(df: pl.DataFrame) -> pl.DataFrame:
    """Join list columns with ``;`` so a frame can go to CSV, which has no list type."""
    list_cols = [name for name, dtype in df.schema.items() if isinstance(dtype, pl.List)]
    if not list_cols:
        return df
    return df.with_columns(
        pl.col(c).cast(pl.List(pl.String)).list.join(LIST_SEPARATOR) for c in list_cols
    )


def write_csv(df: pl.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``df`` as UTF-8 CSV (RFC 4180 quoting), list columns joined with ``;``."""
    flatten_lists(df).write_csv(path, date_format="%Y-%m-%d")


def sha256_of(paths: list[Path]) -> str:
    """Return the sha256 of one file, or of several files read in the given order."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def read_run_summary(run_dir: str | os.PathLike[str]) -> tuple[Path, object]:
    """The path and parsed content of a run directory's ``summary.json``.

    Raises:
        DataError: ``run_dir`` is not a run directory, or its summary is not JSON.
    """
    run = Path(run_dir)
    path = run / "summary.json"
    if not path.is_file():
        what = "has no summary.json" if run.is_dir() else "does not exist"
        raise DataError(
            f"{run} is not a run directory: it {what} (a run directory is written by "
            "`listbuilder build --out DIR`)"
        )
    try:
        return path, json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None
