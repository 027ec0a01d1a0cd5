"""Sampler health on a data set mmmcal did not make: pymc-marketing's ``mmm_example.csv``.

Fits the data (179 weeks; target ``y``, renamed ``sales``; channels ``x1``, ``x2``; controls
``event_1``, ``event_2``, ``t``; yearly seasonality of order 2, as pymc-marketing's example
notebook) with mmmcal's default model spec under every saturation family, and with the spend
factor (``spend_factor: true``), uncalibrated, at the default sampler (4 chains x 1000 draws
after 1000 tuning steps). Prints per fit the divergences, max R-hat, min bulk ESS, whether
the fit passes mmmcal's checks, the fit seconds and the channel shares, as JSON.

The file is not shipped with mmmcal: take ``data/mmm_example.csv`` from the pymc-marketing
repository (github.com/pymc-labs/pymc-marketing) and pass its path.

    .venv/bin/python benchmarks/example_datasets.py --data path/to/mmm_example.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandas as pd

from mmmcal.evaluate.scorecard import score_model
from mmmcal.models.bayes import CalibratedMMM, SamplerConfig
from mmmcal.models.spec import ModelSpec

FAMILIES = ("logistic", "hill", "michaelis_menten")


def example_spec(family: str, *, spend_factor: bool) -> ModelSpec:
    """pymc-marketing's example set-up in mmmcal's default spec, with ``family``."""
    return ModelSpec.from_dict(
        {
            "date_column": "date_week",
            "target_column": "sales",
            "channel_columns": ["x1", "x2"],
            "control_columns": ["event_1", "event_2", "t"],
            "saturation": {"family": family},
            "yearly_seasonality": 2,
            "spend_factor": spend_factor,
        }
    )


def fit_once(data: pd.DataFrame, family: str, spend_factor: bool, seed: int) -> dict[str, Any]:
    spec = example_spec(family, spend_factor=spend_factor)
    fit = CalibratedMMM(spec, sampler=SamplerConfig(seed=seed)).fit(data)
    score = score_model(fit)
    return {
        "family": family,
        "spend_factor": spend_factor,
        **fit.diagnostics_.to_dict(),
        "ok": fit.diagnostics_.ok,
        "shares": {c: round(s.share_mean, 3) for c, s in score.channels.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="pymc-marketing's mmm_example.csv")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()
    # pymc-marketing reserves the name `y`; `dayofyear` is what the seasonality models.
    data = pd.read_csv(args.data).drop(columns=["dayofyear"]).rename(columns={"y": "sales"})
    rows = []
    for spend_factor in (False, True):
        for family in FAMILIES:
            rows.append(fit_once(data, family, spend_factor, args.seed))
            print(json.dumps(rows[-1]), flush=True)
    result = {"data": args.data.name, "n_weeks": len(data), "seed": args.seed, "fits": rows}
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
