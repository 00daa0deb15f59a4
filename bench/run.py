"""Runs every benchmark in bench/ (make bench), one after another. Each prints its figures as ratios against a
raw reference measured in the same run. ``bench/run.py bench_transcode_ladder`` runs just that one.

The search benchmarks (``search_*.py``) measure the engine at ``SEARCH_URL`` when it is set (``services/up``, then
``source var/services/env``); without it they measure the embedded index alone and say so.

Each benchmark runs in a process of its own: Django's settings (and with them the temporary var/ folder a
benchmark points them at) can be set up only once per process. Files named ``*_common.py`` hold shared
helpers, not benchmarks.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    found = [*HERE.glob("bench_*.py"), *HERE.glob("search_*.py"), *HERE.glob("screens_*.py")]
    names = sys.argv[1:] or sorted(p.stem for p in found if not p.stem.endswith("_common"))
    failed = []
    for name in names:
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, str(HERE / f"{name}.py")], cwd=HERE.parent).returncode:
            failed.append(name)
    sys.exit(f"failed: {', '.join(failed)}" if failed else 0)
