"""The estimator contract, checked on every engine with tiny settings."""

import numpy as np
import pandas as pd
import pytest

from mmmcal.experiments.conversion_lift import LiftTestDesign, conversion_lift_test
from mmmcal.lift.problems import LiftTableError
from mmmcal.models.bayes import SamplerConfig
from mmmcal.models.engines import ENGINES, Estimator, load_fit, make_engine
from mmmcal.models.learned_state import learned_attributes
from mmmcal.models.spec import ModelSpec
from mmmcal.world.presets import get_preset
from mmmcal.world.simulate import simulate

OPTIONS = {
    "bayes": {"sampler": SamplerConfig(draws=50, tune=100, chains=1, seed=0)},
    "ridge": {"budget": 30, "n_bootstrap": 20},
    "bounded": {"budget": 30, "n_bootstrap": 20},
}
ENGINE_PARAMS = [pytest.param(e, marks=pytest.mark.slow) if e == "bayes" else e for e in ENGINES]


@pytest.fixture(scope="module")
def worlds():
    base = get_preset("reference").with_updates(n_periods=60)
    return simulate(base, seed=4), simulate(base, seed=5)


@pytest.fixture(scope="module")
def spec(worlds):
    return ModelSpec.for_world(worlds[0], yearly_seasonality=None)


@pytest.fixture(scope="module")
def lift(worlds):
    design = LiftTestDesign(channel="tv", n_periods=8, switch_on=True)
    return conversion_lift_test(worlds[0], design, 0)


def _make(engine, spec, lift):
    return make_engine(engine, spec, lift, name=f"{engine}_contract", **OPTIONS[engine])


@pytest.fixture(scope="module")
def fitted(worlds, spec, lift):
    cache = {}

    def get(engine):
        if engine not in cache:
            cache[engine] = _make(engine, spec, lift).fit(worlds[0].data)
        return cache[engine]

    return get


@pytest.mark.parametrize("engine", ENGINES)
def test_init_stores_configuration_only(engine, spec, lift):
    model = _make(engine, spec, lift)
    assert learned_attributes(model) == []
    assert model.spec is spec and model.lift is lift and model.engine == engine
    with pytest.raises(RuntimeError, match="not fitted yet"):
        model.channel_contributions()


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_fit_returns_self_with_the_protocol(engine, fitted, worlds, spec):
    model = fitted(engine)
    assert isinstance(model, Estimator)
    data = worlds[0].data
    cc = model.channel_contributions()
    assert cc.dims == ("chain", "draw", "date", "channel")
    assert cc.sizes["date"] == len(data) and list(cc["channel"].values) == [
        "tv",
        "social",
        "search",
    ]
    assert model.target_total() == pytest.approx(data["sales"].sum())
    pd.testing.assert_series_equal(model.spend_totals(), data[["tv", "social", "search"]].sum())
    assert isinstance(model.diagnostics_.to_dict(), dict)
    assert all(name.endswith("_") for name in learned_attributes(model))


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_fitting_again_forgets_the_first_fit(engine, worlds, spec, lift):
    first, other = worlds[0].data, worlds[1].data
    model = _make(engine, spec, lift).fit(first)
    before = {k: getattr(model, k) for k in learned_attributes(model)}
    assert model.fit(other) is model
    fresh = _make(engine, spec, lift).fit(other)
    assert set(learned_attributes(model)) == set(learned_attributes(fresh))
    assert all(getattr(model, k) is not v for k, v in before.items())
    assert model.target_total() == pytest.approx(other["sales"].sum())
    np.testing.assert_allclose(model.channel_contributions(), fresh.channel_contributions())
    # A fit that fails on its inputs leaves an unfitted model, not the previous fit.
    with pytest.raises(ValueError, match="lacks column"):
        model.fit(other.drop(columns="tv"))
    assert learned_attributes(model) == []


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_save_then_load_fit_round_trips(engine, fitted, tmp_path):
    model = fitted(engine)
    loaded = load_fit(model.save(tmp_path / "fit"))
    assert type(loaded) is type(model) and loaded.name == model.name
    assert set(learned_attributes(loaded)) == set(learned_attributes(model))
    np.testing.assert_allclose(loaded.channel_contributions(), model.channel_contributions())
    assert loaded.target_total() == pytest.approx(model.target_total())
    pd.testing.assert_series_equal(loaded.spend_totals(), model.spend_totals())
    # The fitted table is a LiftTable (validated), the loaded one a plain DataFrame read back.
    pd.testing.assert_frame_equal(
        loaded.lift, model.lift, check_dtype=False, check_frame_type=False
    )
    assert loaded.diagnostics_.to_dict() == model.diagnostics_.to_dict()
    assert type(loaded).load(tmp_path / "fit").name == model.name


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_input_raises_in_fit_not_in_init(engine, worlds, spec, lift):
    model = _make(engine, spec, lift.assign(channel="radio"))
    with pytest.raises(LiftTableError, match="unknown channel 'radio'"):
        model.fit(worlds[0].data)
    assert learned_attributes(model) == []
