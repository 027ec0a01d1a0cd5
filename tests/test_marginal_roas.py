"""Marginal ROAS at current spend: the truth's (by re-running the true media response) and
a fit's (by re-running its own adstock and saturation over the data's spend)."""

from pathlib import Path

import numpy as np
import pytest

from mmmcal.evaluate.scorecard import Scorecard
from mmmcal.models.engines import load_fit
from mmmcal.report.posterior import contribution_total_draws, marginal_roas_draws, thin
from mmmcal.world.oracle import LiftOracle
from mmmcal.world.truth import MROAS_STEP

FITS = Path(__file__).resolve().parent / "data" / "fits"


def test_true_marginal_roas_is_the_oracles_lift_of_one_percent_more_spend(geo_world):
    oracle = LiftOracle(geo_world)
    truth = geo_world.truth_dict()
    for c in geo_world.scenario.channel_names:
        extra = spent = 0.0
        for g in range(len(geo_world.truth.geos)):
            path = oracle.spend_path(c, g)
            extra += oracle.path_lift(c, g, path, path * (1 + MROAS_STEP)).sum()
            spent += MROAS_STEP * path.sum()
        assert truth["channels"][c]["mroas"] == pytest.approx(extra / spent, rel=1e-9)


def test_saturating_channels_earn_less_at_the_margin_than_on_average(reference_world):
    for c, v in reference_world.truth_dict()["channels"].items():
        assert 0 < v["mroas"] < v["roas"], c


@pytest.fixture(scope="module")
def fit():
    return load_fit(FITS / "uncalibrated")


def test_a_fits_contributions_are_reproduced_from_its_spend(fit):
    channels = list(fit.spec.channel_columns)
    totals = contribution_total_draws(fit, fit.data_.X[channels].to_numpy(dtype=float))
    saved = thin(fit, "channel_contribution_original_scale").sum("date")
    np.testing.assert_allclose(totals, saved.transpose("sample", "channel").to_numpy(), rtol=1e-5)


def test_a_fits_marginal_roas_is_below_its_average_roas_and_scored(fit, reference_world):
    marginal = marginal_roas_draws(fit)
    assert marginal is not None and np.isfinite(marginal).all() and (marginal > 0).all()
    card = Scorecard.from_models([fit], reference_world.truth_dict())
    for k, c in enumerate(fit.spec.channel_columns):
        score = card.models[fit.name].channels[c]
        assert score.mroas_mean == pytest.approx(float(marginal[:, k].mean()))
        assert score.mroas_mean < score.roas_mean  # a concave curve: the margin earns less
        assert score.true_mroas == reference_world.truth_dict()["channels"][c]["mroas"]
        assert isinstance(score.mroas_covered, bool)
    row = card.to_dict()["models"][fit.name]["channels"]["tv"]
    assert {"mroas_mean", "mroas_hdi_90", "true_mroas", "mroas_covered"} <= set(row)
    no_truth = Scorecard.from_models([fit]).models[fit.name].channels["tv"]
    assert no_truth.true_mroas is None and no_truth.mroas_covered is None
