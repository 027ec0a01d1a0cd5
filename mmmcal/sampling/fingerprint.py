"""A key for everything a compiled model depends on except its data.

pytensor's own numba cache misses across processes (its rewrites do not give the same graph
twice), so the store of compiled models keys on the model's *structure* before any rewrite:
its random-variable graph (ops, constants by value, data by name and type), the length of
every dimension, the shape of every free variable, transforms, traced variables and the
versions of every library that takes part. Two models with the same fingerprint compile to
the same code for the same parameter vector; only their data (values, and lengths along
dimensions that nothing is sized by, such as the dates) differ.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from importlib.metadata import version
from types import CodeType
from typing import Any

import numpy as np

from mmmcal.sampling.store import FORMAT

__all__ = ["VERSIONED", "fingerprint", "free_shapes", "shared_variables", "token"]

# Libraries whose versions decide what a compiled model computes.
VERSIONED = (
    "mmmcal",
    "numba",
    "llvmlite",
    "numpy",
    "pytensor",
    "pymc",
    "pymc-marketing",
    "nutpie",
)


class Unhashable(Exception):
    """A graph part has no description that is stable across processes."""


def shared_variables(model) -> dict[str, Any]:
    """The model's data and mutable dimension lengths (shared variables), by name."""
    shared = {v.name: v for v in model.data_vars}
    shared.update({k: v for k, v in model.dim_lengths.items() if hasattr(v, "get_value")})
    return shared


def token(obj: Any) -> str:
    """A process-independent description of an op property, constant or type.

    Raises :class:`Unhashable` for an object whose only description holds a memory address.
    """
    from pytensor.graph.basic import Variable
    from pytensor.graph.op import HasInnerGraph, Op

    if obj is None or isinstance(obj, bool | int | float | complex | str):
        return repr(obj)
    if isinstance(obj, np.ndarray | np.generic):
        arr = np.ascontiguousarray(obj)
        if arr.dtype == object:
            raise Unhashable("object array")
        digest = hashlib.sha256(arr.tobytes()).hexdigest()[:32]
        return f"array[{arr.dtype.str}{arr.shape}:{digest}]"
    if isinstance(obj, np.dtype):
        return obj.str
    if isinstance(obj, tuple | list):
        return "(" + ",".join(token(o) for o in obj) + ")"
    if isinstance(obj, dict):
        return "{" + ",".join(sorted(f"{token(k)}:{token(v)}" for k, v in obj.items())) + "}"
    if isinstance(obj, set | frozenset):
        return "{" + ",".join(sorted(token(o) for o in obj)) + "}"
    if isinstance(obj, slice):
        return f"slice({token(obj.start)},{token(obj.stop)},{token(obj.step)})"
    name = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if isinstance(obj, type):
        return f"<{obj.__module__}.{obj.__qualname__}>"
    if isinstance(obj, CodeType):  # bytecode and constants
        digest = hashlib.sha256(obj.co_code).hexdigest()[:16]
        return f"code:{digest}{token(obj.co_consts)}"
    if hasattr(obj, "__code__"):  # a Python function: its code and what it closes over
        cells = [c.cell_contents for c in obj.__closure__ or ()]
        return f"<{obj.__module__}.{obj.__qualname__}:{token(obj.__code__)}{token(cells)}>"
    if isinstance(obj, Op):
        props = getattr(obj, "__props__", None)
        if props is not None:
            return name + "{" + ",".join(f"{p}={token(getattr(obj, p))}" for p in props) + "}"
        if isinstance(obj, HasInnerGraph):
            return name + graph_token(obj.inner_inputs, obj.inner_outputs)
        return name + token(vars(obj))  # e.g. scalar ops: their attributes are their identity
    if isinstance(obj, Variable):
        return graph_token([], [obj])
    text = repr(obj)
    if " at 0x" not in text:
        return f"{name}:{text}"
    if hasattr(obj, "__dict__"):  # e.g. a transform: its class and attributes
        return name + token(vars(obj))
    raise Unhashable(name)


def _root_token(var, sizes: dict) -> str:
    """Constants by value; data by name and type; dimension lengths by value."""
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant

    if isinstance(var, Constant):
        return f"const:{var.type}:{token(var.data)}"
    if isinstance(var, SharedVariable):
        size = f"={int(var.get_value())}" if var in sizes else ""
        return f"shared:{var.name}:{var.type}{size}"
    return f"input:{var.name}:{var.type}"


def graph_token(inputs, outputs, sizes: dict | None = None) -> str:
    """Every node from ``outputs`` back to the roots, in a fixed depth-first order.

    ``sizes`` holds the shared variables that are dimension lengths (their values count).
    """
    sizes = sizes or {}
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
                lines.append(_root_token(var, sizes))
                continue
            pending = [v for v in node.inputs if v not in index]
            if pending:
                stack.extend(reversed(pending))
                continue
            stack.pop()
            at = len(lines)
            args = ",".join(index[v] for v in node.inputs)
            lines.append(f"{token(node.op)}({args})->{len(node.outputs)}")
            for k, o in enumerate(node.outputs):
                index[o] = f"n{at}.{k}"
    return "[" + ";".join(lines) + "|" + ",".join(index[o] for o in outputs) + "]"


def free_shapes(model, point_fn) -> dict[str, tuple[int, ...]]:
    """Shapes of the free variables, by value-variable and variable name.

    ``point_fn`` is pymc's initial-point function (transformed values). This is also what
    nutpie's ``_make_functions`` reads when only free variables are traced; nutpie's
    ``_compute_shapes`` also compiles the shape of every deterministic (~0.6 s of a first
    compile of the reference model, against ~0.1 s here).
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


def fingerprint(model, var_names: list[str], point_fn=None) -> str | None:
    """A key for everything a compiled model depends on except its data.

    The random-variable graph of every free and observed variable, deterministic and
    potential (ops, constants by value, data by name and type, dimension lengths by value),
    each free variable's transform and the shape of its (transformed) value at an initial
    point of ``point_fn`` (pymc's, made here when not given), the traced ``var_names``, and
    the versions of the libraries that compile it. None when some part has no stable
    description (then nothing is stored).
    """
    import numba.core.config
    import pytensor
    from pymc.initial_point import make_initial_point_fn

    point_fn = point_fn or make_initial_point_fn(model=model, return_transformed=True)
    shapes = {name: np.shape(value) for name, value in point_fn(0).items()}

    rvs = [*model.free_RVs, *model.observed_RVs]
    outputs = [*rvs, *(model.rvs_to_values[rv] for rv in rvs)]
    outputs += [*model.deterministics, *model.potentials]
    shared = shared_variables(model)
    sizes = {v: None for v in model.dim_lengths.values() if hasattr(v, "get_value")}
    try:
        parts: list[Any] = [
            graph_token([], outputs, sizes),
            [token(model.rvs_to_transforms.get(rv)) for rv in model.free_RVs],
            [rv.name for rv in rvs],
            [v.name for v in outputs[len(rvs) * 2 :]],
        ]
    except Unhashable:
        return None
    parts += [
        sorted(shapes.items()),
        sorted((k, int(v.get_value())) for k, v in shared.items() if v in sizes),
        sorted(var_names),
        bool(model.check_bounds),
        {lib: version(lib) for lib in VERSIONED},
        [sys.version, platform.machine(), FORMAT],
        [pytensor.config.floatX, bool(pytensor.config.numba__fastmath)],
        int(numba.core.config.OPT),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()
