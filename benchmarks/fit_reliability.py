"""Fit reliability: does every fit mix, over many worlds, in each sampler configuration?

The reference world's calibrated model (one 8-week TV switch-on test), 4 chains x 1000 draws
after 1000 tuning steps, on ``--seeds`` worlds, for each configuration:

``native_low_rank``: pymc-marketing's own saturation parameters (lam, beta), nutpie with a
    low-rank mass matrix, target_accept 0.95 (mmmcal's default before the slope
    parametrization).
``slope_diag``: the saturation sampled as (lam, initial slope) (see
    ``mmmcal.model.SaturationConfig``), nutpie's standard diagonal mass matrix.
``slope_low_rank``: the slope parametrization with a low-rank mass matrix.
``slope_auto``: mmmcal's default: the low-rank matrix, sampled again with the diagonal one
    when the fit fails its checks (``SamplerConfig.adaptation="auto"``); ``retried`` counts
    the second runs.

Each configuration compiles once and re-uses the compiled model for every world, so the
figures are sampling only. A fit "fails" when max R-hat > 1.01, any divergence, or min bulk
ESS < 400. Both parametrizations are the same model, so per world the posterior-mean channel
shares must agree within Monte Carlo error: ``share_gap_over_mcse`` is the largest
difference between ``native_low_rank`` and ``slope_diag`` in combined MCSEs, over the worlds
where both fits mixed.

    .venv/bin/python benchmarks/fit_reliability.py --seeds 10

Last line: one JSON object with per-configuration failure counts, median and worst min bulk
ESS, median sampling seconds, and ``share_gap_over_mcse``.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

CONFIGS = {
    "native_low_rank": ("native", "low_rank", 0.95),
    "slope_diag": ("slope", "diag", None),
    "slope_low_rank": ("slope", "low_rank", 0.95),
    "slope_auto": ("slope", "auto", None),  # SamplerConfig defaults
}


def _shares(fit) -> dict[str, tuple[float, float]]:
    """Posterior mean and MCSE of each channel's contribution share of the target."""
    import arviz as az

    share = fit.channel_contributions().sum("date") / fit.target_total()
    return {
        str(c): (
            float(share.sel(channel=c).mean()),
            float(az.mcse(share.sel(channel=c).to_dataset(name="s"))["s"]),
        )
        for c in share.channel.values
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    from mmmcal import LiftTestDesign, conversion_lift_test, get_preset, simulate
    from mmmcal.models.bayes import CalibratedMMM, SamplerConfig
    from mmmcal.models.spec import ModelSpec

    worlds = {}
    for seed in range(args.seeds):
        world = simulate(get_preset("reference"), seed)
        design = LiftTestDesign(channel="tv", n_periods=8, switch_on=True)
        worlds[seed] = world, conversion_lift_test(world, design, seed)

    rows, shares = [], {}
    for name in args.configs:
        parametrization, adaptation, target_accept = CONFIGS[name]
        for seed, (world, lift) in worlds.items():
            base = ModelSpec.for_world(world).model_dump(mode="json")
            spec = ModelSpec.from_dict(
                {**base, "saturation": {**base["saturation"], "parametrization": parametrization}}
            )
            accept = {} if target_accept is None else {"target_accept": target_accept}
            sampler = SamplerConfig(seed=seed, adaptation=adaptation, **accept)
            fit = CalibratedMMM(spec, lift, sampler=sampler).fit(world.data)
            d = fit.diagnostics_
            row = {
                "config": name,
                "seed": seed,
                "reused": fit.timings_.reused,
                "retried": fit.timings_.retried,
                "sample_s": fit.timings_.sample_s,
                "min_ess_bulk": round(d.min_ess_bulk, 1),
                "max_rhat": round(d.max_rhat, 4),
                "divergences": d.divergences,
                "steps_per_draw": round(float(fit.idata_.sample_stats["n_steps"].mean()), 1),
                "failed": bool(d.max_rhat > 1.01 or d.divergences > 0 or d.min_ess_bulk < 400),
            }
            rows.append(row)
            shares[name, seed] = _shares(fit)
            print(json.dumps(row), file=sys.stderr, flush=True)

    summary: dict = {"n_seeds": args.seeds}
    for name in args.configs:
        own = [r for r in rows if r["config"] == name]
        timed = [r["sample_s"] for r in own if r["reused"]] or [r["sample_s"] for r in own]
        summary[name] = {
            "failures": sum(r["failed"] for r in own),
            "retried": sum(r["retried"] for r in own),
            "median_min_ess_bulk": round(float(np.median([r["min_ess_bulk"] for r in own])), 1),
            "worst_min_ess_bulk": min(r["min_ess_bulk"] for r in own),
            "median_sample_s_reused": round(float(np.median(timed)), 2),
            "median_steps_per_draw": float(np.median([r["steps_per_draw"] for r in own])),
        }
    if {"native_low_rank", "slope_diag"} <= set(args.configs):
        ok = {(r["config"], r["seed"]) for r in rows if not r["failed"]}
        both = [s for s in worlds if ("native_low_rank", s) in ok and ("slope_diag", s) in ok]
        gaps = [
            abs(a[0] - b[0]) / np.hypot(a[1], b[1])
            for seed in both
            for a, b in zip(
                shares["native_low_rank", seed].values(),
                shares["slope_diag", seed].values(),
                strict=True,
            )
        ]
        summary["share_gap_over_mcse"] = round(max(gaps), 2) if gaps else None
        summary["share_gap_worlds"] = len(both)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"summary": summary, "rows": rows, "args": vars(args)}, fh, indent=2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
