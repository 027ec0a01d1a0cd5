"""Temporary patches of numba's code generation and cache, for mmmcal's compile path only.

Each patch reaches into private numba internals, so this module:

- runs only on the numba, llvmlite, nutpie and pytensor minor versions it was tested on
  (:data:`TESTED`, checked at import: :data:`SUPPORTED`, :data:`UNSUPPORTED_REASON`); on any
  other version :mod:`mmmcal.sampling.compile` takes nutpie's public build instead;
- applies each patch only inside a ``with`` block, restores it on the way out, and holds
  numba's global compiler lock (plus a lock of its own) meanwhile, so no other thread's
  numba compilation runs while a patch is in place; each patched function also checks the
  library it is given and leaves every other library to numba's own code.

What the patches do (measured on the reference calibrated model; README "Performance"):
:func:`graph_built_once` optimises the graph's code once and emits machine code at ``-O0``
only where it never runs from the store (compile ~14 s -> ~11 s); :func:`store_locator`
points numba's cache at the store for mmmcal's two callbacks; :func:`load_cfunc` reads a
stored callback as numba does on a cache hit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from mmmcal.sampling.store import FORMAT

__all__ = [
    "SUPPORTED",
    "TESTED",
    "UNSUPPORTED_REASON",
    "graph_built_once",
    "load_cfunc",
    "patched",
    "store_locator",
]

# Minor versions the private code paths were tested on (pyproject bounds each below the next).
TESTED = {"numba": "0.66", "llvmlite": "0.48", "nutpie": "0.16", "pytensor": "2.38"}


def _unsupported() -> str | None:
    """Why the installed libraries are outside :data:`TESTED`, or None."""
    found = {lib: version(lib) for lib in TESTED}
    off = {lib: v for lib, v in found.items() if ".".join(v.split(".")[:2]) != TESTED[lib]}
    if not off:
        return None
    tested = ", ".join(f"{lib} {v}.x" for lib, v in TESTED.items())
    return f"installed {', '.join(f'{k} {v}' for k, v in off.items())}; tested with {tested}"


UNSUPPORTED_REASON = _unsupported()
SUPPORTED = UNSUPPORTED_REASON is None

_LOCK = threading.RLock()  # one patch window at a time in this process


@contextmanager
def _exclusive() -> Iterator[None]:
    """Hold the lock of these patches and numba's global compiler lock, in that order."""
    from numba.core.compiler_lock import global_compiler_lock

    with _LOCK, global_compiler_lock:
        yield


@contextmanager
def patched(owner: Any, name: str, make) -> Iterator[None]:
    """``owner.<name>`` is ``make(original)`` while the block runs, then the original again."""
    with _exclusive():
        original = getattr(owner, name)
        setattr(owner, name, make(original))
        try:
            yield
        finally:
            setattr(owner, name, original)


@contextmanager
def graph_built_once(callback_name: str, graph_name: str) -> Iterator[None]:
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

    Libraries of any other name go through numba's own code unchanged.
    """
    from numba.core.codegen import CPUCodeLibrary

    def cheap_pass(full):
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

        return optimise

    def unoptimised_object(finalize):
        def finalise(library):
            if library.name != graph_name or not library._object_caching_enabled:
                return finalize(library)
            # A copy: emitting runs code-generation passes on the IR the callback links in.
            code = _unoptimising_target(library._codegen).emit_object(library._final_module.clone())
            library._set_compiled_object(code)
            finalize(library)  # the engine loads ``code`` instead of compiling the module
            library._compiled, library._compiled_object = True, code

        return finalise

    with (
        patched(CPUCodeLibrary, "_optimize_final_module", cheap_pass),
        patched(CPUCodeLibrary, "_finalize_final_module", unoptimised_object),
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


@contextmanager
def store_locator(py_func, directory: Path, key: str) -> Iterator[None]:
    """While the block runs, numba's cache of ``py_func`` lives in ``directory`` under ``key``.

    numba picks a cache location when caching is enabled (``CFunc.enable_caching``), asking
    each locator class in turn; one answering only for ``py_func`` is put first for the block.
    """
    from numba.core.caching import CacheImpl, _CacheLocator

    class StoreLocator(_CacheLocator):
        def __init__(self, py_func, py_file):
            self._py_func, self._py_file = py_func, py_file

        def ensure_cache_path(self):
            directory.mkdir(parents=True, exist_ok=True)

        def get_cache_path(self):
            return str(directory)

        def get_source_stamp(self):
            return FORMAT

        def get_disambiguator(self):
            return key

        @classmethod
        def from_function(cls, func, py_file):
            return cls(func, py_file) if func is py_func else None

    with _exclusive():
        CacheImpl._locator_classes.insert(0, StoreLocator)
        try:
            yield
        finally:
            CacheImpl._locator_classes.remove(StoreLocator)


def load_cfunc(cfunc) -> bool:
    """Read ``cfunc``'s stored machine code as ``CFunc.compile`` does on a cache hit.

    Returns False when nothing is stored for its signature.
    """
    cres = cfunc._cache.load_overload(cfunc._sig, cfunc._targetdescr.target_context)
    if cres is None:
        return False
    cfunc._library = cres.library
    cfunc._wrapper_name = cres.fndesc.llvm_cfunc_wrapper_name
    cfunc._wrapper_address = cres.library.get_pointer_to_function(cfunc._wrapper_name)
    return True
