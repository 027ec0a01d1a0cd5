"""Fit speed and mixing: mmmcal's default path against pymc-marketing's own paths.

The reference world's calibrated model (156 weeks, 3 channels, demand proxy, yearly
seasonality, one 8-week TV switch-on test), 4 chains x 1000 draws after 1000 tuning steps:

(a) ``mmmcal``: :class:`mmmcal.fit.CalibratedMMM` with its defaults (window lift likelihood).
(b) ``pmm_nutpie``: a pymc-marketing MMM as its docs build it (pymc-marketing's defaults,
    steady-state lift test with its default Gamma likelihood), ``nuts_sampler="nutpie"``.
(c) ``pmm_default``: the same with pymc-marketing's default sampler (slow: opt in with
    ``--with-pymc-default``).

Each (path, seed) runs in its own process so peak memory is its own. Per fit: wall seconds
(build+compile vs sampling where separable), min bulk ESS, max R-hat, divergences, ESS/s,
peak RSS, the cost of one log-density-and-gradient evaluation and the number of gradient
evaluations. Last line: one JSON object with ``ess_per_s_ratio`` (median over seeds of
(a)/(b) ESS/s) and ``max_rhat`` over the (a) fits.

    .venv/bin/python benchmarks/fit_speed.py --seeds 3
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def _fit_one(path: str, seed: int, draws: int, tune: int, chains: int) -> dict:
    from mmmcal import LiftTestDesign, conversion_lift_test, get_preset, simulate
    from mmmcal.fit import CalibratedMMM, SamplerConfig, _diagnostics
    from mmmcal.model import ModelSpec

    world = simulate(get_preset("reference"), seed)
    lift = conversion_lift_test(
        world, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), seed
    )
    start = time.perf_counter()
    if path == "mmmcal":
        model = CalibratedMMM(
            ModelSpec.for_world(world),
            lift,
            sampler=SamplerConfig(draws=draws, tune=tune, chains=chains, seed=seed),
        )
        model.build(world.data)
        mmm, idata_fn = model.mmm_, lambda: model.fit(world.data).idata_
        build_s = time.perf_counter() - start
    else:
        import pymc.dims as pmd
        from pymc_marketing.mmm import GeometricAdstock, LogisticSaturation
        from pymc_marketing.mmm.multidimensional import MMM

        X = world.data.drop(columns="sales")
        y = world.data["sales"]
        mmm = MMM(
            date_column="date",
            channel_columns=["tv", "social", "search"],
            target_column="sales",
            control_columns=["demand_proxy"],
            adstock=GeometricAdstock(l_max=8),
            saturation=LogisticSaturation(),
            yearly_seasonality=2,
        )
        mmm.build_model(X, y)
        mmm.add_lift_test_measurements(
            lift[["channel", "x", "delta_x", "delta_y", "sigma"]], dist=pmd.Gamma
        )
        build_s = time.perf_counter() - start
        sampler = "nutpie" if path == "pmm_nutpie" else "pymc"

        def idata_fn():
            return mmm.fit(
                X,
                y,
                nuts_sampler=sampler,
                draws=draws,
                tune=tune,
                chains=chains,
                random_seed=seed,
                progressbar=False,
            )

    # Cost of one log-density-and-gradient evaluation (pytensor C backend, compiled once).
    logp_dlogp = mmm.model.logp_dlogp_function(ravel_inputs=True)
    logp_dlogp.set_extra_values({})
    point = np.concatenate([np.ravel(v) for v in mmm.model.initial_point().values()])
    logp_dlogp(point)
    n_eval = 200
    t0 = time.perf_counter()
    for _ in range(n_eval):
        logp_dlogp(point)
    grad_cost = (time.perf_counter() - t0) / n_eval

    t0 = time.perf_counter()
    idata = idata_fn()
    fit_s = time.perf_counter() - t0
    diag = _diagnostics(idata, [v.name for v in mmm.model.free_RVs], fit_s)
    stats = idata.sample_stats
    if "n_steps" in stats:
        n_grad = int(stats["n_steps"].sum())
    elif "tree_depth" in stats:
        n_grad = int((2 ** stats["tree_depth"] - 1).sum())
    else:
        n_grad = None
    total = build_s + fit_s
    return {
        "path": path,
        "seed": seed,
        "build_s": round(build_s, 2),
        "compile_and_sample_s": round(fit_s, 2),
        "wall_s": round(total, 2),
        "min_ess_bulk": round(diag.min_ess_bulk, 1),
        "max_rhat": round(diag.max_rhat, 4),
        "divergences": diag.divergences,
        "ess_per_s": round(diag.min_ess_bulk / total, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "grad_eval_ms": round(grad_cost * 1000, 4),
        "n_grad_evals": n_grad,
        "gradients_x_cost_s": None if n_grad is None else round(n_grad * grad_cost, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--with-pymc-default", action="store_true")
    parser.add_argument("--one", nargs=2, metavar=("PATH", "SEED"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    if args.one:
        row = _fit_one(args.one[0], int(args.one[1]), args.draws, args.tune, args.chains)
        print(json.dumps(row))
        return

    paths = ["mmmcal", "pmm_nutpie"] + (["pmm_default"] if args.with_pymc_default else [])
    rows = []
    for seed in range(args.seeds):
        for path in paths:
            cmd = [
                sys.executable,
                __file__,
                "--one",
                path,
                str(seed),
                "--draws",
                str(args.draws),
                "--tune",
                str(args.tune),
                "--chains",
                str(args.chains),
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)

    def of(path, seed):
        return next(r for r in rows if r["path"] == path and r["seed"] == seed)

    ratios = [
        of("mmmcal", s)["ess_per_s"] / of("pmm_nutpie", s)["ess_per_s"] for s in range(args.seeds)
    ]
    summary = {
        "ess_per_s_ratio": float(np.median(ratios)),
        "max_rhat": max(r["max_rhat"] for r in rows if r["path"] == "mmmcal"),
        "divergences_mmmcal": sum(r["divergences"] for r in rows if r["path"] == "mmmcal"),
        "marginal_seed_ratio": None,
        "n_seeds": args.seeds,
    }
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"summary": summary, "rows": rows, "args": vars(args)}, fh, indent=2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
