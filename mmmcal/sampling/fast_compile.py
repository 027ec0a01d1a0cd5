"""mmmcal's numba build of a PyMC model for nutpie: compiled once, storable, loadable.

Equivalent to ``nutpie.compile_pymc_model(model, backend="numba")`` (the callbacks return
what nutpie's own build returns, values and error codes: ``tests/test_compile_cache.py``),
but it compiles the reference calibrated model in ~11-14 s instead of 35-40 s and its two C
callbacks can be stored and loaded by another process in under a second:

- the callbacks call pytensor's graph function itself (:func:`graph_function`), not its two
  ``*args`` forwarders, each of which numba would compile, optimise and emit again;
- their source is written out here (:data:`LOGP_SOURCE`, :data:`EXPAND_SOURCE`) so that no
  compile-time data are captured and numba can store them; the data arrays are unpacked
  outside the ``try`` block, as in nutpie (numba splits a ``try`` body into a block per
  call: ~10 s of SSA and lowering on the reference model);
- only the free variables' shapes are computed when only they are traced
  (:func:`~mmmcal.sampling.fingerprint.free_shapes`; nutpie also compiles every
  deterministic's shape).

It uses private parts of nutpie, numba and pytensor; :mod:`mmmcal.sampling.compile` falls
back to nutpie's public build on any error here.
"""

from __future__ import annotations

import inspect
import math
import threading
import warnings
from contextlib import AbstractContextManager, nullcontext
from functools import wraps
from pathlib import Path

import numpy as np

from mmmcal.sampling.fingerprint import free_shapes, shared_variables
from mmmcal.sampling.numba_patches import graph_built_once, load_cfunc, patched, store_locator
from mmmcal.sampling.store import Layout

__all__ = ["EXPAND_SOURCE", "LOGP_SOURCE", "build", "graph_function", "initial_points", "load"]

# nutpie's C callbacks (its ``_make_c_logp_func`` and ``_make_c_expand_func``). ``{arrays}``
# unpacks the data arrays from nutpie's record of pointers and ``{args}`` passes them on.
LOGP_SOURCE = """
def mmmcal_logp(dim, x_, out_, logp_, user_data_):
    if dim != n_dim:
        return -1
    x = numba.carray(x_, (n_dim,))
    out = numba.carray(out_, (n_dim,))
    logp = numba.carray(logp_, ())
{arrays}
    try:
        logp_val, grad = inner(x{args})
    except Exception:
        return 1
    logp[()] = logp_val
    finite = True
    for i in range(n_dim):
        out[i] = grad[i]
        finite = finite and math.isfinite(grad[i])
    if not finite:
        return 3
    if not math.isfinite(logp_val[()]):
        return 4
    return 0
"""

EXPAND_SOURCE = """
def mmmcal_expand(dim, expanded, x_, out_, user_data_):
    if dim != n_dim:
        return -1
    if expanded != n_expanded:
        return -1
    x = numba.carray(x_, (n_dim,))
    out = numba.carray(out_, (n_expanded,))
{arrays}
    try:
        (values,) = inner(x{args})
    except Exception:
        return -2
    for i in range(n_expanded):
        out[i] = values[i]
    return 0
"""


def _unpack_source(used: list[int], ndims: list[int]) -> tuple[str, str]:
    """Source lines that read data arrays ``used`` (indices into the record) and the args."""
    pad = " " * 4
    lines = [f"{pad}shared = numba.carray(user_data_, (), record_dtype)['shared']"]
    for i in used:
        key = f"'s{i}'"
        dims = "".join(f"int(shared['shape'][{key}][{d}]), " for d in range(ndims[i]))
        lines.append(
            f"{pad}a{i} = numba.carray(void_pointer(shared['data'][{key}][()]), ({dims}), dtype{i})"
        )
    return "\n".join(lines), "".join(f", a{i}" for i in used)


def graph_function(jit_fn):
    """The numba function of pytensor's graph itself, under its ``*args`` wrappers.

    pytensor wraps the graph function in two ``*args`` forwarders (one for its cache, one
    callable from Python); each is a numba library of its own that links, re-optimises and
    re-emits the whole graph's machine code (~60k lines of LLVM IR here). Calling the graph
    function directly skips both. A function of another shape is returned as it is.
    """
    fn = jit_fn
    while (
        getattr(fn, "py_func", None) is not None
        and fn.py_func.__code__.co_flags & inspect.CO_VARARGS
        and fn.py_func.__code__.co_names == ("jitable_func",)
        and hasattr(fn.py_func.__globals__.get("jitable_func"), "py_func")
    ):
        fn = fn.py_func.__globals__["jitable_func"]
    return fn


def _callback(kind: str, layout: Layout, inner, directory: Path | None, record_dtype):
    """The ``kind`` ("logp" or "expand") C callback for nutpie, stored in ``directory`` if given.

    ``inner`` is the numba build of pytensor's function; None loads the callback from
    ``directory`` and returns None when it is not there.
    """
    import numba
    import numba.types as nt
    from numba.core.ccallback import CFunc
    from numba.core.sigutils import normalize_signature
    from nutpie.compile_pymc import address_as_void_pointer

    used = layout.logp_args if kind == "logp" else layout.expand_args
    arrays, args = _unpack_source(used, layout.shared_ndims)
    src = (LOGP_SOURCE if kind == "logp" else EXPAND_SOURCE).format(arrays=arrays, args=args)
    namespace = {
        "__name__": __name__,
        "numba": numba,
        "math": math,
        "n_dim": layout.n_dim,
        "n_expanded": layout.n_expanded,
        "inner": inner,
        "void_pointer": address_as_void_pointer,
        "record_dtype": record_dtype,
        **{f"dtype{i}": np.dtype(d) for i, d in enumerate(layout.shared_dtypes)},
    }
    exec(compile(src, "<mmmcal>", "exec"), namespace)
    py_func = namespace[f"mmmcal_{kind}"]
    dbl = nt.CPointer(nt.double)
    sizes = (nt.uint64,) if kind == "logp" else (nt.uint64, nt.uint64)
    pointers = (dbl, dbl, dbl) if kind == "logp" else (dbl, dbl)
    cfunc = CFunc(py_func, normalize_signature(nt.int64(*sizes, *pointers, nt.voidptr)), {}, {})
    if directory is not None:
        with store_locator(py_func, directory, kind):
            cfunc.enable_caching()
    if inner is None:  # load only: read the stored code once, as CFunc.compile does on a hit
        return cfunc if directory is not None and load_cfunc(cfunc) else None
    with warnings.catch_warnings():
        # Code holding process-specific addresses is not stored; build() notices.
        warnings.filterwarnings("ignore", "Cannot cache compiled function", numba.NumbaWarning)
        with graph_built_once(py_func.__name__, inner.py_func.__qualname__):
            cfunc.compile()
    return cfunc


def _user_data(variables: list, layout: Layout):
    """The record of data pointers nutpie passes, keyed ``s0, s1, ...`` in the layout's order."""
    from nutpie.compile_pymc import make_user_data

    var_keys = {var: f"s{i}" for i, var in enumerate(variables)}
    data = {}
    for (var, key), dtype in zip(var_keys.items(), layout.shared_dtypes, strict=True):
        value = np.array(var.get_value(), dtype=dtype, order="C", copy=True)
        value.flags.writeable = False
        data[key] = value
    return var_keys, data, make_user_data(var_keys, data)


def initial_points(model):
    """Initial points as nutpie makes them: support points jittered (by seed), transformed.

    Returns pymc's function of a seed giving a dict by value-variable name; thread-safe.
    """
    from pymc.initial_point import make_initial_point_fn

    fn = make_initial_point_fn(
        model=model,
        default_strategy="support_point",
        jitter_rvs=set(model.free_RVs),
        return_transformed=True,
    )
    lock = threading.Lock()

    @wraps(fn)
    def locked(*args, **kwargs):
        with lock:
            return fn(*args, **kwargs)

    return locked


def _flat_initial_points(model, layout: Layout, point_fn):
    """``point_fn``'s points as the flat vectors nutpie starts its chains from."""
    from nutpie.compile_pymc import _rv_dict_to_flat_array_wrapper

    n_free = len(model.free_RVs)
    return _rv_dict_to_flat_array_wrapper(
        point_fn, names=layout.names[:n_free], shapes=layout.shapes[:n_free]
    )


def _assemble(model, layout: Layout, callbacks, var_keys, data, user_data, point_fn):
    from nutpie.compile_pymc import CompiledPyMCModel, _prepare_dims_and_coords

    dims, coords = _prepare_dims_and_coords(model, layout.shape_info(), layout.reparameterized)
    return CompiledPyMCModel(
        _n_dim=layout.n_dim,
        dims=dims,
        _coords=coords,
        _shapes={n: tuple(s) for n, s in zip(layout.names, layout.shapes, strict=True)},
        compiled_logp_func=callbacks[0],
        compiled_expand_func=callbacks[1],
        initial_point_func=_flat_initial_points(model, layout, point_fn),
        shared_data=data,
        shared_var_keys=var_keys,
        user_data=user_data,
        n_expanded=layout.n_expanded,
        shape_info=layout.shape_info(),
        logp_func=None,
        expand_func=None,
        reparameterized_names=layout.reparameterized,
    )


def load(model, entry: Path, point_fn=None):
    """The stored model in ``entry`` with ``model``'s data, and its layout; None if absent.

    None also when the model's data do not match the layout's names and ranks (the caller
    then compiles); :func:`mmmcal.sampling.verify.check_loaded` checks the rest.
    ``point_fn``: :func:`initial_points` of the model (made here when not given).
    """
    if not (entry / "meta.json").exists():
        return None
    layout = Layout.read(entry / "meta.json")
    shared = shared_variables(model)
    variables = [shared.get(n) for n in layout.shared]
    if any(v is None or v.ndim != nd for v, nd in zip(variables, layout.shared_ndims, strict=True)):
        return None
    var_keys, data, user_data = _user_data(variables, layout)
    callbacks = [_callback(k, layout, None, entry, user_data.dtype) for k in ("logp", "expand")]
    if None in callbacks:
        return None
    point_fn = point_fn or initial_points(model)
    return _assemble(model, layout, callbacks, var_keys, data, user_data, point_fn), layout


def _functions(model, var_names: list[str], point_fn, shapes: dict[str, tuple[int, ...]]):
    """The pytensor functions nutpie builds of ``model`` (``_make_functions``), numba mode.

    ``point_fn`` gives initial points (:func:`initial_points`); ``shapes`` are
    :func:`~mmmcal.sampling.fingerprint.free_shapes` of the model.
    """
    import nutpie.compile_pymc as ncp

    free = {rv.name for rv in model.free_RVs}
    known: AbstractContextManager[None] = nullcontext()
    if set(var_names) <= free:  # only this model's shapes are swapped for the cheaper ones

        def cheaper(nutpie_own):
            return lambda m: shapes if m is model else nutpie_own(m)

        known = patched(ncp, "_compute_shapes", cheaper)
    with known:
        return ncp._make_functions(
            model,
            mode="NUMBA",
            compute_grad=True,
            join_expanded=True,
            pymc_initial_point_fn=point_fn,
            var_names=var_names,
        )


def build(model, var_names: list[str], entry: Path | None, point_fn=None):
    """Compile ``model`` for nutpie, the way nutpie does; stored in ``entry`` if given.

    ``point_fn``: :func:`initial_points` of the model (made here when not given). Nothing
    goes to the store without an ``entry``, for data the model does not name, or for code
    numba declines to store.
    """
    point_fn = point_fn or initial_points(model)
    shapes = free_shapes(model, point_fn)
    n_dim, n_expanded, logp_pt, expand_pt, _, shape_info, reparameterized = _functions(
        model, var_names, point_fn, shapes
    )
    logp_vars, expand_vars = list(logp_pt.get_shared()), list(expand_pt.get_shared())
    variables = list(dict.fromkeys([*logp_vars, *expand_vars]))
    named = shared_variables(model)
    if any(named.get(v.name) is not v for v in variables):
        entry = None  # data the model does not name cannot be matched up in another process
    layout = Layout(
        n_dim=int(n_dim),
        n_expanded=int(n_expanded),
        names=list(shape_info[0]),
        slices=[(int(s.start), int(s.stop)) for s in shape_info[1]],
        shapes=[tuple(int(d) for d in s) for s in shape_info[2]],
        reparameterized=list(reparameterized),
        shared=[v.name for v in variables],
        shared_ndims=[v.ndim for v in variables],
        shared_dtypes=[np.dtype(v.dtype).str for v in variables],
        logp_args=[variables.index(v) for v in logp_vars],
        expand_args=[variables.index(v) for v in expand_vars],
    )
    var_keys, data, user_data = _user_data(variables, layout)
    callbacks = [
        _callback("logp", layout, graph_function(logp_pt.vm.jit_fn), entry, user_data.dtype),
        _callback("expand", layout, graph_function(expand_pt.vm.jit_fn), entry, user_data.dtype),
    ]
    # numba declines to store code that holds process-specific addresses; then so do we.
    if entry is not None and all(any(entry.glob(f"*-{k}.*.nbi")) for k in ("logp", "expand")):
        layout.write(entry / "meta.json")
    return _assemble(model, layout, callbacks, var_keys, data, user_data, point_fn)
