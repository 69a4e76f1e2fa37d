"""Writing outputs safely: whole directories and files appear at once or not at all, and
only ever replace what listbuilder itself wrote.

Every output directory (a run, a match, an export, a profile, a backtest) gets a marker
file, ``.listbuilder.json``, naming its kind and the sha256 of every file written. A
directory is replaced only when it is missing, empty, or an output of the same kind whose
files are all still exactly as written; anything else is refused with a ``ConfigError``
naming what is there. Outputs written before the marker existed are recognised by their
layout (their own JSON file and nothing but the names that kind writes).
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path

import polars as pl

from listbuilder.errors import ConfigError, DataError

LIST_SEPARATOR = ";"
MARKER = ".listbuilder.json"
FORMAT_VERSION = 1
ADVICE = "choose another output path (--out) or remove it yourself"


@dataclass(frozen=True)
class OutputKind:
    """One kind of output directory, and how to recognise one written before the marker.

    Attributes:
        name: ``run``, ``match``, ...; the marker's format is ``listbuilder-<name>/1``.
        noun: How errors speak of what wrote it ("the run").
        legacy_file: The JSON (or other) file every output of this kind has always had.
        legacy_keys: Keys that file's JSON object always held (none: not checked).
        layout: Name patterns of everything this kind writes at its top level.
        nested: Sub-directories this kind writes, each an output of the given kind.
        listed: A key of the legacy file listing the files written (``[{"name": ...}]``);
            when set, only those names and the legacy file itself are that kind's.
    """

    name: str
    noun: str
    legacy_file: str
    legacy_keys: tuple[str, ...]
    layout: tuple[str, ...]
    nested: tuple[tuple[str, str], ...] = ()
    listed: str | None = None

    @property
    def title(self) -> str:
        return f"{self.name} directory"

    @property
    def a_title(self) -> str:
        return f"{'an' if self.name[0] in 'aeiou' else 'a'} {self.title}"

    @property
    def format(self) -> str:
        return f"listbuilder-{self.name}/{FORMAT_VERSION}"


KINDS = {
    kind.name: kind
    for kind in (
        OutputKind(
            "run",
            "the run",
            "summary.json",
            ("as_of", "rules", "inputs", "segments"),
            ("summary.json", "report.html", "*.parquet", "*.csv", "exports"),
            nested=(("exports", "export"),),
        ),
        OutputKind(
            "match",
            "the match",
            "summary.json",
            ("inputs", "crm", "matches"),
            ("summary.json", "matches.csv", "review.csv", "duplicates.csv"),
        ),
        OutputKind(
            "export", "the export", "export.json", ("files",), ("export.json",), listed="files"
        ),
        OutputKind(
            "profile",
            "the profile",
            "profile.csv",
            (),
            (
                "profile.csv",
                "profile.md",
                "proposed_rules.toml",
                "best_vs_worst.csv",
                "holdout.csv",
                "calibration.csv",
            ),
        ),
        OutputKind(
            "backtest",
            "the backtest",
            "backtest.json",
            ("rules",),
            ("backtest.json", "backtest.csv"),
        ),
    )
}


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike[str], kind: str) -> Iterator[Path]:
    """Yield a fresh temporary directory that replaces ``target`` whole on success.

    ``target`` must be missing, empty, or an unchanged earlier output of ``kind`` (see
    ``check_output_dir``). The temporary directory is a sibling of ``target`` so the
    final move is a rename on the same filesystem; on success it gets the marker listing
    every file in it. If the body raises, the temporary directory is removed and
    ``target`` is left exactly as it was. Directories follow the umask.

    Raises:
        ConfigError: ``target`` holds something listbuilder did not write (checked before
            the body runs).
        DataError: The filesystem refused to create or rename a directory.
    """
    target = Path(target)
    check_output_dir(target, kind)
    with _os_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _fresh_sibling(target, "tmp", directory=True)
    try:
        yield tmp
        write_marker(tmp, kind)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with _os_errors(target):
        _swap(tmp, target)


def _swap(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target``; on any failure put the old ``target`` back, drop ``tmp``."""
    old: Path | None = None
    try:
        if os.path.lexists(target):
            old = _fresh_sibling(target, "old", directory=False)
            target.rename(old)
        tmp.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path that is renamed onto ``target`` when the body succeeds.

    The caller checks that ``target`` may be replaced (see ``check_snapshot_target``).
    The file is created with the umask's permissions, like any file a tool writes.
    """
    target = Path(target)
    with _os_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _fresh_sibling(target, "tmp", directory=False)
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with _os_errors(target):
        os.replace(tmp, target)


def _fresh_sibling(target: Path, tag: str, *, directory: bool) -> Path:
    """A new hidden name beside ``target`` (created as a directory when asked).

    Made by hand rather than with ``tempfile`` so the directory gets the umask's
    permissions, not ``tempfile``'s private 0700. The name keeps to a short prefix of
    ``target``'s so it fits the filesystem's limit whenever ``target``'s own name does.
    """
    while True:
        candidate = target.parent / f".{target.name[:40]}.{tag}-{secrets.token_hex(4)}"
        if directory:
            try:
                candidate.mkdir(mode=0o777)
            except FileExistsError:
                continue
            return candidate
        if not os.path.lexists(candidate):
            return candidate


@contextlib.contextmanager
def _os_errors(target: Path) -> Iterator[None]:
    """Turn the filesystem's refusals (too long a name, no permission...) into a DataError."""
    try:
        yield
    except OSError as exc:
        raise DataError(f"cannot write {target}: {exc.strerror or exc}") from None


# --- what may be replaced -------------------------------------------------------------------


def check_output_dir(target: str | os.PathLike[str], kind: str) -> None:
    """Refuse ``target`` as the output directory of ``kind`` unless replacing it loses nothing.

    Allowed: a path that does not exist yet, an empty directory, or an output of the same
    kind whose files are all exactly as listbuilder wrote them (or, for one written before
    the marker, nothing but the names that kind writes).

    Raises:
        ConfigError: ``target`` is the working directory or holds it, lies under a file, is
            a file or a link, or is a directory holding anything else; the message names
            what is there.
        DataError: The filesystem could not be asked (a name too long, no permission).
    """
    target = Path(target)
    spec = KINDS[kind]
    with _os_errors(target):
        _check_place(target)
        if not os.path.lexists(target):
            return
        if target.is_symlink():
            raise ConfigError(
                f"{target} is a symbolic link; name the directory it points to instead"
            )
        if not target.is_dir():
            raise ConfigError(f"{target} is a file, not a listbuilder {spec.title}; {ADVICE}")
        entries = sorted(p.name for p in target.iterdir())
        if not entries:
            return
        found = _marker_kind(target)
        if found is not None and found != kind:
            raise ConfigError(
                f"{target} is a listbuilder {KINDS[found].title}, not {spec.a_title}; {ADVICE}"
            )
        if found is None:
            if not _legacy(target, spec):
                raise ConfigError(
                    f"{target} is not a listbuilder {spec.title}: it holds "
                    f"{_listing(entries)}; {ADVICE}"
                )
            return
        foreign = _unrecorded(target)
        if foreign:
            raise ConfigError(
                f"{target} is a listbuilder {spec.title}, but holds files {spec.noun} did not "
                f"write or that were changed since: {_listing(foreign, 5)}; move them "
                "elsewhere, or choose another output path (--out)"
            )


def _check_place(target: Path) -> None:
    """Refuse the working directory (or one holding it), and a path under a file.

    A name the filesystem cannot hold raises ``OSError`` here, before any work is done.
    """
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        os.lstat(target)
    absolute = target.resolve()
    cwd = Path.cwd().resolve()
    if absolute == cwd or absolute in cwd.parents:
        raise ConfigError(
            f"{target} is the current directory or holds it; an output directory is replaced "
            "whole, so give it one of its own, e.g. out/"
        )
    for parent in target.parents:
        if os.path.lexists(parent) and not parent.is_dir():
            raise ConfigError(f"cannot write {target}: {parent} is a file, not a directory")


def _listing(names: list[str], shown: int = 2) -> str:
    """``a``, ``a and b``, ``a, b and c``, or ``a, b and 5 more``."""
    if len(names) <= shown + 1:
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _marker(directory: Path) -> dict[str, object] | None:
    """The marker of ``directory``, if it has a well-formed one."""
    data = _read_json(directory / MARKER)
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    return data


def _marker_kind(directory: Path) -> str | None:
    """The kind a directory's marker names, or None without a (recognisable) marker."""
    data = _marker(directory)
    if data is None:
        return None
    for name, spec in KINDS.items():
        if data.get("format") == spec.format:
            return name
    return None


def _unrecorded(target: Path) -> list[str]:
    """Paths under ``target`` that no marker records as written with these very bytes.

    A file is checked against the marker of the nearest directory above it that has one,
    so an export written into a run's ``exports/`` answers for its own files.
    """
    markers: dict[Path, dict[str, object]] = {}
    foreign: list[str] = []
    for path in sorted(target.rglob("*")):
        if path.name == MARKER:
            continue
        relative = path.relative_to(target).as_posix()
        if path.is_dir() and not path.is_symlink():
            if any(path.iterdir()):
                continue  # judged by what it holds
            foreign.append(relative + "/")
            continue
        owner = next(d for d in path.parents if d == target or (d / MARKER).is_file())
        if owner not in markers:
            markers[owner] = _marker(owner) or {"files": {}}
        recorded = markers[owner]["files"]
        key = path.relative_to(owner).as_posix()
        unchanged = (
            not path.is_symlink()
            and isinstance(recorded, dict)
            and recorded.get(key) == sha256_of([path])
        )
        if not unchanged:
            foreign.append(relative)
    return foreign


def _legacy(directory: Path, spec: OutputKind) -> bool:
    """Whether ``directory`` is an output of ``spec`` written before the marker existed."""
    data = _read_json(directory / spec.legacy_file)
    if spec.legacy_keys:
        if not isinstance(data, dict) or not all(k in data for k in spec.legacy_keys):
            return False
    elif not (directory / spec.legacy_file).is_file():
        return False
    layout = list(spec.layout)
    if spec.listed and isinstance(data, dict) and isinstance(data[spec.listed], list):
        listed = data[spec.listed]
        layout += [glob_escape(str(f.get("name"))) for f in listed if isinstance(f, dict)]
    nested = dict(spec.nested)
    for entry in directory.iterdir():
        if entry.is_symlink():
            return False
        if entry.name in nested and entry.is_dir():
            inner = KINDS[nested[entry.name]]
            if _marker_kind(entry) == inner.name:
                if _unrecorded(entry):
                    return False
            elif any(entry.iterdir()) and not _legacy(entry, inner):
                return False
        elif not entry.is_file() or not any(
            fnmatch.fnmatchcase(entry.name, pattern) for pattern in layout
        ):
            return False
    return True


def write_marker(directory: Path, kind: str) -> None:
    """Record the kind and every file's sha256, so a later run knows what it may replace.

    ``atomic_directory`` does this for the directory it writes; call it for an output
    written inside another (a run's ``exports/``) so it is recognised on its own too.
    """
    spec = KINDS[kind]
    files = {
        p.relative_to(directory).as_posix(): sha256_of([p])
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != MARKER
    }
    marker = {"format": spec.format, "files": files}
    (directory / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def record_file(directory: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Note in ``directory``'s marker (if it has one) that listbuilder rewrote ``path``.

    For a file written into an existing output afterwards, e.g. a run's redrawn report.
    """
    directory = Path(directory)
    marker = _marker(directory)
    if marker is None:
        return
    files = dict(marker["files"])  # type: ignore[call-overload]
    files[Path(path).relative_to(directory).as_posix()] = sha256_of([Path(path)])
    marker["files"] = dict(sorted(files.items()))
    with atomic_file(directory / MARKER) as tmp:
        tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def check_snapshot_target(out: Path, metadata: Path) -> None:
    """Refuse a pull snapshot path unless replacing it (and its metadata) loses nothing.

    Allowed: nothing there yet, or a snapshot whose metadata file (``metadata``, written by
    an earlier pull) describes it with the same sha256; the metadata file may only be
    one an earlier pull wrote.

    Raises:
        ConfigError: Either path holds something an earlier pull did not write.
        DataError: The filesystem could not be asked.
    """
    with _os_errors(out):
        _check_place(out)
        meta = _read_json(metadata) if os.path.lexists(metadata) else None
        is_meta = isinstance(meta, dict) and all(
            k in meta for k in ("source", "snapshot", "snapshot_sha256")
        )
        if os.path.lexists(metadata) and (not is_meta or metadata.is_symlink()):
            raise ConfigError(
                f"{metadata} is not the metadata of a listbuilder pull, and a pull to {out} "
                f"would replace it; {ADVICE}"
            )
        if not os.path.lexists(out):
            return
        if out.is_dir() or out.is_symlink():
            raise ConfigError(
                f"{out} is a {'directory' if out.is_dir() else 'link'}, not a pull snapshot; "
                f"{ADVICE}"
            )
        if not is_meta or meta["snapshot"] != out.name:  # type: ignore[index]
            raise ConfigError(
                f"{out} is not a snapshot written by listbuilder pull (no {metadata.name} "
                f"beside it describes it); {ADVICE}"
            )
        if meta["snapshot_sha256"] != sha256_of([out]):  # type: ignore[index]
            raise ConfigError(
                f"{out} was changed since listbuilder pulled it ({metadata.name} records "
                f"other contents); {ADVICE}"
            )


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
