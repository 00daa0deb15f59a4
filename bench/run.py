"""Runs every benchmark in bench/ (make bench), one after another. Each prints its figures as ratios against a
raw reference measured in the same run. ``bench/run.py bench_transcode_ladder`` runs just that one.

Files named ``*_common.py`` hold shared helpers, not benchmarks.
"""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    sys.path[:0] = [str(HERE.parent), str(HERE)]
    names = sys.argv[1:] or sorted(p.stem for p in HERE.glob("bench_*.py") if not p.stem.endswith("_common"))
    for name in names:
        print(f"== {name}", flush=True)
        runpy.run_path(str(HERE / f"{name}.py"), run_name="__main__")
