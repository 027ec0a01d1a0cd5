"""The fast compile path degrades, never breaks: sizes in the key, checked loads, fallbacks."""

import shutil
import warnings
from collections import OrderedDict

import numpy as np
import pymc as pm
import pytest

from mmmcal.experiments.conversion_lift import LiftTestDesign, lift_tests
from mmmcal.models.bayes import CalibratedMMM
from mmmcal.models.spec import ModelSpec
from mmmcal.sampling import compile as compile_mod
from mmmcal.sampling import fast_compile, numba_patches, store
from mmmcal.sampling import sampler as sampling
from mmmcal.sampling.compile import FastCompileWarning, compile_model
from mmmcal.sampling.fingerprint import fingerprint
from mmmcal.sampling.verify import call_logp
from mmmcal.world.presets import get_preset
from mmmcal.world.simulate import simulate


def _toy(y, prior_sigma=1.0, n_groups=2):
    with pm.Model(coords={"group": [f"g{i}" for i in range(n_groups)]}) as model:
        data = pm.Data("y", y)
        mu = pm.Normal("mu", 0.0, prior_sigma, dims="group")
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("obs", mu.mean(), sigma, observed=data)
    return model


def _free(model):
    return [v.name for v in model.free_RVs]


def _reference_logp(model, x):
    """Log density and gradient of nutpie's public build at ``x``."""
    import nutpie

    code, logp, grad = call_logp(nutpie.compile_pymc_model(model, backend="numba"), x)
    assert code == 0
    return logp, grad


def _assert_same_density(compiled, model):
    x = np.linspace(-0.5, 0.5, compiled.n_dim)
    code, logp, grad = call_logp(compiled, x)
    ref_logp, ref_grad = _reference_logp(model, x)
    assert code == 0
    np.testing.assert_allclose([logp, *grad], [ref_logp, *ref_grad], rtol=1e-10)


@pytest.fixture
def own_store(tmp_path, monkeypatch):
    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path))
    return tmp_path


# --------------------------------------------------------------------------- what the key covers


def test_a_dimension_length_changes_the_key():
    y = np.zeros(10)
    assert fingerprint(_toy(y, n_groups=2), ["mu", "sigma"]) != fingerprint(
        _toy(y, n_groups=3), ["mu", "sigma"]
    )
    # Data values and lengths along a dimension that sizes no parameter stay data.
    assert fingerprint(_toy(y), ["mu", "sigma"]) == fingerprint(_toy(np.ones(25)), ["mu", "sigma"])


def _world(n_periods=60, seed=2, **changes):
    return simulate(get_preset("reference").with_updates(n_periods=n_periods, **changes), seed)


def _key(world, lift=None, data=None, **spec_changes):
    spec = ModelSpec.for_world(world, yearly_seasonality=None, **spec_changes)
    fit = CalibratedMMM(spec, lift).build(world.data if data is None else data)
    return fingerprint(fit.mmm_.model, _free(fit.mmm_.model))


def test_a_model_stored_for_one_size_is_never_keyed_like_another():
    world = _world()
    tv = LiftTestDesign(channel="tv", n_periods=4, switch_on=True)
    one_test = lift_tests(world, [tv])
    two_tests = lift_tests(world, [tv, tv.model_copy(update={"end_offset": 10, "test_id": "b"})])
    base = _key(world, one_test)
    assert _key(world, one_test, channel_columns=["tv", "social"]) != base  # N vs N+1 channels
    assert _key(world, one_test, adstock={"family": "geometric", "l_max": 6}) != base  # l_max
    assert _key(world, two_tests) != base  # lift rows
    extra = world.data.assign(price=np.linspace(1.0, 2.0, len(world.data)))
    assert _key(world, one_test, extra, control_columns=["demand_proxy", "price"]) != base
    assert _key(_world(seed=3), one_test) == base  # same sizes, other data


def test_geo_count_changes_the_key():
    def geo_key(n_geos):
        scenario = get_preset("reference-geo").with_updates(
            n_periods=30, geo={"n_geos": n_geos, "size_sd": 0.5}
        )
        world = simulate(scenario, 0)
        return _key(world, geo_column="geo")

    assert geo_key(3) != geo_key(4)


@pytest.mark.slow
def test_two_channels_then_three_fit_from_one_store(small_world, tiny_sampler, monkeypatch):
    """The sequence that once served a 2-channel model to a 3-channel fit."""
    sampler = tiny_sampler.model_copy(update={"draws": 50, "tune": 100, "chains": 1})
    for channels in (["tv", "social"], ["tv", "social", "search"]):
        monkeypatch.setattr(sampling, "_CACHE", OrderedDict())  # each fit as a new process
        spec = ModelSpec.for_world(small_world, channel_columns=channels, yearly_seasonality=3)
        fit = CalibratedMMM(spec, sampler=sampler).fit(small_world.data)
        assert fit.timings_.source == "compiled" and fit.timings_.build == "mmmcal"
        contributions = fit.channel_contributions()
        assert list(contributions["channel"].values) == channels
        assert np.isfinite(contributions.values).all()


# --------------------------------------------------------------------------- checked loads


def _entry(where):
    (entry,) = [p for p in where.iterdir() if p.is_dir() and (p / "meta.json").exists()]
    return entry


def test_a_stored_model_altered_on_disk_is_detected_and_compiled_again(own_store, tmp_path_factory):
    model = _toy(np.linspace(0, 1, 10))
    compile_model(model, _free(model))
    entry = _entry(own_store)
    # Another model's machine code, same layout: the callbacks of a different prior.
    other_store = tmp_path_factory.mktemp("other")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(store.CACHE_ENV, str(other_store))
        other = _toy(np.linspace(0, 1, 10), prior_sigma=7.0)
        compile_model(other, _free(other))
    for code in _entry(other_store).glob("*.nb[ci]"):
        shutil.copy(code, entry / code.name)
    with pytest.warns(UserWarning, match="does not fit this model: log density"):
        compiled, source = compile_model(model, _free(model))
    assert source == "compiled"
    _assert_same_density(compiled, model)
    assert compile_model(model, _free(model))[1] == "disk"  # stored again, and it fits


def test_a_layout_altered_on_disk_is_detected(own_store):
    model = _toy(np.linspace(0, 1, 10))
    compile_model(model, _free(model))
    meta = _entry(own_store) / "meta.json"
    meta.write_text(meta.read_text().replace('"mu"', '"nu"'))
    with pytest.warns(UserWarning, match="free variables differ"):
        compiled, source = compile_model(model, _free(model))
    assert source == "compiled"
    _assert_same_density(compiled, model)


# --------------------------------------------------------------------------- fallbacks


def _boom(*args, **kwargs):
    raise RuntimeError("injected fault")


BUILD_STEPS = [
    (compile_mod, "fingerprint"),
    (fast_compile, "initial_points"),
    (fast_compile, "free_shapes"),
    (fast_compile, "_functions"),
    (fast_compile, "graph_function"),
    (fast_compile, "graph_built_once"),
    (fast_compile, "store_locator"),
    (fast_compile, "_callback"),
    (fast_compile, "_user_data"),
    (fast_compile, "_assemble"),
]


@pytest.mark.parametrize(("owner", "name"), BUILD_STEPS, ids=[n for _, n in BUILD_STEPS])
def test_a_fault_in_any_build_step_gives_nutpie_public_build(own_store, monkeypatch, owner, name):
    model = _toy(np.linspace(-1, 2, 12))
    monkeypatch.setattr(owner, name, _boom)
    with pytest.warns(FastCompileWarning, match="injected fault") as record:
        compiled, source = compile_model(model, _free(model))
    assert source == "nutpie"
    assert "report it" in str(record[0].message) and "numba" in str(record[0].message)
    _assert_same_density(compiled, model)


LOAD_STEPS = [
    (fast_compile, "load"),
    (fast_compile, "load_cfunc"),
    (compile_mod, "check_loaded"),
]


@pytest.mark.parametrize(("owner", "name"), LOAD_STEPS, ids=[n for _, n in LOAD_STEPS])
def test_a_fault_while_loading_compiles_again(own_store, monkeypatch, owner, name):
    model = _toy(np.linspace(-1, 2, 12))
    compile_model(model, _free(model))
    monkeypatch.setattr(owner, name, _boom)
    with pytest.warns(UserWarning, match="could not be read"):
        compiled, source = compile_model(model, _free(model))
    assert source == "compiled"
    _assert_same_density(compiled, model)


def test_library_versions_outside_the_tested_ones_take_the_public_path(own_store, monkeypatch):
    real = numba_patches.version
    monkeypatch.setattr(
        numba_patches, "version", lambda lib: "0.67.1" if lib == "numba" else real(lib)
    )
    reason = numba_patches._unsupported()
    assert "numba 0.67.1" in reason and "numba 0.66.x" in reason
    monkeypatch.setattr(numba_patches, "SUPPORTED", False)
    monkeypatch.setattr(numba_patches, "UNSUPPORTED_REASON", reason)
    model = _toy(np.zeros(5))
    with pytest.warns(FastCompileWarning, match="numba 0.67.1"):
        compiled, source = compile_model(model, _free(model))
    assert source == "nutpie" and store.cache_info()["models"] == 0
    _assert_same_density(compiled, model)


def test_the_installed_versions_are_the_tested_ones():
    assert numba_patches.SUPPORTED, numba_patches.UNSUPPORTED_REASON


@pytest.mark.parametrize("how", ["environment", "argument"])
def test_the_fast_path_can_be_turned_off(own_store, monkeypatch, how):
    model = _toy(np.zeros(5))
    if how == "environment":
        monkeypatch.setenv(compile_mod.FAST_COMPILE_ENV, "off")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FastCompileWarning)  # off is not a fault: no warning
        compiled, source = compile_model(model, _free(model), fast=how != "argument")
    assert source == "nutpie" and store.cache_info()["models"] == 0
    _assert_same_density(compiled, model)


@pytest.mark.slow
def test_a_fit_survives_a_broken_fast_path(small_world, tiny_sampler, monkeypatch):
    monkeypatch.setattr(fast_compile, "build", _boom)
    lift = lift_tests(small_world, [LiftTestDesign(channel="tv", n_periods=8, switch_on=True)])
    spec = ModelSpec.for_world(small_world, yearly_seasonality=None)
    sampler = tiny_sampler.model_copy(update={"reuse_compiled": False})
    with pytest.warns(FastCompileWarning, match="injected fault"):
        fit = CalibratedMMM(spec, lift, sampler=sampler).fit(small_world.data)
    assert fit.timings_.build == "nutpie" and fit.timings_.source == "compiled"
    assert fit.diagnostics_.divergences == 0
    implied = fit.idata_.posterior["lift_window_model_lift"].mean()
    # The lift term works through nutpie's own build too: the posterior follows the test.
    np.testing.assert_allclose(float(implied), float(lift["delta_y"].iloc[0]), rtol=0.15)


# --------------------------------------------------------------------------- patches


def _patchable_state():
    import nutpie.compile_pymc as ncp
    from numba.core.caching import CacheImpl
    from numba.core.codegen import CPUCodeLibrary

    return (
        CPUCodeLibrary._optimize_final_module,
        CPUCodeLibrary._finalize_final_module,
        list(CacheImpl._locator_classes),
        ncp._compute_shapes,
    )


def test_patches_are_restored_after_a_compile_and_after_a_failure(own_store, monkeypatch):
    before = _patchable_state()
    model = _toy(np.zeros(6))
    compile_model(model, _free(model))
    assert _patchable_state() == before
    monkeypatch.setattr(fast_compile, "load_cfunc", _boom)  # fails inside the locator's window
    monkeypatch.setattr(fast_compile, "LOGP_SOURCE", "def mmmcal_logp(:")  # fails inside a patch
    with pytest.warns(FastCompileWarning):
        compile_model(_toy(np.zeros(6), prior_sigma=3.0), ["mu", "sigma"])
    assert _patchable_state() == before


def test_nutpie_shapes_patch_answers_only_for_the_model_being_compiled(monkeypatch):
    import nutpie.compile_pymc as ncp

    other = _toy(np.zeros(4), n_groups=5)
    expected = {k: tuple(v) for k, v in ncp._compute_shapes(other).items()}
    seen = {}
    real = ncp._make_functions

    def spying(model, **kwargs):  # another caller asks for its own model's shapes meanwhile
        seen.update({k: tuple(v) for k, v in ncp._compute_shapes(other).items()})
        return real(model, **kwargs)

    monkeypatch.setattr(ncp, "_make_functions", spying)
    model = _toy(np.zeros(4), n_groups=2)
    compile_model(model, _free(model), store=False)
    assert seen == expected and seen["mu"] == (5,)
