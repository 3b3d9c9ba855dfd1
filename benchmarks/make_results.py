"""Merge the measured results in benchmarks/results/*.md into benchmarks/RESULTS.md.

Each benchmark script writes its own file in benchmarks/results/ (with date, machine, versions and the exact
command); this script only concatenates them in a fixed order under one table of contents.
Run: python benchmarks/make_results.py
"""

from __future__ import annotations

import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["accuracy", "oscillations", "discharge_model", "stats", "speed", "long_recording"]


def main() -> None:
    files = {p.stem: p for p in sorted((HERE / "results").glob("*.md"))}
    names = [n for n in ORDER if n in files] + [n for n in files if n not in ORDER]
    parts = ["# drgephys benchmark results", "",
             f"Merged {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by "
             "`python benchmarks/make_results.py` from `benchmarks/results/*.md`; each section gives its own date, "
             "machine, versions and command.", ""]
    parts += [f"- [{n}](#{n})" for n in names] + [""]
    for n in names:
        parts += [f'<a id="{n}"></a>', "", files[n].read_text().strip(), "", "---", ""]
    (HERE / "RESULTS.md").write_text("\n".join(parts))
    print(f"wrote {HERE / 'RESULTS.md'} ({len(names)} sections)")


if __name__ == "__main__":
    main()
