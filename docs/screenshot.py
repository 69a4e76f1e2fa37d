"""Regenerate docs/report.png: the run report of the sample data, as Chromium shows it.

Builds two monthly runs of the sample data (so the report has changes to show) in a
temporary directory, then has headless Chromium take a screenshot of the top of the second
run's report.html. Needs Chromium (Debian's: `.ci/install-chromium`).

    python docs/screenshot.py [--out docs/report.png] [--width 1100] [--height 2060]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_sample_runs(workdir: Path) -> Path:
    """Build October and November runs of the sample data; return November's directory.

    The build runs inside ``workdir``, where ``data`` and ``rules`` link to the repository's,
    so the report shows the short paths a reader would type, not temporary ones.
    """
    from listbuilder.outputs.run import run_build

    for name in ("data", "rules"):
        (workdir / name).symlink_to(ROOT / name, target_is_directory=True)
    inputs = {
        "rules_path": "rules/example.toml",
        "companies_path": "data/companies.parquet",
        "jobs_path": "data/jobs.parquet",
        "funding_path": "data/funding.parquet",
        "crm_path": "data/crm.csv",
        "events_paths": {
            name: f"data/{name}.parquet"
            for name in ("exec_hires", "intent", "layoffs", "headcount")
        },
    }
    cwd = Path.cwd()
    os.chdir(workdir)
    try:
        run_build(**inputs, as_of=dt.date(2026, 10, 1), out="runs/2026-10")
        run_build(
            **inputs, as_of=dt.date(2026, 11, 1), out="runs/2026-11", previous_path="runs/2026-10"
        )
    finally:
        os.chdir(cwd)
    return workdir / "runs" / "2026-11"


def screenshot(page: Path, out: Path, width: int, height: int, profile: Path) -> None:
    """Save a PNG of the first ``width`` x ``height`` pixels of ``page``."""
    chromium = os.environ.get("LISTBUILDER_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        sys.exit("no chromium found: run .ci/install-chromium, or set LISTBUILDER_CHROMIUM")
    args = [
        chromium,
        "--headless",
        f"--user-data-dir={profile}",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--font-render-hinting=none",
        f"--window-size={width},{height}",
        f"--screenshot={out.resolve()}",
        page.as_uri(),
    ]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium will not start as root with its sandbox.
    subprocess.run(args, check=True, timeout=120, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=2060)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="listbuilder-screenshot-") as tmp:
        run = build_sample_runs(Path(tmp))
        screenshot(run / "report.html", options.out, options.width, options.height, Path(tmp))
    print(f"wrote {options.out}")


if __name__ == "__main__":
    main()
