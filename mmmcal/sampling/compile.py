"""Compile a PyMC model for nutpie: mmmcal's fast, stored build, or nutpie's public one.

:func:`compile_model` is the only entry point. With the fast path on (the default), a model
whose :func:`~mmmcal.sampling.fingerprint.fingerprint` is in the store is loaded and checked
against the model in hand (:mod:`mmmcal.sampling.verify`); one that fails the check, or is
not there, is compiled by :mod:`mmmcal.sampling.fast_compile` and stored. Any error on that
path, and any library version outside those the fast path was tested on
(:mod:`mmmcal.sampling.numba_patches`), falls back to ``nutpie.compile_pymc_model``: slower
to compile (35-40 s instead of 11-14 s on the reference model), never stored, the same
posterior. ``MMMCAL_FAST_COMPILE=off`` (or ``SamplerConfig(fast_compile=False)``) always
takes nutpie's build.
"""

from __future__ import annotations

import os
import shutil
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Literal

from mmmcal.sampling import fast_compile, numba_patches
from mmmcal.sampling.fingerprint import fingerprint
from mmmcal.sampling.store import CACHE_ENV, cache_dir, writable_entry
from mmmcal.sampling.verify import check_loaded

__all__ = [
    "FAST_COMPILE_ENV",
    "FastCompileWarning",
    "Source",
    "compile_model",
    "fast_compile_on",
    "is_stored",
]

FAST_COMPILE_ENV = "MMMCAL_FAST_COMPILE"
Source = Literal["compiled", "disk", "nutpie"]


class FastCompileWarning(UserWarning):
    """mmmcal's fast compile path could not be used; nutpie's public build was used instead."""


def fast_compile_on(requested: bool = True) -> bool:
    """Whether the fast path is wanted: ``requested`` and ``MMMCAL_FAST_COMPILE`` is not off."""
    setting = os.environ.get(FAST_COMPILE_ENV, "").strip().lower()
    return requested and setting not in {"off", "0", "false", "no"}


def _public(model, var_names: list[str]):
    """The numba build of nutpie's public ``compile_pymc_model``."""
    import nutpie

    return nutpie.compile_pymc_model(model, backend="numba", var_names=var_names)


def _versions() -> str:
    libs = ("mmmcal", *numba_patches.TESTED, "pymc", "pymc-marketing")
    return ", ".join(f"{lib} {version(lib)}" for lib in libs)


def _fall_back(cause: str) -> None:
    warnings.warn(
        f"mmmcal's fast compile path is not used ({cause}); compiling with nutpie's own build "
        "instead (slower to compile, not stored, the same posterior). If this is unexpected, "
        f"please report it to the mmmcal maintainers with this message and: {_versions()}. "
        f"Set {FAST_COMPILE_ENV}=off to use nutpie's build without this warning.",
        FastCompileWarning,
        stacklevel=4,
    )


def _keyed(model, var_names: list[str], point_fn) -> Path | None:
    """Where the store keeps ``model``; None when the store is off or can't key it."""
    directory = cache_dir()
    key = None if directory is None else fingerprint(model, var_names, point_fn)
    return None if directory is None or key is None else directory / key


def _entry(model, var_names: list[str], point_fn) -> Path | None:
    """The store entry for ``model``; None when the store is off, unwritable or can't key it."""
    entry = _keyed(model, var_names, point_fn)
    if entry is None:
        return None
    if not (entry / "meta.json").exists():
        reason = writable_entry(entry)
        if reason is not None:
            warnings.warn(
                f"Cannot write compiled models to {entry.parent} ({reason}); compiling without "
                f"storing. Set {CACHE_ENV} to a writable folder, or to 'off'.",
                stacklevel=4,
            )
            return None
    return entry


def _load_checked(model, entry: Path, point_fn):
    """The stored model of ``entry`` if it is there and fits ``model``; None otherwise.

    ``point_fn`` gives the model's initial points. A damaged or mismatching entry is deleted
    (so the compile that follows stores it again).
    """
    try:
        found = fast_compile.load(model, entry, point_fn)
        problem = None if found is None else check_loaded(found[0], found[1], model, point_fn(0))
    except Exception as err:  # a damaged entry: compile and store it again
        found, problem = None, f"it could not be read ({err!r})"
    if found is not None and problem is None:
        return found[0]
    if problem is not None:
        warnings.warn(
            f"The stored compiled model {entry} does not fit this model: {problem}; "
            "compiling it again.",
            stacklevel=4,
        )
        shutil.rmtree(entry, ignore_errors=True)
        entry.mkdir(parents=True, exist_ok=True)
    return None


def _fast(model, var_names: list[str], store: bool) -> tuple[object, Source]:
    point_fn = fast_compile.initial_points(model)
    entry = _entry(model, var_names, point_fn) if store else None
    if entry is not None:
        loaded = _load_checked(model, entry, point_fn)
        if loaded is not None:
            return loaded, "disk"
    return fast_compile.build(model, var_names, entry, point_fn), "compiled"


def is_stored(model) -> bool:
    """Whether the store holds ``model`` compiled (all free variables), without compiling."""
    if not fast_compile_on() or not numba_patches.SUPPORTED:
        return False
    try:
        names = [v.name for v in model.free_RVs]
        entry = _keyed(model, names, fast_compile.initial_points(model))
    except Exception:  # a model the store cannot key is not stored
        return False
    return entry is not None and (entry / "meta.json").exists()


def compile_model(
    model, var_names: list[str], *, store: bool = True, fast: bool = True
) -> tuple[object, Source]:
    """The compiled model nutpie samples, and where it came from.

    Returns (compiled model, source): ``"disk"`` (loaded from the store and checked),
    ``"compiled"`` (mmmcal's build; stored when ``store``) or ``"nutpie"`` (nutpie's public
    build: the fast path was off, unsupported on these library versions, or failed, with
    a :class:`FastCompileWarning` saying why).
    """
    if not fast_compile_on(fast):
        return _public(model, var_names), "nutpie"
    if not numba_patches.SUPPORTED:
        _fall_back(numba_patches.UNSUPPORTED_REASON or "unsupported library versions")
        return _public(model, var_names), "nutpie"
    try:
        return _fast(model, var_names, store)
    except Exception as err:  # never let a speed-up take a fit down
        _fall_back(f"{type(err).__name__}: {err}")
        return _public(model, var_names), "nutpie"
