"""Compiled-model re-use: same structure, new data, the same draws as a fresh compile."""

import numpy as np
import pytest

from mmmcal.experiments.conversion_lift import LiftTestDesign, conversion_lift_test
from mmmcal.models.bayes import CalibratedMMM, SamplerConfig
from mmmcal.models.spec import ModelSpec
from mmmcal.world.presets import get_preset
from mmmcal.world.simulate import simulate


def _short_world(seed):
    return simulate(get_preset("reference").with_updates(n_periods=60), seed=seed)


def _built(world, n_periods=8, likelihood="auto"):
    lift = conversion_lift_test(
        world, LiftTestDesign(channel="tv", n_periods=n_periods, switch_on=True), 0
    )
    spec = ModelSpec.for_world(world, yearly_seasonality=None)
    return CalibratedMMM(spec, lift, likelihood=likelihood, sampler=SamplerConfig.fast()).build(
        world.data
    )


def test_structure_key_ignores_data_but_not_design():
    a, b = _short_world(2), _short_world(3)
    assert _built(a).structure_key() == _built(b).structure_key()
    assert _built(a).structure_key() != _built(a, n_periods=4).structure_key()
    # Steady-state rows are constants in pymc-marketing's term: their values are structure.
    assert (
        _built(a, likelihood="steady_state").structure_key()
        != _built(b, likelihood="steady_state").structure_key()
    )


def test_low_rank_adaptation_refuses_short_tuning():
    with pytest.raises(ValueError, match="tune = 100 is too short"):
        SamplerConfig(tune=100, adaptation="low_rank")
    assert SamplerConfig(tune=100).tune == 100  # the default diagonal adaptation allows it


@pytest.mark.slow
def test_reused_model_draws_equal_a_fresh_compile(fits, tiny_sampler):
    TINY = tiny_sampler
    _, cal, _ = fits  # compiled this structure on another world
    world = _short_world(5)
    lift = conversion_lift_test(world, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), 5)
    spec = ModelSpec.for_world(world, yearly_seasonality=None)
    reused = CalibratedMMM(spec, lift, sampler=TINY).fit(world.data)
    fresh = CalibratedMMM(
        spec, lift, sampler=TINY.model_copy(update={"reuse_compiled": False})
    ).fit(world.data)
    assert reused.timings_.source == "memory" and fresh.timings_.source == "compiled"
    assert reused.timings_.compile_s < 0.2 * fresh.timings_.compile_s
    post, ref = reused.idata_.posterior, fresh.idata_.posterior
    assert set(post.data_vars) == set(ref.data_vars)
    for name in ref.data_vars:
        np.testing.assert_array_equal(post[name].values, ref[name].values, err_msg=name)
    # The re-used model saw this world's data, not the one it was compiled on.
    assert not np.allclose(
        post["channel_contribution_original_scale"].mean(("chain", "draw")),
        cal.idata_.posterior["channel_contribution_original_scale"].mean(("chain", "draw")),
    )
    np.testing.assert_array_equal(post["date"].values, world.data["date"].to_numpy())
    for group in ("constant_data", "observed_data", "fit_data"):
        assert group in reused.idata_


@pytest.mark.slow
def test_deterministics_of_all_draws_at_once_equal_pymc_draw_by_draw(fits, tiny_sampler):
    import pymc as pm

    _, cal, _ = fits
    # Another world of the same structure re-uses cal's compiled model (and its pm.Model):
    # cal's model must still hold cal's data afterwards.
    other = _short_world(5)
    lift = conversion_lift_test(other, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), 5)
    spec = ModelSpec.for_world(other, yearly_seasonality=None)
    again = CalibratedMMM(spec, lift, sampler=tiny_sampler).fit(other.data)
    assert again.timings_.source == "memory"
    for mmm in (cal, again):
        post = mmm.idata_.posterior.isel(chain=[0], draw=slice(0, 5))
        model = mmm.mmm_.model
        free = post[[rv.name for rv in model.free_RVs]]
        ref = pm.compute_deterministics(free, model=model, progressbar=False)
        assert set(ref.data_vars) == {d.name for d in model.deterministics} and ref.data_vars
        for name in ref.data_vars:
            assert post[name].dims == ref[name].dims, name
            np.testing.assert_allclose(post[name].values, ref[name].values, rtol=1e-9, err_msg=name)


@pytest.mark.slow
def test_deterministics_fall_back_to_draw_by_draw_when_the_fast_path_fails(
    fits, small_world, tiny_sampler, monkeypatch
):
    import mmmcal.sampling.sampler as sampler

    _, cal, _ = fits
    sampler.clear_compiled_cache()  # a new entry: the fast path is built again, and fails

    def broken(model):
        raise NotImplementedError("no vectorisation rule")

    monkeypatch.setattr(sampler, "batched_deterministics", broken)
    with pytest.warns(RuntimeWarning, match="draw by draw instead of all at once"):
        again = CalibratedMMM(cal.spec, cal.lift, sampler=tiny_sampler).fit(small_world.data)
    post, ref = again.idata_.posterior, cal.idata_.posterior
    assert set(post.data_vars) == set(ref.data_vars)
    for name in ref.data_vars:  # same seed and compiled model: the same draws and values
        np.testing.assert_allclose(post[name].values, ref[name].values, rtol=1e-9, err_msg=name)
