"""Non-Bayesian baselines on the reference world: ridge and bounded, before and after one TV test.

World: the `reference` preset. Experiment: an 8-week TV switch-on test at mean spend (5%
precision), reported as its mean lift per week (one row, like a Robyn calibration input;
``--report per_period`` gives the weekly ramp instead). Fits per world seed: ``ridge`` and
``bounded`` uncalibrated, ``ridge_cal`` (MAPE.LIFT objective) and ``bounded_cal`` (lift
bounds), each with the same budget, bootstrap and seed. No Bayesian fits.

Prints one line per fit, then one JSON document: the truth, and per fit the contribution
shares (mean and 90% bootstrap interval), absolute errors, coverage, objectives and
seconds; with several seeds also the mean and standard deviation of the absolute share
error per fit and channel.

    .venv/bin/python benchmarks/baselines_reference.py --budget 1000 \
        --out benchmarks/results/baselines_reference.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from mmmcal import LiftTestDesign, conversion_lift_test, get_preset, simulate
from mmmcal.evaluate.scorecard import score_model
from mmmcal.models.engines import make_engine
from mmmcal.models.spec import ModelSpec

FITS = (
    ("ridge", "ridge", False),
    ("ridge_cal", "ridge", True),
    ("bounded", "bounded", False),
    ("bounded_cal", "bounded", True),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--report", choices=["mean", "per_period"], default="mean")
    parser.add_argument("--out", default=None, help="Also write the JSON document here.")
    args = parser.parse_args()

    runs = []
    for seed in args.seeds:
        world = simulate(get_preset("reference"), seed)
        truth = world.truth_dict()
        spec = ModelSpec.for_world(world)
        design = LiftTestDesign(channel="tv", n_periods=8, switch_on=True, report=args.report)
        lift = conversion_lift_test(world, design, seed=seed)
        fits = {}
        for name, engine, calibrated in FITS:
            model = make_engine(
                engine,
                spec,
                lift if calibrated else None,
                name=name,
                budget=args.budget,
                n_bootstrap=args.bootstrap,
                seed=seed,
            ).fit(world.data)
            score = score_model(model, truth)
            d = model.diagnostics_
            fits[name] = {
                "engine": engine,
                "calibrated": calibrated,
                "seconds": d.fit_seconds,
                "objectives": {
                    "nrmse": d.nrmse,
                    "decomp_rssd": d.decomp_rssd,
                    "mape_lift": d.mape_lift,
                },
                "bounds": {c: list(b) for c, b in getattr(model, "bounds_", {}).items()},
                "channels": {
                    c: {
                        "share_mean": round(s.share_mean, 4),
                        "share_hdi_90": [round(v, 4) for v in s.share_hdi_90],
                        "share_abs_error": round(abs(s.share_error), 4),
                        "share_covered": s.share_covered,
                        "roas_mean": round(s.roas_mean, 5),
                        "roas_covered": s.roas_covered,
                    }
                    for c, s in score.channels.items()
                },
            }
            shares = ", ".join(
                f"{c} {v['share_mean']:.3f}" for c, v in fits[name]["channels"].items()
            )
            print(
                f"seed {seed} {name}: {d.fit_seconds:.1f}s; {shares}", file=sys.stderr, flush=True
            )
        runs.append(
            {
                "seed": seed,
                "true_share": {c: round(v["share"], 4) for c, v in truth["channels"].items()},
                "lift": lift[["test_id", "delta_y", "sigma", "true_delta_y"]].to_dict("records"),
                "fits": fits,
            }
        )
    doc = {
        "world": "reference",
        "test": f"tv 8-week switch-on, report={args.report}",
        "budget": args.budget,
        "bootstrap": args.bootstrap,
        "runs": runs,
    }
    if len(runs) > 1:
        summary: dict[str, dict] = {}
        for name, _, _ in FITS:
            summary[name] = {}
            for c in runs[0]["true_share"]:
                errs = [r["fits"][name]["channels"][c]["share_abs_error"] for r in runs]
                summary[name][c] = {
                    "mean": round(float(np.mean(errs)), 4),
                    "sd": round(float(np.std(errs, ddof=1)), 4),
                }
        doc["abs_share_error"] = summary
    text = json.dumps(doc)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - start:.0f}s", file=sys.stderr)
