"""Decision speed: how long one budget optimisation of a fitted model takes, with its regret.

For each fit directory given (default: the three fits of ``mmmcal demo`` in ``demo_out``), in
one process after loading the fit: :func:`mmmcal.decide.allocate.optimize_budget` at today's
budget with the default bounds (neutral and mean-minus-sd objectives), the model's own regret
draws, and with ``--truth`` the true regret. Prints a row per fit, then one JSON line with
``max_optimize_s`` (neutral split plus the model's regret, the slowest fit) and each fit's
figures.

    .venv/bin/python benchmarks/decision_speed.py --truth demo_out/world/truth.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = [f"demo_out/fits/{n}" for n in ("uncalibrated", "calibrated", "calibrated_all")]
    parser.add_argument("--fits", nargs="+", default=default)
    parser.add_argument("--truth", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    from mmmcal.decide.allocate import optimize_budget
    from mmmcal.decide.regret import model_regret, true_regret
    from mmmcal.files import read_truth_file
    from mmmcal.models.engines import load_fit

    truth = read_truth_file(args.truth) if args.truth else None
    rows = []
    for fit_dir in args.fits:
        model = load_fit(fit_dir)
        allocation, split_s = _timed(optimize_budget, model)
        own, regret_s = _timed(model_regret, allocation)
        _, risk_s = _timed(optimize_budget, model, objective="mean_minus_sd")
        row = {
            "fit": Path(fit_dir).name,
            "optimize_s": round(split_s + regret_s, 3),
            "split_s": round(split_s, 3),
            "model_regret_s": round(regret_s, 3),
            "mean_minus_sd_s": round(risk_s, 3),
            "p_beats_today": allocation.p_beats_today,
            "model_regret": own["expected"],
            "model_regret_interval": own["interval"],
        }
        if truth is not None:
            row["true_regret"] = true_regret(allocation, truth).regret
        rows.append(row)
        print(json.dumps(row))
    result = {"max_optimize_s": max(r["optimize_s"] for r in rows), "fits": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
