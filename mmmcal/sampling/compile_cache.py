"""nutpie's numba build of a PyMC model, compiled once per machine and kept on disk.

Compiling the reference calibrated model takes ~11-14 s here (nutpie's own build: 30-40 s, see
:func:`_graph_function` and :func:`_graph_built_once`); sampling it takes ~4 s. A fresh
Python process (a re-run notebook, the command line, a Dask worker) would pay that again,
because pytensor's own numba cache misses: its rewrites do not give the same graph twice.
This module keys the compiled log density and its gradient on the model's *structure* before
any rewrite — a fingerprint of its random-variable graph, transforms, data names and types,
and the versions of every library that takes part — and stores nutpie's two C callbacks with
numba's cache machinery under that key. A later process with a model of the same structure
loads them in well under a second and only supplies its own data.

Location: ``$MMMCAL_COMPILE_CACHE``, else ``$XDG_CACHE_HOME/mmmcal/compiled`` (by default
``~/.cache/mmmcal/compiled``); ``MMMCAL_COMPILE_CACHE=off`` turns the store off. A model part
that cannot be fingerprinted reliably (an op whose description holds a memory address) is
compiled as before and not stored.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
import warnings
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import wraps
from importlib.metadata import version
from pathlib import Path
from types import CodeType
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np

__all__ = [
    "cache_dir",
    "cache_info",
    "clear_disk_cache",
    "compile_nutpie",
    "fingerprint",
    "shared_variables",
]

CACHE_ENV = "MMMCAL_COMPILE_CACHE"
# Libraries whose versions decide what a compiled model computes.
_VERSIONED = (
    "mmmcal",
    "numba",
    "llvmlite",
    "numpy",
    "pytensor",
    "pymc",
    "pymc-marketing",
    "nutpie",
)
_FORMAT = 3  # bump when the stored layout or the compiled code changes

# nutpie's C callbacks (its ``_make_c_logp_func`` and ``_make_c_expand_func``), written out so
# that no compile-time data is captured and numba can store them. ``{arrays}`` unpacks the data
# arrays from nutpie's record of pointers and ``{args}`` passes them on. As in nutpie, the
# unpacking sits outside the ``try`` block: numba splits a ``try`` body into a block per call,
# and its SSA and lowering passes over the ~400 blocks that the unpacking makes there cost
# ~10 s on the reference model.
_LOGP_SRC = """
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

_EXPAND_SRC = """
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


def _graph_function(jit_fn):
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


def cache_dir() -> Path | None:
    """Where compiled models are stored; None when ``MMMCAL_COMPILE_CACHE=off``."""
    setting = os.environ.get(CACHE_ENV, "").strip()
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mmmcal" / "compiled"


def cache_info() -> dict[str, Any]:
    """Location, number of stored models and their size on disk (MB)."""
    where = cache_dir()
    if where is None or not where.is_dir():
        return {"path": None if where is None else str(where), "models": 0, "size_mb": 0.0}
    entries = _entries(where)
    size = sum(p.stat().st_size for e in entries for p in e.iterdir() if p.is_file())
    return {
        "path": str(where),
        "models": sum((e / "meta.json").exists() for e in entries),
        "size_mb": round(size / 2**20, 1),
    }


def _entries(where: Path) -> list[Path]:
    """Stored models (complete or not): the store's subfolders named by a fingerprint."""
    return [p for p in where.iterdir() if p.is_dir() and re.fullmatch(r"[0-9a-f]{64}", p.name)]


def clear_disk_cache() -> int:
    """Delete every stored model (nothing else in the folder); returns how many there were."""
    where = cache_dir()
    if where is None or not where.is_dir():
        return 0
    entries = _entries(where)
    complete = sum((e / "meta.json").exists() for e in entries)
    for entry in entries:
        shutil.rmtree(entry, ignore_errors=True)
    return complete


# ------------------------------------------------------------------ fingerprint
class _Unhashable(Exception):
    """A graph part has no description that is stable across processes."""


def _token(obj: Any) -> str:
    """A process-independent description of an op property, constant or type."""
    from pytensor.graph.basic import Variable
    from pytensor.graph.op import HasInnerGraph, Op

    if obj is None or isinstance(obj, bool | int | float | complex | str):
        return repr(obj)
    if isinstance(obj, np.ndarray | np.generic):
        arr = np.ascontiguousarray(obj)
        digest = hashlib.sha256(arr.tobytes()).hexdigest()[:32] if arr.dtype != object else None
        if digest is None:
            raise _Unhashable("object array")
        return f"array[{arr.dtype.str}{arr.shape}:{digest}]"
    if isinstance(obj, np.dtype):
        return obj.str
    if isinstance(obj, tuple | list):
        return "(" + ",".join(_token(o) for o in obj) + ")"
    if isinstance(obj, dict):
        return "{" + ",".join(sorted(f"{_token(k)}:{_token(v)}" for k, v in obj.items())) + "}"
    if isinstance(obj, set | frozenset):
        return "{" + ",".join(sorted(_token(o) for o in obj)) + "}"
    if isinstance(obj, slice):
        return f"slice({_token(obj.start)},{_token(obj.stop)},{_token(obj.step)})"
    name = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if isinstance(obj, type):
        return f"<{obj.__module__}.{obj.__qualname__}>"
    if isinstance(obj, CodeType):  # bytecode and constants
        digest = hashlib.sha256(obj.co_code).hexdigest()[:16]
        return f"code:{digest}{_token(obj.co_consts)}"
    if hasattr(obj, "__code__"):  # a Python function: its code and what it closes over
        cells = [c.cell_contents for c in obj.__closure__ or ()]
        return f"<{obj.__module__}.{obj.__qualname__}:{_token(obj.__code__)}{_token(cells)}>"
    if isinstance(obj, Op):
        props = getattr(obj, "__props__", None)
        if props is not None:
            return name + "{" + ",".join(f"{p}={_token(getattr(obj, p))}" for p in props) + "}"
        if isinstance(obj, HasInnerGraph):
            return name + _graph_token(obj.inner_inputs, obj.inner_outputs)
        return name + _token(vars(obj))  # e.g. scalar ops: their attributes are their identity
    if isinstance(obj, Variable):
        return _graph_token([], [obj])
    text = repr(obj)
    if " at 0x" not in text:
        return f"{name}:{text}"
    if hasattr(obj, "__dict__"):  # e.g. a transform: its class and attributes
        return name + _token(vars(obj))
    raise _Unhashable(name)


def _root_token(var) -> str:
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant

    if isinstance(var, Constant):
        return f"const:{var.type}:{_token(var.data)}"
    if isinstance(var, SharedVariable):
        return f"shared:{var.name}:{var.type}"
    return f"input:{var.name}:{var.type}"


def _graph_token(inputs, outputs) -> str:
    """Every node from ``outputs`` back to the roots, in a fixed depth-first order."""
    index: dict[Any, str] = {v: f"in{i}" for i, v in enumerate(inputs)}
    lines: list[str] = []
    for out in outputs:
        stack = [out]
        while stack:
            var = stack[-1]
            if var in index:
                stack.pop()
                continue
            node = var.owner
            if node is None:
                stack.pop()
                index[var] = f"r{len(lines)}"
                lines.append(_root_token(var))
                continue
            pending = [v for v in node.inputs if v not in index]
            if pending:
                stack.extend(reversed(pending))
                continue
            stack.pop()
            at = len(lines)
            args = ",".join(index[v] for v in node.inputs)
            lines.append(f"{_token(node.op)}({args})->{len(node.outputs)}")
            for k, o in enumerate(node.outputs):
                index[o] = f"n{at}.{k}"
    return "[" + ";".join(lines) + "|" + ",".join(index[o] for o in outputs) + "]"


def fingerprint(model, var_names: list[str]) -> str | None:
    """A key for everything a compiled model depends on except its data values.

    The random-variable graph of every free and observed variable, deterministic and
    potential (ops, constants by value, data by name and type), each free variable's
    transform, the traced ``var_names``, and the versions of the libraries that compile it.
    None when some part has no stable description (then nothing is stored).
    """
    import numba.core.config
    import pytensor

    rvs = [*model.free_RVs, *model.observed_RVs]
    outputs = [*rvs, *(model.rvs_to_values[rv] for rv in rvs)]
    outputs += [*model.deterministics, *model.potentials]
    try:
        parts = [
            _graph_token([], outputs),
            [_token(model.rvs_to_transforms.get(rv)) for rv in model.free_RVs],
            [rv.name for rv in rvs],
            [v.name for v in outputs[len(rvs) * 2 :]],
        ]
    except _Unhashable:
        return None
    parts += [
        sorted(var_names),
        bool(model.check_bounds),
        {lib: version(lib) for lib in _VERSIONED},
        [sys.version, platform.machine(), _FORMAT],
        [pytensor.config.floatX, bool(pytensor.config.numba__fastmath)],
        int(numba.core.config.OPT),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


# ------------------------------------------------------------------ numba store
_STORED: WeakKeyDictionary = WeakKeyDictionary()  # py_func -> (directory, key)
_LOCATOR_LOCK = threading.Lock()
_PATCH_LOCK = threading.RLock()  # guards patches of numba's and nutpie's internals


def _register_locator() -> None:
    """Point numba's cache at :func:`cache_dir` for the callbacks made here."""
    from numba.core.caching import CacheImpl, _CacheLocator

    with _LOCATOR_LOCK:
        if any(getattr(c, "_mmmcal", False) for c in CacheImpl._locator_classes):
            return

        class _StoreLocator(_CacheLocator):
            _mmmcal = True

            def __init__(self, py_func, py_file, directory, key):
                self._py_func, self._py_file = py_func, py_file
                self._directory, self._key = directory, key

            def ensure_cache_path(self):
                Path(self._directory).mkdir(parents=True, exist_ok=True)

            def get_cache_path(self):
                return str(self._directory)

            def get_source_stamp(self):
                return _FORMAT

            def get_disambiguator(self):
                return self._key

            @classmethod
            def from_function(cls, py_func, py_file):
                found = _STORED.get(py_func)
                return None if found is None else cls(py_func, py_file, *found)

        CacheImpl._locator_classes.insert(0, _StoreLocator)


@dataclass(frozen=True)
class _Layout:
    """What a stored model needs besides its callbacks (kept as ``meta.json``).

    ``shared`` names the model's data arrays in the order of nutpie's record of pointers;
    ``logp_args``/``expand_args`` index the ones each pytensor function takes, in order.
    """

    n_dim: int
    n_expanded: int
    names: list[str]
    slices: list[tuple[int, int]]
    shapes: list[tuple[int, ...]]
    reparameterized: list[str]
    shared: list[str | None]
    shared_ndims: list[int]
    shared_dtypes: list[str]
    logp_args: list[int]
    expand_args: list[int]

    def shape_info(self):
        return self.names, [slice(a, b) for a, b in self.slices], self.shapes

    @classmethod
    def read(cls, path: Path) -> _Layout:
        raw = json.loads(path.read_text())
        raw["slices"] = [tuple(s) for s in raw["slices"]]
        raw["shapes"] = [tuple(s) for s in raw["shapes"]]
        return cls(**raw)

    def write(self, path: Path) -> None:
        """Atomically: an entry whose ``meta.json`` exists is complete."""
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.__dict__))
        os.replace(tmp, path)


def _callback(kind: str, layout: _Layout, inner, directory: Path | None, record_dtype):
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
    src = (_LOGP_SRC if kind == "logp" else _EXPAND_SRC).format(arrays=arrays, args=args)
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
        _register_locator()
        _STORED[py_func] = (directory, kind)
        cfunc.enable_caching()
    if inner is None:  # load only: read the stored code once, as CFunc.compile does on a hit
        if directory is None:
            return None
        cres = cfunc._cache.load_overload(cfunc._sig, cfunc._targetdescr.target_context)
        if cres is None:
            return None
        cfunc._library = cres.library
        cfunc._wrapper_name = cres.fndesc.llvm_cfunc_wrapper_name
        cfunc._wrapper_address = cres.library.get_pointer_to_function(cfunc._wrapper_name)
        return cfunc
    with warnings.catch_warnings():
        # Code holding process-specific addresses is not stored; _compile notices.
        warnings.filterwarnings("ignore", "Cannot cache compiled function", numba.NumbaWarning)
        with _graph_built_once(py_func.__name__, inner.py_func.__qualname__):
            cfunc.compile()
    return cfunc


@contextmanager
def _patched(owner, name: str, value):
    """``owner.<name>`` is ``value`` while the block runs; one such patch at a time."""
    with _PATCH_LOCK:
        original = getattr(owner, name)
        setattr(owner, name, value)
        try:
            yield
        finally:
            setattr(owner, name, original)


@contextmanager
def _graph_built_once(callback_name: str, graph_name: str):
    """Optimise the graph's code once, and emit fast machine code only where it runs.

    numba builds the graph function as a library of its own (optimised, then emitted as
    machine code) and links it into the callback's library, which is optimised and emitted
    again; the callback's library is what nutpie calls, and what the store keeps. So while
    the callback compiles:

    - the callback's final module gets only numba's first, cheap module pass (inlining what
      must be inlined and pruning reference counts): the graph it calls was fully optimised in
      its own library (~2.5 s of the reference model's compilation);
    - the graph's own library is emitted by an LLVM target machine at ``-O0`` (fast
      instruction selection and register allocation) from a copy of its optimised IR, and
      handed to numba's JIT engine as a ready object, as numba does with cached code: ~0.3 s
      instead of ~1.7 s. In this process the callback's calls resolve to that code (35.5 us a
      gradient on the reference model, against 34.4 us at ``-O3``). The callback itself keeps
      numba's ``-O3`` code generator: a process that loads it from the store runs its own
      copy of everything, and at ``-O0`` that copy costs twice as much a gradient (measured).
    """
    from numba.core.codegen import CPUCodeLibrary

    full = CPUCodeLibrary._optimize_final_module
    finalize = CPUCodeLibrary._finalize_final_module

    def optimise(library):
        if library.name != callback_name:
            return full(library)
        codegen = library._codegen
        passes, builder = codegen._module_pass_manager(
            loop_vectorize=codegen._loopvect,
            slp_vectorize=False,
            opt=codegen._opt_level,
            cost="cheap",
        )
        passes.run(library._final_module, builder)

    def finalise(library):
        if library.name != graph_name or not library._object_caching_enabled:
            return finalize(library)
        # A copy: emitting runs code-generation passes on the IR, which the callback links in.
        code = _unoptimising_target(library._codegen).emit_object(library._final_module.clone())
        library._set_compiled_object(code)
        finalize(library)  # the engine loads ``code`` instead of compiling the module
        library._compiled, library._compiled_object = True, code

    with (
        _patched(CPUCodeLibrary, "_optimize_final_module", optimise),
        _patched(CPUCodeLibrary, "_finalize_final_module", finalise),
    ):
        yield


_UNOPTIMISING: WeakKeyDictionary = WeakKeyDictionary()  # numba codegen -> target machine


def _unoptimising_target(codegen):
    """An LLVM target machine like ``codegen``'s own but at ``-O0`` (fast instruction selection)."""
    import llvmlite.binding as ll

    machine = _UNOPTIMISING.get(codegen)
    if machine is None:
        options: dict[str, Any] = {"opt": 0}
        codegen._customize_tm_options(options)
        machine = ll.Target.from_triple(ll.get_process_triple()).create_target_machine(**options)
        _UNOPTIMISING[codegen] = machine
    return machine


def shared_variables(model) -> dict[str, Any]:
    """The model's data and mutable dimension lengths (shared variables), by name."""
    shared = {v.name: v for v in model.data_vars}
    shared.update({k: v for k, v in model.dim_lengths.items() if hasattr(v, "get_value")})
    return shared


def _user_data(variables: list, layout: _Layout):
    """The record of data pointers nutpie passes, keyed ``s0, s1, ...`` in the layout's order."""
    from nutpie.compile_pymc import make_user_data

    var_keys = {var: f"s{i}" for i, var in enumerate(variables)}
    data = {}
    for (var, key), dtype in zip(var_keys.items(), layout.shared_dtypes, strict=True):
        value = np.array(var.get_value(), dtype=dtype, order="C", copy=True)
        value.flags.writeable = False
        data[key] = value
    return var_keys, data, make_user_data(var_keys, data)


def _initial_point_fn(model, layout: _Layout):
    """Initial points as nutpie makes them: support points jittered, as a flat array."""
    from nutpie.compile_pymc import _rv_dict_to_flat_array_wrapper
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

    n_free = len(model.free_RVs)
    return _rv_dict_to_flat_array_wrapper(
        locked, names=layout.names[:n_free], shapes=layout.shapes[:n_free]
    )


def _assemble(model, layout: _Layout, callbacks, var_keys, data, user_data):
    from nutpie.compile_pymc import CompiledPyMCModel, _prepare_dims_and_coords

    dims, coords = _prepare_dims_and_coords(model, layout.shape_info(), layout.reparameterized)
    return CompiledPyMCModel(
        _n_dim=layout.n_dim,
        dims=dims,
        _coords=coords,
        _shapes={n: tuple(s) for n, s in zip(layout.names, layout.shapes, strict=True)},
        compiled_logp_func=callbacks[0],
        compiled_expand_func=callbacks[1],
        initial_point_func=_initial_point_fn(model, layout),
        shared_data=data,
        shared_var_keys=var_keys,
        user_data=user_data,
        n_expanded=layout.n_expanded,
        shape_info=layout.shape_info(),
        logp_func=None,
        expand_func=None,
        reparameterized_names=layout.reparameterized,
    )


def _load(model, entry: Path):
    if not (entry / "meta.json").exists():
        return None
    layout = _Layout.read(entry / "meta.json")
    shared = shared_variables(model)
    variables = [shared.get(n) for n in layout.shared]
    if any(v is None or v.ndim != nd for v, nd in zip(variables, layout.shared_ndims, strict=True)):
        return None
    var_keys, data, user_data = _user_data(variables, layout)
    callbacks = [_callback(k, layout, None, entry, user_data.dtype) for k in ("logp", "expand")]
    if None in callbacks:
        return None
    return _assemble(model, layout, callbacks, var_keys, data, user_data)


def _free_shapes(model, point_fn) -> dict[str, tuple[int, ...]]:
    """Shapes of the free variables, by value-variable and variable name.

    What nutpie's ``_make_functions`` reads when only free variables are traced. nutpie's
    ``_compute_shapes`` also compiles the shape of every deterministic: ~0.6 s of a first
    compile of the reference model, against ~0.1 s here.
    """
    import pytensor
    import pytensor.tensor as pt

    point = point_fn(0)
    shapes = {name: tuple(int(d) for d in np.shape(value)) for name, value in point.items()}
    missing = [rv for rv in model.free_RVs if rv.name not in shapes]
    if missing:
        values = [model.rvs_to_values[rv] for rv in model.free_RVs]
        shape_fn = pytensor.function(
            [],
            [pt.as_tensor(rv.shape) for rv in missing],
            givens=[(value, point[value.name]) for value in values],
            mode="FAST_COMPILE",
            on_unused_input="ignore",
        )
        for rv, shape in zip(missing, shape_fn(), strict=True):
            shapes[rv.name] = tuple(int(d) for d in shape)
    return shapes


def _compile(model, var_names: list[str], entry: Path | None):
    """Compile as nutpie does (numba); the callbacks and layout are stored in ``entry`` if given."""
    import nutpie.compile_pymc as ncp
    from pymc.initial_point import make_initial_point_fn

    point_fn = make_initial_point_fn(model=model, return_transformed=True)
    free = {rv.name for rv in model.free_RVs}
    shapes = _free_shapes(model, point_fn) if set(var_names) <= free else None
    # nutpie's own _compute_shapes also compiles every deterministic's shape.
    known = nullcontext() if shapes is None else _patched(ncp, "_compute_shapes", lambda _: shapes)
    with known:
        n_dim, n_expanded, logp_pt, expand_pt, _, shape_info, reparameterized = ncp._make_functions(
            model,
            mode="NUMBA",
            compute_grad=True,
            join_expanded=True,
            pymc_initial_point_fn=point_fn,
            var_names=var_names,
        )
    logp_vars, expand_vars = list(logp_pt.get_shared()), list(expand_pt.get_shared())
    variables = list(dict.fromkeys([*logp_vars, *expand_vars]))
    named = shared_variables(model)
    if any(named.get(v.name) is not v for v in variables):
        entry = None  # data the model does not name cannot be matched up in another process
    layout = _Layout(
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
        _callback("logp", layout, _graph_function(logp_pt.vm.jit_fn), entry, user_data.dtype),
        _callback("expand", layout, _graph_function(expand_pt.vm.jit_fn), entry, user_data.dtype),
    ]
    # numba declines to store code that holds process-specific addresses; then so do we.
    if entry is not None and all(any(entry.glob(f"*-{k}.*.nbi")) for k in ("logp", "expand")):
        _Layout.write(layout, entry / "meta.json")
    return _assemble(model, layout, callbacks, var_keys, data, user_data)


def compile_nutpie(model, var_names: list[str], *, store: bool = True):
    """The compiled model nutpie samples (what ``nutpie.compile_pymc_model`` gives).

    With ``store``, a model of the same :func:`fingerprint` compiled earlier on this machine
    is loaded from :func:`cache_dir` instead, and a new one is stored there.
    Returns (compiled model, loaded from disk).
    """
    directory = cache_dir() if store else None
    key = fingerprint(model, var_names) if directory is not None else None
    entry = None if key is None else directory / key
    if entry is not None:
        try:
            loaded = _load(model, entry)
        except Exception as err:  # a damaged entry: compile and store it again
            warnings.warn(
                f"The stored compiled model {entry} could not be read ({err!r}); compiling "
                "it again.",
                stacklevel=2,
            )
            shutil.rmtree(entry, ignore_errors=True)
            loaded = None
        if loaded is not None:
            return loaded, True
        try:
            entry.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=entry).close()
        except OSError as err:
            warnings.warn(
                f"Cannot write compiled models to {directory} ({err.strerror}); compiling "
                f"without storing. Set {CACHE_ENV} to a writable folder, or to 'off'.",
                stacklevel=2,
            )
            entry = None
    return _compile(model, var_names, entry), False
