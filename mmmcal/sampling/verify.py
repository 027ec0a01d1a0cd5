"""Check a compiled model loaded from the store against the model in hand, before any use.

A stored entry is found by fingerprint, so it should fit; this check makes sure, because a
loaded model that does not fit would sample the wrong posterior without an error. It
compares the free variables (names, shapes, dtypes) and the data inputs (names, ranks,
dtypes) with the model's, then evaluates the loaded log density and its gradient at
the model's initial point (support points, no jitter) against pytensor's own graph,
evaluated with pytensor's Python linker and no rewrites (~0.7 s on the reference model, most
of it pymc building the log density's graph).
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import numpy as np

from mmmcal.sampling.fingerprint import shared_variables
from mmmcal.sampling.store import Layout

__all__ = ["call_logp", "check_loaded", "mismatch"]

RTOL = 1e-7  # loaded machine code rounds the last bits of a few operations differently


def call_logp(compiled, x: np.ndarray) -> tuple[int, float, np.ndarray]:
    """(return code, log density, gradient) of a compiled model's C callback at ``x``."""
    x = np.ascontiguousarray(x, dtype=float)
    grad, logp = np.zeros_like(x), np.zeros(())

    def as_ptr(a):
        return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))

    code = compiled.compiled_logp_func.ctypes(
        len(x),
        as_ptr(x),
        as_ptr(grad),
        as_ptr(logp),
        ctypes.c_void_p(compiled.user_data.ctypes.data),
    )
    return int(code), float(logp), grad


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's garbage collector off while the block runs (as it was, after)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _pytensor_logp_and_grad(model, point: dict[str, np.ndarray], names: list[str]):
    """The log density and gradient (by value variable) of pytensor's own graph at ``point``."""
    import pytensor
    from pytensor.compile.mode import Mode

    values = [model.rvs_to_values[rv] for rv in model.free_RVs]
    # Creation tracebacks of the graph's variables are for error messages; without them the
    # log density's graph builds ~20% faster. Building it allocates many short-lived objects:
    # in a long session (a notebook, a test run) the collector's full passes over everything
    # alive would cost more than the graph itself.
    with pytensor.config.change_flags(traceback__limit=0), _collector_paused():
        logp = model.logp()
        grads = cast(list, pytensor.grad(logp, values))  # one gradient per value variable
        fn = pytensor.function(
            values,
            [logp, *grads],
            mode=Mode(linker="py", optimizer="None"),
            on_unused_input="ignore",
        )
    out = fn(**{v.name: point[v.name] for v in values})
    by_name = {v.name: np.ravel(g) for v, g in zip(values, out[1:], strict=True)}
    return float(out[0]), np.concatenate([by_name[n] for n in names])


def mismatch(compiled, layout: Layout, model, point: dict[str, np.ndarray]) -> str | None:
    """Why the loaded ``compiled`` does not fit ``model``; None when it does.

    ``point`` is the model's initial point (transformed values, by value-variable name).
    """
    values = [model.rvs_to_values[rv] for rv in model.free_RVs]
    expected = [(v.name, tuple(np.shape(point[v.name])), np.dtype(v.dtype).str) for v in values]
    # The layout lists the free (transformed) variables first, then the other traced ones.
    free = list(zip(layout.names, layout.shapes, strict=True))[: len(values)]
    found = [(n, tuple(s), np.dtype("float64").str) for n, s in free]
    if expected != found:
        return f"free variables differ: stored {found}, model {expected}"
    shared = shared_variables(model)
    for name, ndim, dtype in zip(
        layout.shared, layout.shared_ndims, layout.shared_dtypes, strict=True
    ):
        var = shared.get(name)
        if var is None or (var.ndim, np.dtype(var.dtype).str) != (ndim, dtype):
            found_as = "missing" if var is None else f"rank {var.ndim}, {var.dtype}"
            return f"data input {name!r} differs: stored rank {ndim}, {dtype}; model {found_as}"
    names = [n for n, _ in free]
    x = np.concatenate([np.ravel(point[n]) for n in names])
    if x.size != layout.n_dim:
        return f"the stored model has {layout.n_dim} parameters, this model {x.size}"
    code, logp, grad = call_logp(compiled, x)
    ref_logp, ref_grad = _pytensor_logp_and_grad(model, point, names)
    if code != 0:
        return f"the loaded log density failed at the initial point (code {code})"
    scale = max(1.0, abs(ref_logp))
    if not np.isclose(logp, ref_logp, rtol=0, atol=RTOL * scale):
        return f"log density at the initial point {logp!r}, pytensor's own {ref_logp!r}"
    grad_scale = max(1.0, float(np.max(np.abs(ref_grad), initial=0.0)))
    if not np.allclose(grad, ref_grad, rtol=0, atol=RTOL * grad_scale):
        worst = int(np.argmax(np.abs(grad - ref_grad)))
        return (
            f"gradient at the initial point differs (entry {worst}: {grad[worst]!r}, "
            f"pytensor's own {ref_grad[worst]!r})"
        )
    return None


def check_loaded(compiled, layout: Layout, model, point: dict[str, np.ndarray]) -> str | None:
    """:func:`mismatch`, with any error while checking reported as the reason."""
    try:
        return mismatch(compiled, layout, model, point)
    except Exception as err:  # a check that cannot run cannot vouch for the model
        return f"the check could not run ({type(err).__name__}: {err})"
