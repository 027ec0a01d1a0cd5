"""Pooled ROAS priors: the parametrisation's identity, its checks, the prior route."""

import numpy as np
import pandas as pd
import pytest

from mmmcal.models.bayes import CalibratedMMM, SamplerConfig
from mmmcal.models.builder import build_mmm
from mmmcal.models.data import prepare_data
from mmmcal.models.priors import ModelSpecError
from mmmcal.models.roas import lift_roas_priors
from mmmcal.models.spec import ModelSpec

SPEC = {
    "channel_columns": ["tv", "social", "search"],
    "control_columns": ["demand_proxy"],
    "yearly_seasonality": None,
}


@pytest.mark.parametrize("family", ["logistic", "hill", "michaelis_menten"])
def test_contribution_share_is_relative_roas_times_spend_share(small_world, family):
    """On the training data each prior draw's share of the target is r_c * spend share_c."""
    import pymc as pm

    spec = ModelSpec.from_dict({**SPEC, "saturation": {"family": family}, "roas_prior": {}})
    assert not spec.slope_parametrized
    d = prepare_data(spec, small_world.data)
    mmm = build_mmm(spec)
    mmm.build_model(d.X, d.y)
    assert {"roas_log_mu", "roas_log_tau", "roas_log_z"} <= {v.name for v in mmm.model.free_RVs}
    with mmm.model:
        prior = pm.sample_prior_predictive(
            50, random_seed=3, var_names=["channel_contribution", "roas_relative", "roas"]
        ).prior
    share_of_target = prior["channel_contribution"].sum("date") / (d.y / d.y.max()).sum()
    spend = d.X[list(spec.channel_columns)].sum()
    expected = prior["roas_relative"] * (spend / spend.sum()).to_numpy()
    np.testing.assert_allclose(share_of_target.values, expected.values, rtol=1e-6)
    # ROAS in target units per unit of spend: r * (total target / total spend)
    np.testing.assert_allclose(
        prior["roas"].values, prior["roas_relative"].values * d.y.sum() / spend.sum(), rtol=1e-9
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"roas_prior": {"tests": {"radio": {"roas": 1, "sd_log": 0.1}}}}, "radio"),
        (
            {
                "roas_prior": {},
                "priors": {
                    "saturation_beta": {"distribution": "HalfNormal", "sigma": 1, "dims": "channel"}
                },
            },
            "saturation_beta",
        ),
        ({"roas_prior": {}, "saturation": {"parametrization": "slope"}}, "slope"),
        ({"roas_prior": {"median": 0}}, "median"),
        ({"roas_prior": {"tests": {"tv": {"roas": 1, "sd_log": 0}}}}, "sd_log"),
    ],
)
def test_roas_prior_refuses_what_it_cannot_take(changes, message):
    with pytest.raises(ModelSpecError, match=message):
        ModelSpec.from_dict({**SPEC, **changes})


def test_roas_prior_round_trips_yaml():
    spec = ModelSpec.from_dict(
        {**SPEC, "roas_prior": {"median": 0.5, "tests": {"tv": {"roas": 0.02, "sd_log": 0.1}}}}
    )
    assert ModelSpec.from_yaml(spec.to_yaml()) == spec
    assert ModelSpec.from_dict(SPEC).roas_prior is None


@pytest.mark.slow
def test_prior_route_pins_the_tested_channel_and_round_trips(small_world, tmp_path):
    """A test's ROAS as a prior pins its channel's ROAS; the fit saves and loads."""
    data = small_world.data
    roas_tv = float(0.1 * data["sales"].sum() / data[["tv", "social", "search"]].sum().sum())
    spec = ModelSpec.for_world(
        small_world,
        yearly_seasonality=None,
        roas_prior={"tests": {"tv": {"roas": roas_tv, "sd_log": 0.05}}},
    )
    sampler = SamplerConfig(draws=100, tune=300, chains=2, seed=1)
    fit = CalibratedMMM(spec, None, sampler=sampler).fit(data)
    tv = fit.idata_.posterior["roas"].sel(channel="tv")
    assert abs(float(tv.median()) / roas_tv - 1) < 0.15
    assert fit.timings_ is not None and fit.timings_.build == "mmmcal"  # the fast build
    loaded = CalibratedMMM.load(fit.save(tmp_path / "fit"))
    assert loaded.spec == spec
    np.testing.assert_allclose(
        loaded.channel_contributions().values, fit.channel_contributions().values
    )


def test_lift_roas_priors_pool_a_tests_rows():
    """Per channel: summed lift over summed added spend; the rows' errors in quadrature."""
    lift = pd.DataFrame(
        {
            "channel": ["tv", "tv", "social"],
            "delta_x": [100.0, 100.0, 50.0],
            "delta_y": [3.0, 5.0, 1.0],
            "sigma": [0.3, 0.4, 0.5],
        }
    )
    priors = lift_roas_priors(lift)
    assert priors["tv"] == pytest.approx({"roas": 8 / 200, "sd_log": 0.5 / 8})
    assert priors["social"] == pytest.approx({"roas": 1 / 50, "sd_log": 0.5})
    spec = ModelSpec.from_dict({**SPEC, "roas_prior": {"tests": priors}})
    assert spec.roas_prior.tests["tv"].roas == pytest.approx(0.04)


def test_lift_roas_priors_refuse_a_lift_that_is_not_positive():
    lift = pd.DataFrame({"channel": ["tv"], "delta_x": [100.0], "delta_y": [-2.0], "sigma": [1.0]})
    with pytest.raises(ValueError, match="channel 'tv' sum to delta_y = -2.*likelihood route"):
        lift_roas_priors(lift)
