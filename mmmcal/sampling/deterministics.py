"""A model's deterministics for every posterior draw at once, with nothing to compile.

PyMC evaluates deterministics draw by draw with a function compiled by PyTensor's C backend:
on a machine whose compile directory is empty, that compile costs 4-25 s per model structure
(gcc for each new op), more than sampling. Here the graph of the deterministics is vectorised
over a leading sample axis (PyTensor's dimension-aware ``vectorize_graph``) and run once by
PyTensor's Python linker with only the rewrites a graph needs to run (``minimum_compile``):
numpy does the work on whole arrays, and building the function takes a fraction of a second.

:func:`batched_deterministics` builds that function; the caller falls back to the draw-by-draw
path when it cannot be built (an op without a vectorisation rule) or fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["batched_deterministics", "evaluate_batched", "numpy_mode"]

_SAMPLE = "__sample__"
# Draws per call: bounds the memory of intermediate arrays (elements of all outputs per call).
_ELEMENTS_PER_CALL = 20_000_000


def numpy_mode():
    """A PyTensor mode that runs a graph with numpy: nothing is compiled.

    The Python linker with only the rewrites a graph needs to run (``minimum_compile``:
    dimensioned ops lowered): a graph evaluated once, or over whole arrays, costs
    milliseconds to build, where the default mode's rewrites and C code cost 0.1-5 s a
    graph (more on an empty compile directory).
    """
    from pytensor.compile.mode import Mode
    from pytensor.graph.rewriting.db import RewriteDatabaseQuery

    return Mode(linker="py", optimizer=RewriteDatabaseQuery(include=["minimum_compile"]))


def batched_deterministics(model) -> tuple[Callable, list[str], list[str]]:
    """(function, input names, output names) for ``model``'s deterministics.

    The function takes each input's draws stacked on a new leading axis and returns every
    deterministic with that axis first, then the deterministic's own dimensions in order.
    Shared variables (the model's data) are read when it is called.
    """
    import pytensor
    import pytensor.tensor as pt
    from pytensor.compile.ops import ViewOp
    from pytensor.graph.basic import clone_get_equiv
    from pytensor.graph.fg import FunctionGraph
    from pytensor.graph.traversal import ancestors, graph_inputs
    from pytensor.xtensor import xtensor
    from pytensor.xtensor.vectorization import vectorize_graph

    outputs = list(model.deterministics)
    used = set(ancestors(outputs))
    free = [rv for rv in model.free_RVs if rv in used]
    # A copy of the graph (same data variables) without pm.Deterministic's view ops, which
    # have no vectorisation rule for dimensioned variables.
    memo: dict[Any, Any] = clone_get_equiv(list(graph_inputs(outputs)), outputs, copy_inputs=False)
    graph = FunctionGraph(outputs=[memo[o] for o in outputs], clone=False)
    for node in list(graph.toposort()):
        if isinstance(node.op, ViewOp):
            graph.replace(node.outputs[0], node.inputs[0], import_missing=True)
    inputs = {}
    for rv in free:
        shape = (None, *rv.type.shape)
        if hasattr(rv.type, "dims"):
            dims = (_SAMPLE, *rv.type.dims)
            inputs[memo[rv]] = xtensor(rv.name, dtype=rv.dtype, dims=dims, shape=shape)
        else:
            inputs[memo[rv]] = pt.tensor(rv.name, dtype=rv.dtype, shape=shape)
    plain = any(not hasattr(v.type, "dims") for v in inputs.values())  # tensors need the label
    new_dims = (_SAMPLE,) if plain else ()
    batched = vectorize_graph(list(graph.outputs), replace=inputs, new_tensor_dims=new_dims)
    batched = [
        out.transpose(_SAMPLE, *old.type.dims) if hasattr(out.type, "dims") else out
        for out, old in zip(batched, outputs, strict=True)
    ]
    fn = pytensor.function(
        list(inputs.values()), batched, mode=numpy_mode(), on_unused_input="ignore"
    )
    return fn, [rv.name for rv in free], [o.name for o in outputs]


def evaluate_batched(
    fn: Callable, inputs: Sequence[str], outputs: Sequence[str], posterior, dims: dict, coords: dict
):
    """The deterministics of every draw of ``posterior`` as a Dataset (chain, draw, ...)."""
    import xarray as xr

    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    n = chains * draws
    values = [posterior[name].values.reshape(n, *posterior[name].shape[2:]) for name in inputs]
    first = fn(*(v[:1] for v in values))  # one draw: how many elements a draw makes
    per_draw = max(1, sum(int(np.size(a)) for a in first))
    step = max(1, _ELEMENTS_PER_CALL // per_draw)
    parts = [first, *(fn(*(v[i : i + step] for v in values)) for i in range(1, n, step))]
    data: dict[str, Any] = {}
    for j, name in enumerate(outputs):
        stacked = np.concatenate([np.asarray(p[j]) for p in parts], axis=0)
        shape = stacked.shape[1:]
        names = list(dims.get(name) or [f"{name}_dim_{i}" for i in range(len(shape))])
        data[name] = xr.DataArray(
            stacked.reshape(chains, draws, *shape),
            dims=["chain", "draw", *names],
            coords={d: coords[d] for d in names if d in coords},
        )
    return xr.Dataset(data, coords={"chain": posterior["chain"], "draw": posterior["draw"]})
