"""Fit reliability: does every fit mix, over many worlds, in each sampler configuration?

The calibrated model (one 8-week TV switch-on test), 4 chains x 1000 draws after 1000 tuning
steps, on ``--seeds`` worlds of each of the ``--scenarios`` presets (default: the reference
world), for each configuration:

``native_low_rank``: pymc-marketing's own saturation parameters (lam, beta), nutpie with a
    low-rank mass matrix, target_accept 0.95 (mmmcal's default before the slope
    parametrization).
``slope_diag``: the saturation sampled as (lam, initial slope) (see
    ``mmmcal.model.SaturationConfig``), nutpie's standard diagonal mass matrix.
``slope_low_rank``: the slope parametrization with a low-rank mass matrix.
``slope_auto``: mmmcal's default: the low-rank matrix, sampled again with the diagonal one
    when the fit fails its checks (``SamplerConfig.adaptation="auto"``); ``retried`` counts
    the second runs.
``slope_auto_tune500``: ``slope_auto`` after 500 tuning steps instead of 1000.

Each configuration compiles once and re-uses the compiled model for every world, so the
figures are sampling only. A fit "fails" when max R-hat > 1.01, any divergence, or min bulk
ESS < 400. Every configuration samples the same posterior, so per world the posterior-mean
channel shares must agree within Monte Carlo error: ``share_gap_over_mcse`` is the largest
difference between ``native_low_rank`` and ``slope_diag`` in combined MCSEs, over the worlds
where both fits mixed, and each configuration's ``share_gap_vs_slope_auto`` the same against
the default.

    .venv/bin/python benchmarks/fit_reliability.py --seeds 10
    .venv/bin/python benchmarks/fit_reliability.py --seeds 3 \
        --scenarios reference slow-tv hill-all weibull-tv --configs slope_auto slope_auto_tune500

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
    "slope_auto_tune500": ("slope", "auto", None),
}
TUNE = {"slope_auto_tune500": 500}  # tuning steps per chain where not SamplerConfig's


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


def _gaps(shares: dict, ok: set, a: str, b: str, worlds) -> tuple[float | None, int]:
    """Largest share difference of configs ``a`` and ``b`` in combined MCSEs; worlds compared."""
    both = [w for w in worlds if (a, w) in ok and (b, w) in ok]
    gaps = [
        abs(x[0] - y[0]) / np.hypot(x[1], y[1])
        for w in both
        for x, y in zip(shares[a, w].values(), shares[b, w].values(), strict=True)
    ]
    return (round(max(gaps), 2) if gaps else None), len(both)


def _fit_row(name: str, scenario: str, seed: int, world, lift) -> tuple[dict, dict]:
    """One fit of config ``name``: its row of figures and its channel shares."""
    from mmmcal.models.bayes import CalibratedMMM, SamplerConfig
    from mmmcal.models.spec import ModelSpec

    parametrization, adaptation, target_accept = CONFIGS[name]
    base = ModelSpec.for_world(world).model_dump(mode="json")
    spec = ModelSpec.from_dict(
        {**base, "saturation": {**base["saturation"], "parametrization": parametrization}}
    )
    accept = {} if target_accept is None else {"target_accept": target_accept}
    tune = {"tune": TUNE[name]} if name in TUNE else {}
    sampler = SamplerConfig(seed=seed, adaptation=adaptation, **accept, **tune)
    fit = CalibratedMMM(spec, lift, sampler=sampler).fit(world.data)
    d = fit.diagnostics_
    row = {
        "config": name,
        "scenario": scenario,
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
    return row, _shares(fit)


def _summary(rows: list[dict], shares: dict, configs: list[str], worlds) -> dict:
    summary: dict = {}
    ok = {(r["config"], (r["scenario"], r["seed"])) for r in rows if not r["failed"]}
    for name in configs:
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
        if name != "slope_auto" and "slope_auto" in configs:
            gap, n = _gaps(shares, ok, name, "slope_auto", worlds)
            summary[name] |= {"share_gap_vs_slope_auto": gap, "share_gap_worlds": n}
    if {"native_low_rank", "slope_diag"} <= set(configs):
        gap, n = _gaps(shares, ok, "native_low_rank", "slope_diag", worlds)
        summary["share_gap_over_mcse"], summary["share_gap_worlds"] = gap, n
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--scenarios", nargs="+", default=["reference"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    from mmmcal import LiftTestDesign, conversion_lift_test, get_preset, simulate

    worlds = {}
    for scenario in args.scenarios:
        for seed in range(args.seeds):
            world = simulate(get_preset(scenario), seed)
            design = LiftTestDesign(channel="tv", n_periods=8, switch_on=True)
            worlds[scenario, seed] = world, conversion_lift_test(world, design, seed)

    rows, shares = [], {}
    for name in args.configs:
        for (scenario, seed), (world, lift) in worlds.items():
            row, shares[name, (scenario, seed)] = _fit_row(name, scenario, seed, world, lift)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)

    summary = {"n_seeds": args.seeds, "scenarios": args.scenarios}
    summary |= _summary(rows, shares, args.configs, worlds)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"summary": summary, "rows": rows, "args": vars(args)}, fh, indent=2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
