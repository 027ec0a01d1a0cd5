"""The store of compiled models on disk: where it is, what is in it, and each entry's layout.

Location: ``$MMMCAL_COMPILE_CACHE``, else ``$XDG_CACHE_HOME/mmmcal/compiled`` (by default
``~/.cache/mmmcal/compiled``); ``MMMCAL_COMPILE_CACHE=off`` turns the store off. Each entry
is a folder named by the model's :func:`~mmmcal.sampling.fingerprint.fingerprint` holding
nutpie's two C callbacks (numba's cache files) and ``meta.json`` (:class:`Layout`); an entry
whose ``meta.json`` exists is complete.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CACHE_ENV",
    "FORMAT",
    "Layout",
    "cache_dir",
    "cache_info",
    "clear_disk_cache",
    "writable_entry",
]

CACHE_ENV = "MMMCAL_COMPILE_CACHE"
FORMAT = 4  # bump when the stored layout or the compiled code changes


def cache_dir() -> Path | None:
    """Where compiled models are stored; None when ``MMMCAL_COMPILE_CACHE=off``."""
    setting = os.environ.get(CACHE_ENV, "").strip()
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mmmcal" / "compiled"


def _entries(where: Path) -> list[Path]:
    """Stored models (complete or not): the store's subfolders named by a fingerprint."""
    return [p for p in where.iterdir() if p.is_dir() and re.fullmatch(r"[0-9a-f]{64}", p.name)]


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


def writable_entry(entry: Path) -> str | None:
    """Create ``entry``; None if files can be written there, else the reason they cannot."""
    try:
        entry.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=entry).close()
    except OSError as err:
        return err.strerror or str(err)
    return None


@dataclass(frozen=True)
class Layout:
    """What a stored model needs besides its callbacks (kept as ``meta.json``).

    ``names``/``slices``/``shapes`` describe nutpie's flat vector of free (transformed)
    variables; ``shared`` names the model's data arrays in the order of nutpie's record of
    pointers, with their ranks and dtypes; ``logp_args``/``expand_args`` index the ones
    each pytensor function takes, in order.
    """

    n_dim: int
    n_expanded: int
    names: list[str]
    slices: list[tuple[int, int]]
    shapes: list[tuple[int, ...]]
    reparameterized: list[str]
    shared: list[str]
    shared_ndims: list[int]
    shared_dtypes: list[str]
    logp_args: list[int]
    expand_args: list[int]

    def shape_info(self):
        """The ``shape_info`` nutpie reads: names, slices into the flat vector, shapes."""
        return self.names, [slice(a, b) for a, b in self.slices], self.shapes

    @classmethod
    def read(cls, path: Path) -> Layout:
        raw = json.loads(path.read_text())
        for key in ("slices", "shapes"):
            raw[key] = [tuple(s) for s in raw[key]]
        return cls(**raw)

    def write(self, path: Path) -> None:
        """Atomically: an entry whose ``meta.json`` exists is complete."""
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(self)))
        os.replace(tmp, path)
