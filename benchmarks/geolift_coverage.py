"""Is a CausalPy geo-lift row right? Bias and 90%-interval coverage of the national lift.

Runs seeded geo-lift tests on `reference-geo` (TV heavy-up x3 in 15 random geos for 8 weeks,
a different world seed and geo draw per test), converts each to lift rows with mmmcal, and
compares the national `delta_y` with the oracle's `true_delta_y`. Also reports what CausalPy's
own impact (the counterfactual's mean, no noise) would have given as the interval.

Prints progress lines, then one JSON line: {"n_tests", "median_rel_bias", "coverage_90", ...}

    .venv/bin/python benchmarks/geolift_coverage.py --tests 20
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from scipy import stats

from mmmcal import get_preset, simulate
from mmmcal.experiments.geolift import (
    GeoLiftDesign,
    analyze_geolift,
    causalpy_impact_draws,
    design_geolift,
    geolift_rows,
)

Z90 = stats.norm.ppf(0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=20)
    parser.add_argument("--treated", type=int, default=15)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--multiplier", type=float, default=3.0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    rows = []
    for i in range(args.tests):
        world = simulate(get_preset("reference-geo"), seed=i)
        design = GeoLiftDesign(
            channel="tv", n_treated=args.treated, n_periods=args.weeks, multiplier=args.multiplier
        )
        start = time.perf_counter()
        test = design_geolift(world, design, seed=i)
        result, draws = analyze_geolift(test)
        national = geolift_rows(test, draws).iloc[-1]
        scale = test.panel[test.panel.index < test.window_start].mean()
        mu_only = causalpy_impact_draws(result, scale, with_noise=False).sum("treated_units")
        truth = float(national["true_delta_y"])
        row = {
            "test": i,
            "true_delta_y": truth,
            "delta_y": float(national["delta_y"]),
            "sigma": float(national["sigma"]),
            "rel_bias": float(national["delta_y"]) / truth - 1,
            "covered": bool(
                abs(float(national["delta_y"]) - truth) <= Z90 * float(national["sigma"])
            ),
            "sigma_mu_only": float(mu_only.std()),
            "covered_mu_only": bool(
                abs(float(mu_only.mean()) - truth) <= Z90 * float(mu_only.std())
            ),
            "seconds": round(time.perf_counter() - start, 1),
        }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)

    summary = {
        "n_tests": len(rows),
        "median_rel_bias": float(np.median([r["rel_bias"] for r in rows])),
        "coverage_90": float(np.mean([r["covered"] for r in rows])),
        "coverage_90_causalpy_mu_only": float(np.mean([r["covered_mu_only"] for r in rows])),
        "median_sigma_ratio_mu_only": float(
            np.median([r["sigma_mu_only"] / r["sigma"] for r in rows])
        ),
    }
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"summary": summary, "rows": rows, "args": vars(args)}, fh, indent=2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
