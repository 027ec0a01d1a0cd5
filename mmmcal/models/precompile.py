"""Compile the structures of later fits in a background process while the first one fits.

A command that fits several models of different structures (the demo: uncalibrated, one
test, every test) compiles each before sampling it, one after another, on one core; on a
machine whose caches are empty each compile costs 20-50 s. :class:`Precompiler` builds the
later models in one spawned worker process and compiles them into the store of compiled
models (:mod:`mmmcal.sampling.store`) while the main process compiles and samples the first;
the main process then loads each from the store instead of compiling it.

It is a speed-up only: with the store off, another sampler or ``reuse_compiled=False`` it
does nothing, and a worker that fails or is slow leaves the main process to compile the
structure itself, with a warning.
"""

from __future__ import annotations

import multiprocessing
import queue
import warnings

import pandas as pd

from mmmcal.models.bayes import CalibratedMMM, SamplerConfig
from mmmcal.models.spec import ModelSpec
from mmmcal.options import LikelihoodChoice

__all__ = ["Precompiler"]


def _compile(
    spec: ModelSpec,
    lift,
    likelihood: LikelihoodChoice,
    lift_dist: str,
    sampler: SamplerConfig,
    data,
):
    """(In the worker) build the model as :meth:`CalibratedMMM.fit` does; compile and store it."""
    from mmmcal.sampling.compile import compile_model

    model = CalibratedMMM(
        spec,
        lift,
        likelihood=likelihood,
        lift_dist=lift_dist,
        sampler=sampler,
    ).build(data)
    pm_model = model.mmm_.model
    free = [v.name for v in pm_model.free_RVs]
    return compile_model(pm_model, free, store=True, fast=sampler.fast_compile)[1]


def _wanted(model: CalibratedMMM) -> bool:
    """Whether a stored compile would be used by ``model``'s fit."""
    from mmmcal.sampling.compile import fast_compile_on
    from mmmcal.sampling.store import cache_dir

    s = model.sampler
    return (
        s.sampler == "nutpie"
        and s.reuse_compiled
        and fast_compile_on(s.fast_compile)
        and cache_dir() is not None
    )


def _worker(jobs: list[tuple], done) -> None:
    """(The worker) compile each job in order; report ``(index, None or the error)``."""
    for i, args in enumerate(jobs):
        try:
            _compile(*args)
        except Exception as err:  # reported; the main process compiles it instead
            done.put((i, f"{type(err).__name__}: {err}"))
        else:
            done.put((i, None))


class Precompiler:
    """Compile ``models`` (not yet fitted) on ``data`` in a background process, in order.

    Use as a context manager; call :meth:`wait` before fitting each of them. Leaving the
    context stops the worker (what it stored stays stored).
    """

    def __init__(self, models: list[CalibratedMMM], data: pd.DataFrame):
        wanted = [m for m in models if _wanted(m)]
        self._index = {id(m): i for i, m in enumerate(wanted)}
        self._results: dict[int, str | None] = {}
        self._proc = None
        if wanted:
            ctx = multiprocessing.get_context("spawn")
            jobs = [(m.spec, m.lift, m.likelihood, m.lift_dist, m.sampler, data) for m in wanted]
            self._done = ctx.Queue()
            self._proc = ctx.Process(target=_worker, args=(jobs, self._done), daemon=True)
            self._proc.start()

    @property
    def running(self) -> bool:
        """Whether a worker was started (and not stopped)."""
        return self._proc is not None

    @classmethod
    def for_fits(cls, models: list[CalibratedMMM], data: pd.DataFrame) -> Precompiler:
        """For fitting ``models`` in order: the later ones compile while the first fits.

        Not when the first's structure is stored already: then so are the others, most
        likely, and a worker would only take a core from the first fit's sampling.
        """
        from mmmcal.sampling.compile import is_stored

        first, later = models[0], models[1:]
        if later and _wanted(first) and is_stored(first.build(data).mmm_.model):
            later = []
        return cls(later, data)

    def wait(self, model: CalibratedMMM) -> None:
        """Block until ``model``'s structure is stored (or its compile failed: warn)."""
        i = self._index.pop(id(model), None)
        if i is None or self._proc is None:
            return
        while i not in self._results:
            try:
                k, error = self._done.get(timeout=1.0)
            except queue.Empty:
                if not self._proc.is_alive():
                    self._results[i] = f"the worker stopped (exit code {self._proc.exitcode})"
                continue
            self._results[k] = error
        if self._results[i] is not None:
            warnings.warn(
                f"Compiling {model.name!r} in the background failed ({self._results[i]}); "
                "it is compiled before its fit instead.",
                RuntimeWarning,
                stacklevel=2,
            )

    def cancel(self) -> None:
        """Stop the worker; models not yet waited for compile before their own fits."""
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc.join()
            self._proc = None

    def __enter__(self) -> Precompiler:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()
