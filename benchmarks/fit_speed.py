"""Fit speed and mixing: mmmcal's default path against pymc-marketing's own paths.

The reference world's calibrated model (156 weeks, 3 channels, demand proxy, yearly
seasonality, one 8-week TV switch-on test), 4 chains x 1000 draws after 1000 tuning steps:

(a) ``mmmcal``: :class:`mmmcal.models.bayes.CalibratedMMM` with its defaults (window lift
    likelihood, saturation sampled in slope coordinates, nutpie with target_accept 0.95 and its
    low-rank mass matrix, sampled again with the diagonal one if the fit fails its checks; rows
    record ``adaptation`` and ``retried``), in a fresh process with an empty store of compiled
    models (``mmmcal.sampling.compile``): compilation included. The same process then fits a
    second world (seed + 100) of the same structure, which re-uses the compiled model in memory:
    ``marginal_wall_s``.
(a') ``mmmcal_stored``: (a) again in another fresh process that finds the model (a) stored:
    what every fit of this structure after the first on a machine costs.
(b) ``pmm_nutpie``: a pymc-marketing MMM as its docs build it (pymc-marketing's defaults,
    steady-state lift test with its default Gamma likelihood), ``nuts_sampler="nutpie"``.
(c) ``pmm_default``: the same with pymc-marketing's default sampler (slow: opt in with
    ``--with-pymc-default``).

Variant (``--variants``):
``mmmcal_pmm_fit``: mmmcal's model (same lift likelihood) sampled by pymc-marketing's own
    ``fit(nuts_sampler="nutpie")`` (target_accept 0.9): the reference for the same-posterior
    check (``benchmarks/fit_reliability.py`` checks the slope against the native
    parametrisation).

Each (path, seed) runs in its own process so peak memory is its own. Per fit: wall seconds
(build+compile vs sampling where separable), min bulk ESS, max R-hat, divergences, ESS/s,
peak RSS, the cost of one log-density-and-gradient evaluation and the number of gradient
evaluations. Last line: one JSON object with ``ess_per_s_ratio`` (median over seeds of
(a)/(b) ESS/s), ``ess_per_s_ratio_stored`` (the same for (a')), ``max_rhat`` over the (a) and
(a') fits, ``marginal_seed_ratio`` (median of one more seed's wall time with re-use / the cold
fit's), ``stored_seed_ratio`` ((a') wall time / (a)'s) and ``share_gap_over_mcse`` (largest
difference of posterior-mean shares between (a) and ``mmmcal_pmm_fit``, the same model,
in Monte Carlo standard errors; (b) has a different lift likelihood, so its shares differ).

    .venv/bin/python benchmarks/fit_speed.py --seeds 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


def _fit_one(path: str, seed: int, draws: int, tune: int, chains: int) -> dict:
    import arviz as az

    from mmmcal import LiftTestDesign, conversion_lift_test, get_preset, simulate
    from mmmcal.models.bayes import CalibratedMMM, SamplerConfig, _diagnostics
    from mmmcal.models.spec import ModelSpec

    world = simulate(get_preset("reference"), seed)
    lift = conversion_lift_test(
        world, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), seed
    )

    def mmmcal_fit(w, lift_table):
        sampler = SamplerConfig(draws=draws, tune=tune, chains=chains, seed=seed)
        return CalibratedMMM(ModelSpec.for_world(w), lift_table, sampler=sampler)

    start = time.perf_counter()
    if path.startswith("mmmcal"):
        model = mmmcal_fit(world, lift)
        model.build(world.data)
        mmm, idata_fn = model.mmm_, lambda: model.fit(world.data).idata_
        if path == "mmmcal_pmm_fit":

            def idata_fn():
                return model.mmm_.fit(
                    model.data_.X,
                    model.data_.y,
                    nuts_sampler="nutpie",
                    draws=draws,
                    tune=tune,
                    chains=chains,
                    target_accept=0.9,
                    random_seed=seed,
                    progressbar=False,
                )

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

    # Cost of one log-density-and-gradient evaluation with pytensor's C backend (compiled
    # here, outside the timed fit); nutpie runs the numba build of the same graph.
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
    # mmmcal's fit() builds the model again, so its wall time is the fit alone.
    total = fit_s if path in ("mmmcal", "mmmcal_stored") else build_s + fit_s
    extra = {}
    if path in ("mmmcal", "mmmcal_stored"):
        extra = {
            "compiled_model_from": model.timings_.source,
            "build": model.timings_.build,
            "adaptation": model.timings_.adaptation,
            "retried": model.timings_.retried,
            "compile_s": model.timings_.compile_s,
            "sample_s": model.timings_.sample_s,
            "deterministics_s": model.timings_.deterministics_s,
        }
    if path == "mmmcal":
        # One more world of the same structure: the compiled model is re-used.
        other = simulate(get_preset("reference"), seed + 100)
        other_lift = conversion_lift_test(
            other, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), seed + 100
        )
        t0 = time.perf_counter()
        again = mmmcal_fit(other, other_lift).fit(other.data)
        extra["marginal_wall_s"] = round(time.perf_counter() - t0, 2)
        extra["marginal_reused"] = again.timings_.reused
        extra["marginal_divergences"] = again.diagnostics_.divergences
        extra["marginal_max_rhat"] = round(again.diagnostics_.max_rhat, 4)
    post = idata.posterior
    if "channel_contribution_original_scale" in post:
        cc = post["channel_contribution_original_scale"]
    else:
        cc = post["channel_contribution"] * idata.constant_data["target_scale"]
    cc = cc.sum([d for d in cc.dims if d not in ("chain", "draw", "channel")])
    cc = cc / float(world.data["sales"].sum())
    shares = {
        str(c): {
            "mean": round(float(cc.sel(channel=c).mean()), 5),
            "mcse": round(float(az.mcse(cc.sel(channel=c).to_dataset(name="s"))["s"]), 6),
        }
        for c in cc.channel.values
    }
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
        "shares": shares,
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--with-pymc-default", action="store_true")
    parser.add_argument(
        "--variants",
        nargs="*",
        choices=["mmmcal_pmm_fit"],
        help="also these paths (all when given without names)",
    )
    parser.add_argument("--one", nargs=2, metavar=("PATH", "SEED"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    if args.one:
        row = _fit_one(args.one[0], int(args.one[1]), args.draws, args.tune, args.chains)
        print(json.dumps(row))
        return

    paths = ["mmmcal", "mmmcal_stored", "pmm_nutpie"]
    paths += ["pmm_default"] if args.with_pymc_default else []
    if args.variants is not None:
        paths += args.variants or ["mmmcal_pmm_fit"]
    rows = []
    for seed in range(args.seeds):
        # Each seed's cold fit starts from an empty store; (a') then finds (a)'s model there.
        store = tempfile.mkdtemp(prefix="mmmcal-fit-speed-")
        for path in paths:  # mmmcal_stored comes after mmmcal
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
            env = {**os.environ, "MMMCAL_COMPILE_CACHE": store}
            done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        shutil.rmtree(store, ignore_errors=True)

    def of(path, seed):
        return next(r for r in rows if r["path"] == path and r["seed"] == seed)

    def ratio(path):
        return round(
            float(
                np.median(
                    [
                        of(path, s)["ess_per_s"] / of("pmm_nutpie", s)["ess_per_s"]
                        for s in range(args.seeds)
                    ]
                )
            ),
            3,
        )

    mmmcal_rows = [of("mmmcal", s) for s in range(args.seeds)]
    stored_rows = [of("mmmcal_stored", s) for s in range(args.seeds)]
    gaps = []
    for s in range(args.seeds):
        if "mmmcal_pmm_fit" not in paths:
            break
        a, b = of("mmmcal", s)["shares"], of("mmmcal_pmm_fit", s)["shares"]
        for c in a:
            mcse = np.hypot(a[c]["mcse"], b[c]["mcse"])
            gaps.append(abs(a[c]["mean"] - b[c]["mean"]) / mcse)
    summary = {
        "ess_per_s_ratio": ratio("mmmcal"),
        "ess_per_s_ratio_stored": ratio("mmmcal_stored"),
        "max_rhat": max(
            [r["max_rhat"] for r in mmmcal_rows + stored_rows]
            + [r["marginal_max_rhat"] for r in mmmcal_rows]
        ),
        "divergences_mmmcal": sum(r["divergences"] + r["marginal_divergences"] for r in mmmcal_rows)
        + sum(r["divergences"] for r in stored_rows),
        "marginal_seed_ratio": round(
            float(np.median([r["marginal_wall_s"] / r["wall_s"] for r in mmmcal_rows])), 3
        ),
        "stored_seed_ratio": round(
            float(
                np.median(
                    [
                        b["wall_s"] / a["wall_s"]
                        for a, b in zip(mmmcal_rows, stored_rows, strict=True)
                    ]
                )
            ),
            3,
        ),
        "stored_models_loaded": sum(r["compiled_model_from"] == "disk" for r in stored_rows),
        "share_gap_over_mcse": round(float(max(gaps)), 2) if gaps else None,
        "n_seeds": args.seeds,
    }
    if "mmmcal_pmm_fit" in paths:
        summary["mmmcal_pmm_fit_ess_per_s_ratio"] = ratio("mmmcal_pmm_fit")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"summary": summary, "rows": rows, "args": vars(args)}, fh, indent=2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
