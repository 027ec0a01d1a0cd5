"""Fit directories: the files every engine writes, written all at once.

A fit directory holds ``fit.json`` (``engine``, ``name`` and the engine's own metadata),
``spec.yaml``, ``lift.csv`` when the fit is calibrated, and the engine's model file
(``model.nc``, ArviZ ``InferenceData``). :func:`write_fit_dir` writes into a temporary
sibling folder and swaps it in: the directory then holds the files of one fit only, and a
save that fails part-way leaves the previous fit as it was. It replaces only a fit directory
(one with ``fit.json``) or an empty folder.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mmmcal.lift.table import read_lift_table
from mmmcal.models.spec import ModelSpec

__all__ = [
    "FIT_FILE",
    "MODEL_FILE",
    "FitDir",
    "check_fit_dir_target",
    "fit_dir_engine",
    "read_fit_dir",
    "write_fit_dir",
]

FIT_FILE = "fit.json"
MODEL_FILE = "model.nc"
SPEC_FILE = "spec.yaml"
LIFT_FILE = "lift.csv"


@dataclass(frozen=True)
class FitDir:
    """What a fit directory holds besides the engine's model file.

    ``meta``: the engine's own entries of ``fit.json`` (without ``engine`` and ``name``).
    """

    path: Path
    engine: str
    name: str
    meta: dict[str, Any]
    spec: ModelSpec
    lift: pd.DataFrame | None

    @property
    def model_file(self) -> Path:
        return self.path / MODEL_FILE


def check_fit_dir_target(out_dir: str | Path) -> Path:
    """``out_dir`` as a path, or ``ValueError`` if saving a fit there would replace other files.

    A missing path, an empty folder and a fit directory are fine.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file, not a fit directory; choose another output folder.")
    if out.is_dir() and not (out / FIT_FILE).exists() and any(out.iterdir()):
        raise ValueError(
            f"{out} is not empty and is not a fit directory (it has no {FIT_FILE}); a fit "
            "replaces only a fit directory: choose another output folder or empty this one."
        )
    return out


def write_fit_dir(
    out_dir: str | Path,
    *,
    engine: str,
    name: str,
    spec: ModelSpec,
    lift: pd.DataFrame | None,
    meta: dict[str, Any],
    write_model: Callable[[Path], None],
) -> Path:
    """Write a fit directory in one swap; returns its path.

    ``write_model(path)`` writes the engine's model file at ``path``; ``meta`` joins ``engine``
    and ``name`` in ``fit.json``. Raises ``ValueError`` where ``out_dir`` is neither a fit
    directory nor empty (:func:`check_fit_dir_target`).
    """
    out = check_fit_dir_target(out_dir).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    staging = out.with_name(f".{out.name}.{tag}.saving")
    staging.mkdir()
    try:
        write_model(staging / MODEL_FILE)
        (staging / SPEC_FILE).write_text(spec.to_yaml())
        if lift is not None:
            lift.to_csv(staging / LIFT_FILE, index=False)
        doc = {"engine": engine, "name": name, **meta}
        (staging / FIT_FILE).write_text(json.dumps(doc, indent=2) + "\n")
        _swap_in(staging, out, tag)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Path(out_dir)


def _swap_in(staging: Path, out: Path, tag: str) -> None:
    """Put the folder ``staging`` at ``out``, replacing (and then deleting) what was there."""
    if not out.exists():
        staging.rename(out)
        return
    previous = out.with_name(f".{out.name}.{tag}.previous")
    out.rename(previous)
    try:
        staging.rename(out)
    except BaseException:
        previous.rename(out)
        raise
    shutil.rmtree(previous)


def fit_dir_engine(fit_dir: str | Path) -> str:
    """The engine named in ``fit_dir``'s ``fit.json`` (fits that name none are ``bayes``)."""
    path = Path(fit_dir)
    if not (path / FIT_FILE).exists():
        raise FileNotFoundError(
            f"{path} is not a fit directory (it has no {FIT_FILE}); make one with `mmmcal fit`."
        )
    return json.loads((path / FIT_FILE).read_text()).get("engine", "bayes")


def read_fit_dir(fit_dir: str | Path, engine: str) -> FitDir:
    """Read the shared files of a fit directory written by ``engine``.

    Raises ``FileNotFoundError`` without ``fit.json`` or the model file, and ``ValueError``
    when the directory holds another engine's fit.
    """
    path = Path(fit_dir)
    found = fit_dir_engine(path)
    if found != engine:
        raise ValueError(
            f"{path} holds a {found!r} fit, not {engine!r}; load it with "
            "mmmcal.models.engines.load_fit."
        )
    if not (path / MODEL_FILE).exists():
        raise FileNotFoundError(
            f"{path} is not a fit directory (needs {MODEL_FILE} and {FIT_FILE}); "
            "make one with `mmmcal fit`."
        )
    meta = json.loads((path / FIT_FILE).read_text())
    meta.pop("engine", None)
    name = meta.pop("name", path.name)
    spec = ModelSpec.from_yaml((path / SPEC_FILE).read_text())
    lift = read_lift_table(path / LIFT_FILE) if (path / LIFT_FILE).exists() else None
    return FitDir(path=path, engine=engine, name=name, meta=meta, spec=spec, lift=lift)
