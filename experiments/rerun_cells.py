"""Re-run chosen cells of a study with changed sampler or model settings, side by side.

For a quick check of a remedy on the cells a study found wanting (e.g. from
``unhealthy_fits.csv``) before a whole study is run with it. Prints one JSON line per cell:
seconds, divergences, max R-hat, min bulk ESS, and the estimated and true shares.

    .venv/bin/python experiments/rerun_cells.py experiments/trust_beyond_tested.yaml \
        --changes '{"sampler": {"target_accept": 0.99}}' slow-tv:0:uncalibrated
"""

from __future__ import annotations

import argparse
import json
import time

from mmmcal.study.cell import run_cell
from mmmcal.study.spec import Cell, Study, load_study


def changed_study(study: Study, changes: dict) -> Study:
    """``study`` with ``changes["sampler"]`` and ``changes["model"]`` merged into its own."""
    data = study.model_dump(mode="json")
    data["sampler"].update(changes.get("sampler", {}))
    data["model"].update(changes.get("model", {}))
    return Study.from_dict(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study")
    parser.add_argument("cells", nargs="+", help="scenario:seed:arm")
    parser.add_argument("--changes", default="{}", help='JSON: {"sampler": {}, "model": {}}')
    args = parser.parse_args()
    study = changed_study(load_study(args.study), json.loads(args.changes))
    for text in args.cells:
        scenario, seed, arm = text.split(":")
        start = time.perf_counter()
        rows = run_cell(study, Cell(scenario, int(seed), arm))
        first = rows.iloc[0]
        channels = rows["channel"].tolist()
        print(
            json.dumps(
                {
                    "cell": text,
                    "seconds": round(time.perf_counter() - start, 1),
                    "divergences": int(first["divergences"]),
                    "max_rhat": round(float(first["max_rhat"]), 3),
                    "min_ess_bulk": int(first["min_ess_bulk"]),
                    "share_mean": dict(zip(channels, rows["share_mean"].round(3), strict=True)),
                    "true_share": dict(zip(channels, rows["true_share"].round(3), strict=True)),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
