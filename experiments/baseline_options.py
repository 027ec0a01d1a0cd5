"""Baseline and prior options (issue 19): which of them make the MMM less confounded?

Fits worlds uncalibrated and with one TV test (8-week switch-on test, per-period report,
as in ``value_of_calibration.yaml``) under model options: today's default, a linear trend,
a time-varying intercept, both, the spend factor (a control for demand read off the
spend plan), pooled ROAS priors, and the spend factor with pooled ROAS priors. Prints per
option and arm the median absolute share error (all channels; tested and untested for the
TV arm), 90% HDI coverage of the shares, the share of healthy fits (``Diagnostics.ok``)
and the median fit seconds, as JSON, and writes it to ``--out`` (default
``experiments/results/baseline_options.json``) after every world, so a stopped run leaves
its partial numbers.

    .venv/bin/python experiments/baseline_options.py --seeds 6 --scenarios reference
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandas as pd

from mmmcal.models.bayes import Diagnostics
from mmmcal.study.cell import run_cell
from mmmcal.study.spec import Cell, Study

OUT = Path(__file__).parent / "results" / "baseline_options.json"
OPTIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "trend": {"trend": {"kind": "linear", "n_changepoints": 8}},
    "tv_intercept": {"time_varying_intercept": {}},
    "trend_and_tv_intercept": {
        "trend": {"kind": "linear", "n_changepoints": 8},
        "time_varying_intercept": {},
    },
    "spend_factor": {"spend_factor": True},
    "roas_pooled": {"roas_prior": {}},
    "spend_factor_and_roas_pooled": {"spend_factor": True, "roas_prior": {}},
}
TV_TEST = {"channel": "tv", "n_periods": 8, "switch_on": True, "report": "per_period"}


def study(option: dict[str, Any], scenarios: list[str], seeds: int) -> Study:
    """The study of one baseline option: uncalibrated and TV-one-test arms."""
    return Study.from_dict(
        {
            "name": "baseline_options",
            "scenarios": scenarios,
            "seeds": {"start": 0, "count": seeds},
            "sampler": {"draws": 500, "tune": 500, "chains": 2},
            "model": option,
            "arms": [{"name": "uncalibrated"}, {"name": "tv_one_test", "tests": [TV_TEST]}],
        }
    )


def _healthy(cell: pd.DataFrame) -> bool:
    row = cell.iloc[0]
    diag = Diagnostics(
        divergences=int(row["divergences"]),
        max_rhat=float(row["max_rhat"]),
        min_ess_bulk=float(row["min_ess_bulk"]),
        fit_seconds=float(row["fit_seconds"]),
        draws=500,
        chains=2,
    )
    return diag.ok


def summarize(rows: pd.DataFrame) -> dict[str, Any]:
    """Per scenario, option and arm: median abs share error, coverage, health, seconds."""
    out: dict[str, Any] = {}
    for (scenario, option, arm), g in rows.groupby(["scenario", "option", "arm"], sort=False):
        cells = g.groupby("seed")
        entry = {
            "n_worlds": int(cells.ngroups),
            "median_abs_share_error": round(float(g["share_abs_error"].median()), 4),
            "share_coverage_90": round(float(g["share_covered"].mean()), 3),
            "healthy_fits": round(float(pd.Series([_healthy(c) for _, c in cells]).mean()), 3),
            "median_fit_seconds": round(float(cells["fit_seconds"].first().median()), 1),
            "median_media_share": round(float(cells["share_mean"].sum().median()), 3),
            "true_media_share": round(float(cells["true_share"].sum().median()), 3),
        }
        if g["tested"].any():
            for role, part in (("tested", g[g["tested"]]), ("untested", g[~g["tested"]])):
                entry[f"median_abs_share_error_{role}"] = round(
                    float(part["share_abs_error"].median()), 4
                )
        out.setdefault(scenario, {}).setdefault(option, {})[arm] = entry
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--scenarios", nargs="+", default=["reference"])
    parser.add_argument("--options", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    parser.add_argument("--out", type=Path, default=OUT, help="where the JSON goes")
    args = parser.parse_args()
    studies = {name: study(OPTIONS[name], args.scenarios, args.seeds) for name in args.options}
    frames: list[pd.DataFrame] = []
    for scenario in args.scenarios:
        for seed in range(args.seeds):
            for name, s in studies.items():
                for arm in ("uncalibrated", "tv_one_test"):
                    frames.append(run_cell(s, Cell(scenario, seed, arm)).assign(option=name))
            result = {
                "command": "experiments/baseline_options.py "
                + " ".join(
                    ["--seeds", str(args.seeds), "--scenarios", *args.scenarios]
                    + ["--options", *args.options]
                ),
                "sampler": {"draws": 500, "tune": 500, "chains": 2},
                "options": {k: OPTIONS[k] for k in args.options},
                "summary": summarize(pd.concat(frames, ignore_index=True)),
            }
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=2) + "\n")
            print(f"{scenario} seed {seed} done", flush=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
