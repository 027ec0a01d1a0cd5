"""Study runner throughput: cells per hour with 1 and 2 Dask workers, and the runner's overhead.

Runs a study (default: ``experiments/smoke_study.yaml`` with ``--seeds`` seeds) from scratch
once per worker count, each on a fresh Dask ``LocalCluster`` of single-threaded worker
processes, into a temporary directory. Per run:

- ``cells_per_hour`` = finished cells / wall seconds x 3600 (wall: :func:`run_study`'s
  whole call, cluster start-up and shut-down included);
- ``overhead_vs_cells`` = 1 - sum(cell_seconds) / (workers x wall): the share of worker
  time not spent inside :func:`run_cell` (start-up, scheduling, transfers, writing cells,
  idle workers at the end);
- ``overhead_vs_fits`` = 1 - sum(fit_seconds) / (workers x wall): also counts simulating
  worlds, designing tests, building models and scoring as overhead (target < 5% for real
  study sampler settings; tiny smoke fits make every fixed cost look large).

Prints one JSON line.

    .venv/bin/python benchmarks/study_throughput.py --seeds 4 \
        --out benchmarks/results/study_throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from mmmcal.study.runner import run_study
from mmmcal.study.spec import Study, load_study
from mmmcal.study.summary import load_cells

ROOT = Path(__file__).resolve().parents[1]


def measure(study: Study, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        run = run_study(study, tmp, workers=workers, progress=False)
        if run.failed:
            raise RuntimeError(f"cells failed: {run.failed}")
        cells = load_cells(tmp).drop_duplicates(["scenario", "seed", "arm"])
    wall = run.wall_seconds
    return {
        "workers": workers,
        "cells": len(run.finished),
        "wall_seconds": wall,
        "cells_per_hour": round(len(run.finished) / wall * 3600, 1),
        "sum_cell_seconds": round(float(cells["cell_seconds"].sum()), 2),
        "sum_fit_seconds": round(float(cells["fit_seconds"].sum()), 2),
        "overhead_vs_cells": round(1 - cells["cell_seconds"].sum() / (workers * wall), 4),
        "overhead_vs_fits": round(1 - cells["fit_seconds"].sum() / (workers * wall), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default=str(ROOT / "experiments" / "smoke_study.yaml"))
    parser.add_argument("--seeds", type=int, default=4, help="Seeds 0..N-1 (replaces the file's).")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", default=None, help="Also write the JSON to this file.")
    args = parser.parse_args()

    base = load_study(args.study)
    study = Study.from_dict({**base.model_dump(mode="json"), "seeds": list(range(args.seeds))})
    result = {
        "study": Path(args.study).name,
        "seeds": args.seeds,
        "cpu_count": os.cpu_count(),
        "sampler": study.sampler.model_dump(exclude_none=True),
        "runs": [measure(study, w) for w in args.workers],
    }
    line = json.dumps(result)
    print(line)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
