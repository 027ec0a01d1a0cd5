"""The spend factor: demand's common movement in the spend plan, as a control."""

import numpy as np
import pandas as pd
import pytest

from mmmcal.models.data import prepare_data, prepare_fit
from mmmcal.models.priors import ModelSpecError
from mmmcal.models.spec import ModelSpec
from mmmcal.models.spend_factor import (
    SHARED_MOVEMENT,
    SPEND_FACTOR,
    spend_comovement,
    spend_factor,
)


def test_factor_follows_the_common_plan_and_skips_channels_without_spend():
    rng = np.random.default_rng(0)
    demand = np.exp(rng.normal(0, 0.3, 200))
    spend = pd.DataFrame(
        {c: k * demand * rng.lognormal(0, 0.1, 200) for c, k in (("a", 10), ("b", 300))}
    )
    factor = spend_factor(spend, ["a", "b"], None)
    assert np.corrcoef(np.log(factor), np.log(demand))[0, 1] > 0.95
    assert np.exp(np.mean(np.log(factor))) == pytest.approx(1, abs=1e-9)
    # a period without spend on `a` reads the plan off `b` alone; no spend at all: neutral 1
    spend.loc[5, "a"] = 0.0
    spend.loc[7, ["a", "b"]] = 0.0
    again = spend_factor(spend, ["a", "b"], None)
    assert again[7] == 1.0
    b_only = spend["b"] / np.exp(np.log(spend["b"][spend["b"] > 0]).mean())
    assert again[5] == pytest.approx(b_only[5])
    assert np.isfinite(again).all()


def test_factor_is_per_geo():
    frame = pd.DataFrame({"geo": ["x", "y"] * 3, "a": [1.0, 100.0, 2.0, 100.0, 4.0, 100.0]})
    factor = spend_factor(frame, ["a"], "geo")
    np.testing.assert_allclose(factor[1::2], 1.0)  # y's spend is flat
    np.testing.assert_allclose(factor[0::2], [0.5, 1.0, 2.0])


def test_spec_adds_the_control_and_refuses_a_clash(small_world):
    spec = ModelSpec.for_world(small_world, spend_factor=True)
    assert spec.model_controls == ("demand_proxy", SPEND_FACTOR)
    assert ModelSpec.from_yaml(spec.to_yaml()) == spec
    prepared = prepare_data(spec, small_world.data)
    assert prepared.X[SPEND_FACTOR].abs().max() == pytest.approx(1.0)  # scaled as controls are
    assert set(prepared.control_scale) == {"demand_proxy", SPEND_FACTOR}
    with pytest.raises(ModelSpecError, match="spend_factor"):
        ModelSpec.for_world(small_world, spend_factor=True, control_columns=["spend_factor"])


def _plans(shared: bool, n: int = 150, seed: int = 0) -> pd.DataFrame:
    """Three channels' spend: planned on one demand series (shared) or each on its own."""
    rng = np.random.default_rng(seed)
    demand = rng.normal(0, 0.4, n)
    return pd.DataFrame(
        {
            c: np.exp((demand if shared else rng.normal(0, 0.4, n)) + rng.normal(0, 0.15, n))
            for c in ("a", "b", "c")
        }
    )


def test_comovement_tells_a_shared_plan_from_separate_ones():
    assert spend_comovement(_plans(True), ["a", "b", "c"], None) > 0.8
    assert abs(spend_comovement(_plans(False), ["a", "b", "c"], None)) < 0.2
    # per geo: a level difference between geos is not co-movement
    geos = pd.concat(
        [_plans(False, seed=1).assign(geo="x"), (100 * _plans(False, seed=2)).assign(geo="y")]
    )
    assert abs(spend_comovement(geos, ["a", "b", "c"], "geo")) < 0.2
    assert np.isnan(spend_comovement(_plans(True), ["a"], None))  # no pair to correlate


def test_auto_adds_the_factor_only_where_spend_moves_together(small_world):
    spec = ModelSpec.for_world(small_world, spend_factor="auto")
    assert spec.model_controls == ("demand_proxy",)  # undecided until the data are seen
    assert ModelSpec.from_yaml(spec.to_yaml()) == spec
    channels = list(spec.channel_columns)
    assert spend_comovement(small_world.data, channels, None) >= SHARED_MOVEMENT
    fitted, prepared = prepare_fit(spec, small_world.data)
    assert fitted.spend_factor is True and SPEND_FACTOR in prepared.X
    apart = small_world.data.copy()  # each channel's weeks shuffled on its own: no shared plan
    rng = np.random.default_rng(3)
    for c in channels:
        apart[c] = rng.permutation(apart[c].to_numpy())
    assert spend_comovement(apart, channels, None) < SHARED_MOVEMENT
    fitted, prepared = prepare_fit(spec, apart)
    assert fitted.spend_factor is False and SPEND_FACTOR not in prepared.X
    assert prepare_fit(spec.model_copy(update={"spend_factor": True}), apart)[0].spend_factor


def test_a_model_records_the_decision_and_keeps_the_request(small_world):
    from mmmcal.models.bayes import CalibratedMMM

    spec = ModelSpec.for_world(small_world, yearly_seasonality=None, spend_factor="auto")
    model = CalibratedMMM(spec, None).build(small_world.data)
    assert model.requested_spec.spend_factor == "auto"
    assert model.spec.spend_factor is True
    assert list(model.mmm_.model.coords["control"]) == ["demand_proxy", SPEND_FACTOR]


@pytest.mark.slow
def test_spend_factor_fits_and_round_trips(small_world, tmp_path):
    from mmmcal.models.bayes import CalibratedMMM, SamplerConfig

    spec = ModelSpec.for_world(small_world, yearly_seasonality=None, spend_factor=True)
    sampler = SamplerConfig(draws=50, tune=100, chains=2, seed=1)
    fit = CalibratedMMM(spec, None, sampler=sampler).fit(small_world.data)
    controls = list(fit.idata_.posterior["gamma_control"].coords["control"].values)
    assert controls == ["demand_proxy", SPEND_FACTOR]
    loaded = CalibratedMMM.load(fit.save(tmp_path / "fit"))
    assert loaded.spec == spec
    np.testing.assert_allclose(
        loaded.channel_contributions().values, fit.channel_contributions().values
    )
