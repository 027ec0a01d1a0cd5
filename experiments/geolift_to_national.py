"""Calibrate the geo world's national MMM with the national row of a CausalPy geo-lift test.

World: `reference-geo`. Test: TV spend doubled in 20 random geos for 8 weeks, analysed with
CausalPy's synthetic control (mmmcal.experiments.geolift). The national MMM (sales summed
over geos) is fitted without and with that row; prints one JSON line with TV's share against
the truth.

    .venv/bin/python experiments/geolift_to_national.py [--seed 0]
"""

from __future__ import annotations

import argparse
import json

from mmmcal import get_preset, simulate
from mmmcal.evaluate.scorecard import score_model
from mmmcal.experiments.geolift import GeoLiftDesign, national_rows, run_geolift
from mmmcal.models.bayes import CalibratedMMM, SamplerConfig
from mmmcal.models.spec import ModelSpec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--treated", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=8)
    args = parser.parse_args()

    world = simulate(get_preset("reference-geo"), args.seed)
    design = GeoLiftDesign(channel="tv", n_treated=args.treated, n_periods=args.weeks)
    rows = run_geolift(world, design, seed=args.seed)
    national = national_rows(rows)
    data = world.national_data()
    truth = world.truth_dict()
    spec = ModelSpec.for_world(world)
    out = {
        "lift_row": national[["x", "delta_x", "delta_y", "sigma", "true_delta_y"]].iloc[0].to_dict()
    }
    for name, lift in (("uncalibrated", None), ("calibrated", national)):
        model = CalibratedMMM(spec, lift, sampler=SamplerConfig(seed=args.seed), name=name).fit(
            data
        )
        tv = score_model(model, truth).channels["tv"]
        out[name] = {
            "tv_share": tv.share_mean,
            "tv_share_hdi_90": tv.share_hdi_90,
            "true_share": tv.true_share,
            "abs_error": abs(tv.share_error),
            **model.diagnostics_.to_dict(),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
