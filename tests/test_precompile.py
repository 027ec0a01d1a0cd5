"""Compiling later fits' structures in a background process (mmmcal.models.precompile)."""

import pytest

from mmmcal.experiments.conversion_lift import LiftTestDesign, conversion_lift_test
from mmmcal.models.bayes import CalibratedMMM
from mmmcal.models.precompile import Precompiler
from mmmcal.models.spec import ModelSpec
from mmmcal.sampling import store
from mmmcal.sampling.compile import is_stored
from mmmcal.world.presets import get_preset
from mmmcal.world.simulate import simulate


def _models(tiny_sampler, n_periods=4):
    world = simulate(get_preset("reference").with_updates(n_periods=40), seed=7)
    spec = ModelSpec.for_world(world, yearly_seasonality=None)
    design = LiftTestDesign(channel="tv", n_periods=n_periods, switch_on=True)
    lift = conversion_lift_test(world, design, 7)
    first = CalibratedMMM(spec, None, sampler=tiny_sampler, name="first")
    later = CalibratedMMM(spec, lift, sampler=tiny_sampler, name="later")
    return world, first, later


@pytest.mark.slow
def test_a_later_fit_loads_what_the_worker_compiled_and_a_stored_first_fit_starts_no_worker(
    tmp_path, monkeypatch, tiny_sampler
):
    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path))  # the worker inherits it
    world, first, later = _models(tiny_sampler)
    with Precompiler.for_fits([first, later], world.data) as ahead:
        assert ahead.running
        first.fit(world.data)
        ahead.wait(later)
        assert is_stored(later.build(world.data).mmm_.model)
        later.fit(world.data)
    assert first.timings_.source == "compiled" and later.timings_.source == "disk"
    assert later.diagnostics_.draws == tiny_sampler.draws
    # Everything stored now: a second run starts no worker.
    _, first_again, later_again = _models(tiny_sampler)
    with Precompiler.for_fits([first_again, later_again], world.data) as ahead:
        assert not ahead.running


@pytest.mark.slow
def test_a_failed_background_compile_warns_and_leaves_the_fit_to_compile(
    tmp_path, monkeypatch, tiny_sampler
):
    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path))
    world, first, later = _models(tiny_sampler)
    later.lift = later.lift.assign(channel="radio")  # not a model channel: its build fails
    with Precompiler([later], world.data) as ahead:
        with pytest.warns(RuntimeWarning, match="(?s)'later' in the background failed.*radio"):
            ahead.wait(later)
    assert not any(tmp_path.iterdir())  # nothing stored for it


def test_with_the_store_off_nothing_runs_in_the_background(monkeypatch, tiny_sampler):
    monkeypatch.setenv(store.CACHE_ENV, "off")
    world, first, later = _models(tiny_sampler)
    with Precompiler.for_fits([first, later], world.data) as ahead:
        assert not ahead.running
        ahead.wait(later)  # returns at once
