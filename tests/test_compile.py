"""Compiling for nutpie: the store of compiled models (stable keys, checked loads, nothing
stale) and the fallback to nutpie's public build when the fast path cannot be used."""

import subprocess
import sys
from collections import OrderedDict

import arviz as az
import numpy as np
import pymc as pm
import pytest

from mmmcal.experiments.conversion_lift import LiftTestDesign, conversion_lift_test
from mmmcal.models.bayes import CalibratedMMM
from mmmcal.models.spec import ModelSpec
from mmmcal.sampling import fast_compile, numba_patches, store
from mmmcal.sampling import sampler as sampling
from mmmcal.sampling.compile import compile_model
from mmmcal.sampling.fingerprint import fingerprint, free_shapes, token
from mmmcal.sampling.verify import call_logp
from mmmcal.world.presets import get_preset
from mmmcal.world.simulate import simulate


def _toy(y, prior_sigma=1.0):
    with pm.Model() as model:
        data = pm.Data("y", y)
        mu = pm.Normal("mu", 0.0, prior_sigma)
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("obs", mu, sigma, observed=data)
    return model


def _logp_and_grad(compiled, x):
    code, logp, grad = call_logp(compiled, x)
    assert code == 0
    return logp, grad


def _free(model):
    return [v.name for v in model.free_RVs]


def test_store_round_trip_gives_the_same_log_density(tmp_path, monkeypatch):
    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path))
    y = np.random.default_rng(0).normal(1.0, 2.0, size=50)
    model = _toy(y)
    compiled, source = compile_model(model, _free(model))
    assert source == "compiled"
    assert store.cache_info()["models"] == 1

    # Another model of the same structure with other data: loaded, and it uses its own data.
    other = _toy(y[:30] * 3)
    again, source = compile_model(other, _free(other))
    assert source == "disk"
    fresh, _ = compile_model(other, _free(other), store=False)
    for x in np.random.default_rng(1).normal(size=(3, 2)):
        lp, grad = _logp_and_grad(again, x)
        ref_lp, ref_grad = _logp_and_grad(fresh, x)
        np.testing.assert_allclose(lp, ref_lp, rtol=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-12)
        assert not np.isclose(lp, _logp_and_grad(compiled, x)[0])
    # nutpie samples it.
    import nutpie

    idata = nutpie.sample(again, draws=50, tune=50, chains=1, seed=1, progress_bar=False)
    assert idata.posterior["mu"].shape == (1, 50)

    assert store.clear_disk_cache() == 1
    assert store.cache_info()["models"] == 0


def test_a_different_structure_is_not_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path))
    y = np.zeros(20)
    a, b = _toy(y), _toy(y, prior_sigma=5.0)  # a constant of the graph differs
    assert fingerprint(a, _free(a)) != fingerprint(b, _free(b))
    compile_model(a, _free(a))
    _, source = compile_model(b, _free(b))
    assert source == "compiled"
    assert store.cache_info()["models"] == 2


def test_store_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv(store.CACHE_ENV, "off")
    assert store.cache_dir() is None
    model = _toy(np.zeros(5))
    _, source = compile_model(model, _free(model))
    assert source == "compiled"
    assert store.cache_info()["models"] == 0
    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "/nowhere")
    assert store.cache_dir() == tmp_path


def _short_world(seed):
    return simulate(get_preset("reference").with_updates(n_periods=60), seed=seed)


def _calibrated(world, n_periods=8, l_max=None):
    lift = conversion_lift_test(
        world, LiftTestDesign(channel="tv", n_periods=n_periods, switch_on=True), 0
    )
    spec = ModelSpec.for_world(world, yearly_seasonality=None)
    if l_max is not None:
        spec = spec.model_copy(update={"adstock": spec.adstock.model_copy(update={"l_max": l_max})})
    return CalibratedMMM(spec, lift).build(world.data)


def _fingerprint(fit):
    return fingerprint(fit.mmm_.model, _free(fit.mmm_.model))


def test_fingerprint_ignores_data_but_not_structure():
    a = _calibrated(_short_world(2))
    key = _fingerprint(a)
    assert key is not None
    assert _fingerprint(_calibrated(_short_world(3))) == key
    assert _fingerprint(_calibrated(_short_world(2), n_periods=4)) != key
    assert _fingerprint(_calibrated(_short_world(2), l_max=6)) != key


@pytest.mark.slow
def test_fingerprint_is_the_same_in_another_process():
    code = (
        "from tests.test_compile import _calibrated, _short_world, _fingerprint;"
        "print(_fingerprint(_calibrated(_short_world(4))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == _fingerprint(_calibrated(_short_world(4)))


@pytest.mark.slow
@pytest.mark.no_cover  # a timing ratio: coverage's tracer slows Python, not compiled code
def test_fit_loads_a_stored_model_and_samples_the_same_posterior(fits, tiny_sampler, monkeypatch):
    _, cal, _ = fits  # compiled this structure, which went to the session's store
    monkeypatch.setattr(sampling, "_CACHE", OrderedDict())  # as if in a new process
    world = _short_world(6)
    lift = conversion_lift_test(world, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), 6)
    spec = ModelSpec.for_world(world, yearly_seasonality=None)
    sampler = tiny_sampler.model_copy(update={"draws": 300})
    loaded = CalibratedMMM(spec, lift, sampler=sampler).fit(world.data)
    assert loaded.timings_.source == "disk" and loaded.timings_.reused
    fresh = CalibratedMMM(
        spec, lift, sampler=sampler.model_copy(update={"reuse_compiled": False})
    ).fit(world.data)
    assert fresh.timings_.source == "compiled"
    # Loading (with its check) costs 1-4 s against 10-20 s of compiling, under the suite's load.
    assert loaded.timings_.compile_s < 0.3 * fresh.timings_.compile_s
    # Stored machine code rounds a few last bits differently from freshly JIT-compiled code,
    # so the chains part ways: compare the posteriors, not the draws.
    for fit in (loaded, fresh):
        assert fit.diagnostics_.divergences == 0
    a, b = (f.idata_.posterior["lift_window_model_lift"] for f in (loaded, fresh))
    mcse = np.hypot(*(float(az.mcse(x.to_dataset(name="v"))["v"].max()) for x in (a, b)))
    assert abs(float(a.mean()) - float(b.mean())) < 5 * mcse
    # Its data are this world's, not those of the world it was compiled on.
    np.testing.assert_array_equal(
        loaded.idata_.posterior["date"].values, world.data["date"].to_numpy()
    )
    assert not np.isclose(
        float(a.mean()), float(cal.idata_.posterior["lift_window_model_lift"].mean()), rtol=0.05
    )


def test_a_damaged_entry_is_compiled_again(tmp_path, monkeypatch):
    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path))
    model = _toy(np.ones(10))
    compile_model(model, _free(model))
    (entry,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    for data in entry.glob("*.nbc"):
        data.write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="could not be read"):
        compiled, source = compile_model(model, _free(model))
    assert source == "compiled" and np.isfinite(_logp_and_grad(compiled, np.zeros(2))[0])
    assert compile_model(model, _free(model))[1] == "disk"  # stored again, loads


def test_an_unwritable_store_compiles_without_storing(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the store's folder would be")
    monkeypatch.setenv(store.CACHE_ENV, str(blocked))
    model = _toy(np.ones(10))
    with pytest.warns(UserWarning, match="Cannot write compiled models"):
        compiled, source = compile_model(model, _free(model))
    assert source == "compiled" and np.isfinite(_logp_and_grad(compiled, np.zeros(2))[0])


def test_functions_are_told_apart_by_code_constants_and_closures():
    def scaled(c):
        return lambda x: x * c

        assert token(lambda x: x * 2) != token(lambda x: x * 3)

    assert token(scaled(2)) != token(scaled(3))
    assert token(scaled(2)) == token(scaled(2))


def test_callbacks_answer_as_nutpie_own_build_does():
    """Values where the graph is fine, and nutpie's codes where it raises or is not finite."""
    import nutpie
    import pytensor.tensor as pt
    from pytensor.raise_op import Assert

    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 1.0, shape=2)
        pm.Potential("guard", Assert("mu[0] too large")(pt.constant(0.0), mu[0] < 5.0))
        pm.Potential("root", pt.switch(mu[1] > -3.0, 0.0, pt.log(mu[1])))
    ours, _ = compile_model(model, _free(model), store=False)
    theirs = nutpie.compile_pymc_model(model, backend="numba")
    points = {"fine": [0.3, -1.0], "raises": [6.0, 0.0], "not finite": [0.0, -4.0]}
    codes = {}
    for name, x in points.items():
        code, logp, grad = call_logp(ours, x)
        ref_code, ref_logp, ref_grad = call_logp(theirs, x)
        assert code == ref_code, name
        codes[name] = code
        if code == 0:
            np.testing.assert_allclose([logp, *grad], [ref_logp, *ref_grad], rtol=1e-12)
    assert codes == {"fine": 0, "raises": 1, "not finite": 4}


def test_callbacks_call_pytensor_graph_function_directly():
    import inspect

    import pytensor
    import pytensor.tensor as pt

    x = pt.vector("x")
    fn = pytensor.function([x], pt.exp(x).sum(), mode="NUMBA")
    graph = fast_compile.graph_function(fn.vm.jit_fn)
    assert graph.py_func.__name__ == "numba_funcified_fgraph"
    assert not graph.py_func.__code__.co_flags & inspect.CO_VARARGS
    # A function of any other shape is used as it is.
    assert fast_compile.graph_function(graph) is graph


def test_only_the_graph_library_is_emitted_without_optimising(monkeypatch):
    """The graph's own library goes through the -O0 target, the callbacks do not; they agree."""
    import nutpie

    emitted = []
    real = numba_patches._unoptimising_target

    class Recording:
        def __init__(self, machine):
            self.machine = machine

        def emit_object(self, module):
            emitted.append(module.name)
            return self.machine.emit_object(module)

    monkeypatch.setattr(numba_patches, "_unoptimising_target", lambda cg: Recording(real(cg)))
    model = _toy(np.array([0.5, 1.5, 2.5]))
    ours, _ = compile_model(model, _free(model), store=False)
    assert not {"mmmcal_logp", "mmmcal_expand"} & set(emitted)  # stored code: numba's -O3
    assert sum("numba_funcified_fgraph" in name for name in emitted) == 2  # logp and expand
    theirs = nutpie.compile_pymc_model(model, backend="numba")
    x = np.array([0.2, -0.3])
    np.testing.assert_allclose(
        np.hstack(_logp_and_grad(ours, x)), np.hstack(_logp_and_grad(theirs, x)), rtol=1e-12
    )


def test_free_shapes_are_nutpie_own():
    """The shapes nutpie reads when tracing free variables, computed without deterministics."""
    import nutpie.compile_pymc as ncp
    from pymc.initial_point import make_initial_point_fn

    with pm.Model(coords={"channel": ["a", "b", "c"]}) as model:
        n = pm.Data("n", np.ones(4))
        weights = pm.Dirichlet("weights", np.ones(3), dims="channel")
        scale = pm.HalfNormal("scale", 1.0, shape=n.shape[0])
        pm.Deterministic("scaled", scale[:, None] * weights[None, :])
    point_fn = make_initial_point_fn(model=model, return_transformed=True)
    ours = free_shapes(model, point_fn)
    theirs = ncp._compute_shapes(model)
    assert ours["weights"] == (3,) and ours["weights_simplex__"] == (2,)
    assert ours["scale"] == (4,) and "scaled" not in ours
    assert ours == {k: tuple(v) for k, v in theirs.items() if k in ours}
    assert set(ours) == {*(v.name for v in model.value_vars), *(v.name for v in model.free_RVs)}
