"""Sample a built PyMC model with nutpie, compiling each model structure once.

Compiling a model for nutpie's numba backend costs ~11-14 s (:mod:`mmmcal.sampling.compile`),
more than sampling the reference model takes. Every value that changes between data sets
(spend, target, controls, scales, lift results) is model data, so a model with the same
structure — same spec, data shape and lift-test design — re-uses the compiled sampler with
its new data (``CompiledPyMCModel.with_data``); so does the deterministics' function. Within a
process the compiled model stays in memory; across processes it is loaded from the disk store
of :mod:`mmmcal.sampling.store`, so a re-run notebook or a new Dask worker does not compile
again.

The result matches ``pm.sample(nuts_sampler="nutpie")`` followed by
``pm.compute_deterministics``: a posterior with free variables and deterministics, plus
``constant_data`` and ``observed_data`` groups.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from mmmcal.sampling.compile import compile_model
from mmmcal.sampling.deterministics import batched_deterministics, evaluate_batched
from mmmcal.sampling.fingerprint import shared_variables

__all__ = ["SampleTimes", "clear_compiled_cache", "sample_nutpie"]

Adaptation = Literal["diag", "low_rank"]
_MAX_ENTRIES = 8


@dataclass
class _Compiled:
    """A compiled structure: the model it was compiled from and its compiled functions."""

    model: Any  # pm.Model whose shared variables receive each fit's data for deterministics
    sampler: Any  # nutpie CompiledPyMCModel
    build: Literal["mmmcal", "nutpie"] = "mmmcal"
    deterministics: Callable | None = None  # draw by draw (PyMC's compiled function)
    # All draws at once (mmmcal.sampling.deterministics); False: could not be built here.
    batched: tuple | Literal[False] | None = None


_CACHE: OrderedDict[str, _Compiled] = OrderedDict()


def clear_compiled_cache() -> None:
    """Forget every compiled model in this process."""
    _CACHE.clear()


@dataclass(frozen=True)
class SampleTimes:
    """Where the seconds of one fit went and where the compiled model came from.

    ``source``: ``"compiled"`` (compiled in this fit), ``"disk"`` (loaded from the store of
    :mod:`mmmcal.sampling.store`) or ``"memory"`` (compiled earlier in this process).
    ``build``: ``"mmmcal"`` (mmmcal's fast build) or ``"nutpie"`` (nutpie's public build:
    the fast path was off or fell back, see :mod:`mmmcal.sampling.compile`).
    ``adaptation``: the mass matrix of the kept draws; ``retried``: a first run with the
    low-rank matrix failed its checks and was sampled again (seconds include both runs).
    """

    compile_s: float
    sample_s: float
    deterministics_s: float
    source: Literal["compiled", "disk", "memory"] = "compiled"
    build: Literal["mmmcal", "nutpie"] = "mmmcal"
    adaptation: str = "diag"
    retried: bool = False

    @property
    def reused(self) -> bool:
        """True when nothing was compiled for this fit."""
        return self.source != "compiled"


def _shared_values(model) -> dict[str, np.ndarray]:
    """Current values of :func:`mmmcal.sampling.fingerprint.shared_variables`."""
    return {name: var.get_value() for name, var in shared_variables(model).items()}


def _compile(model, free: list[str], store: bool, fast: bool) -> tuple[_Compiled, str]:
    """Compile (or load from disk when ``store``); returns (entry, source)."""
    sampler, source = compile_model(model, free, store=store, fast=fast)
    build: Literal["mmmcal", "nutpie"] = "nutpie" if source == "nutpie" else "mmmcal"
    return _Compiled(model=model, sampler=sampler, build=build), source


def _deterministics(entry: _Compiled, posterior, values: dict[str, np.ndarray], coords, dims):
    """Posterior with the model's deterministics added (computed on ``values``).

    All draws at once (:mod:`mmmcal.sampling.deterministics`); where that cannot be built or
    fails, draw by draw with PyMC's compiled function, with a warning.
    """
    cached = entry.model
    if not cached.deterministics:
        return posterior
    # The cached model is the first fit's own model: lend it this fit's data, then give its
    # own back, so that fit's model still describes its data.
    shared = shared_variables(cached)
    own = {name: var.get_value() for name, var in shared.items()}
    for name, var in shared.items():
        var.set_value(values[name])
    try:
        return _computed(entry, posterior, coords, dims)
    finally:
        for name, var in shared.items():
            var.set_value(own[name])


def _computed(entry: _Compiled, posterior, coords, dims):
    """``posterior`` merged with the deterministics of ``entry``'s model (data already set)."""
    import xarray as xr

    cached = entry.model
    if entry.batched is None:
        try:
            entry.batched = batched_deterministics(cached)
        except Exception as err:  # an op without a vectorisation rule: the plain path
            entry.batched = False
            _batched_failed(f"it could not be built: {type(err).__name__}: {err}")
    if entry.batched:
        try:
            fn, inputs, outputs = entry.batched
            computed = evaluate_batched(fn, inputs, outputs, posterior, dims=dims, coords=coords)
        except Exception as err:
            entry.batched = False
            _batched_failed(f"it failed: {type(err).__name__}: {err}")
        else:
            return xr.merge([posterior, computed], compat="override")
    return xr.merge([posterior, _draw_by_draw(entry, posterior, coords, dims)], compat="override")


def _batched_failed(cause: str) -> None:
    warnings.warn(
        f"mmmcal evaluates the deterministics draw by draw instead of all at once ({cause}); "
        "the same values, a slower first fit.",
        RuntimeWarning,
        stacklevel=4,
    )


def _draw_by_draw(entry: _Compiled, posterior, coords, dims):
    """The deterministics with PyMC's compiled function, one draw per call."""
    from pymc.backends.arviz import apply_function_over_dataset

    cached = entry.model
    if entry.deterministics is None:
        entry.deterministics = cached.compile_fn(
            inputs=cached.free_RVs, outs=cached.deterministics, on_unused_input="ignore"
        )
    return apply_function_over_dataset(
        entry.deterministics,
        posterior[[rv.name for rv in cached.free_RVs]],
        output_var_names=[d.name for d in cached.deterministics],
        dims=dims,
        coords=coords,
        sample_dims=("chain", "draw"),
        progressbar=False,
    )


def _compiled_for(model, key: str | None, values: dict, fast_compile: bool):
    """(cache entry, compiled model with this model's data, source) for ``model``.

    A structure compiled earlier in this process (same ``key``) gets the new data with
    ``with_data``; otherwise it is compiled (or loaded from disk) and kept under ``key``.
    """
    entry = _CACHE.get(key) if key is not None else None
    if key is not None and entry is not None:
        _CACHE.move_to_end(key)
        known = {var.name for var in entry.sampler.shared_var_keys}
        compiled = entry.sampler.with_data(**{k: v for k, v in values.items() if k in known})
        return entry, compiled, "memory"
    free = [v.name for v in model.free_RVs]
    entry, source = _compile(model, free, store=key is not None, fast=fast_compile)
    if key is not None:
        _CACHE[key] = entry
        while len(_CACHE) > _MAX_ENTRIES:
            _CACHE.popitem(last=False)
    return entry, entry.sampler, "disk" if source == "disk" else "compiled"


def _data_groups(model, coords, dims) -> dict:
    """The ``constant_data`` and ``observed_data`` groups pymc writes."""
    import pymc as pm
    from pymc.backends.arviz import dict_to_dataset, find_constants, find_observations

    return {
        group: dict_to_dataset(find(model), library=pm, coords=coords, dims=dims, default_dims=[])
        for group, find in (("constant_data", find_constants), ("observed_data", find_observations))
    }


def _wait(running, draws: int):
    """The finished run's draws; an interrupt stops the chains and is raised, never returned.

    (nutpie's blocking ``sample`` returns the draws made so far on Ctrl-C, which would pass
    for a fit.)
    """
    try:
        idata = running.wait()
    except BaseException:
        running.cancel()
        raise
    made = int(idata.posterior.sizes.get("draw", 0))
    if made < draws:
        raise RuntimeError(f"Sampling stopped after {made} of {draws} draws; nothing was kept.")
    return idata


def sample_nutpie(
    model,
    *,
    key: str | None,
    draws: int,
    tune: int,
    chains: int,
    target_accept: float,
    seed: int,
    cores: int | None = None,
    adaptation: Adaptation = "diag",
    progress: bool = False,
    fast_compile: bool = True,
):
    """Sample ``model`` with nutpie; re-use the compiled sampler stored under ``key``.

    ``key`` must identify the model's structure (everything but its data); None compiles
    afresh and stores nothing, in memory or on disk. ``adaptation`` is nutpie's mass-matrix
    adaptation: ``diag`` (its standard) or ``low_rank``, which also follows strong posterior
    correlations but can leave a chain stuck (``benchmarks/fit_reliability.py``).
    ``fast_compile``: mmmcal's own build and its store (:mod:`mmmcal.sampling.compile`);
    False uses nutpie's public build.

    Returns
    -------
    (InferenceData, SampleTimes)
    """
    import nutpie
    from pymc.backends.arviz import coords_and_dims_for_inferencedata

    values = _shared_values(model)
    start = time.perf_counter()
    entry, compiled, source = _compiled_for(model, key, values, fast_compile)
    coords, dims = coords_and_dims_for_inferencedata(model)
    # Label the draws with this model's coordinates (dates, lift-test ids), not the cached ones.
    new_coords = {k: pd.Index(v) for k, v in model.coords.items() if v is not None}
    compiled = dataclasses.replace(compiled, _coords={**compiled.coords, **new_coords})
    compile_s = time.perf_counter() - start

    start = time.perf_counter()
    kwargs: dict[str, Any] = {"cores": cores} if cores else {}
    running = nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        target_accept=target_accept,
        seed=seed,
        progress_bar=progress,
        adaptation=adaptation,
        save_warmup=False,
        blocking=False,
        **kwargs,
    )
    idata = _wait(running, draws)
    sample_s = time.perf_counter() - start

    start = time.perf_counter()
    idata.posterior = _deterministics(entry, idata.posterior, values, coords, dims)
    idata.add_groups(_data_groups(model, coords, dims))
    deterministics_s = time.perf_counter() - start
    return idata, SampleTimes(
        compile_s=round(compile_s, 3),
        sample_s=round(sample_s, 3),
        deterministics_s=round(deterministics_s, 3),
        source=source,
        build=entry.build,
        adaptation=adaptation,
    )
