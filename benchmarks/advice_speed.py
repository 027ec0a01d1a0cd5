"""Advice speed: how long ranking 10 candidate tests under one fitted model takes.

For each fit directory given (default: the three fits of ``mmmcal demo`` in ``demo_out``), in
one process after loading the fit: :func:`mmmcal.advise.advice.advise` over ten candidates
(a +50% heavy-up and a go-dark of 8 weeks per channel, TV switched on, TV +100%, a social
pull-back and a 4-week search heavy-up) at the default 1,000 draws and 64 hypothetical
outcomes. No refit: where importance weights degenerate the linear-Gaussian update is used
(``linear_update_share``). Prints a row per fit, then one JSON line with ``max_advice_s``.

    .venv/bin/python benchmarks/advice_speed.py
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

CANDIDATES = [
    {"channel": c, "design": d} for c in ("tv", "social", "search") for d in ("heavy-up", "go-dark")
] + [
    {"channel": "tv", "design": "switch-on"},
    {"channel": "tv", "design": "heavy-up", "spend_change": 1.0},
    {"channel": "social", "design": "pull-back"},
    {"channel": "search", "design": "heavy-up", "weeks": 4},
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = [f"demo_out/fits/{n}" for n in ("uncalibrated", "calibrated", "calibrated_all")]
    parser.add_argument("--fits", nargs="+", default=default)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    from mmmcal.advise.advice import advise
    from mmmcal.advise.candidates import parse_candidates
    from mmmcal.models.engines import load_fit

    candidates = parse_candidates(CANDIDATES)
    rows = []
    for fit_dir in args.fits:
        model = load_fit(fit_dir)
        post = model.idata_.posterior
        start = time.perf_counter()
        advice = advise(model, candidates)
        seconds = time.perf_counter() - start
        table = advice.table
        row = {
            "fit": Path(fit_dir).name,
            "advice_s": round(seconds, 3),
            "draws_in_fit": int(post.sizes["chain"] * post.sizes["draw"]),
            "n_candidates": len(table),
            "advised": advice.best,
            "linear_update_share": round(float(table["linear_update_share"].mean()), 3),
            "max_pareto_k": round(float(table["pareto_k"].max()), 3),
            "top3": list(table["candidate"].head(3)),
        }
        rows.append(row)
        print(json.dumps(row))
    result = {"max_advice_s": max(r["advice_s"] for r in rows), "fits": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
