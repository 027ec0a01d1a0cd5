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
from typing import Any, TypeVar

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
T = TypeVar("T")


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

    def read_model(self, reader: Callable[[Path], T], *needed: str) -> T:
        """``reader(model_file)``, or ``ValueError`` naming a damaged or incomplete directory.

        ``needed``: InferenceData groups the model's ``idata`` (or the result) must have.
        """
        try:
            model = reader(self.model_file)
            idata = getattr(model, "idata", model)
            absent = [g for g in needed if not hasattr(idata, g)]
        except Exception as err:
            raise ValueError(
                f"{self.model_file} cannot be read ({type(err).__name__}: {str(err)[:200]}); "
                "the fit directory is damaged: fit again with `mmmcal fit --overwrite`."
            ) from None
        if absent:
            raise ValueError(
                f"{self.model_file} lacks the group(s) {absent} a fit has; the fit directory "
                "is incomplete: fit again with `mmmcal fit --overwrite`."
            )
        return model


def check_fit_dir_target(out_dir: str | Path, *, overwrite: bool = True) -> Path:
    """``out_dir`` as a path, or ``ValueError`` if saving a fit there would replace other files.

    A missing path and an empty folder are fine; a fit directory only with ``overwrite``.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file, not a fit directory; choose another output folder.")
    if not out.is_dir() or not any(out.iterdir()):
        return out
    if not (out / FIT_FILE).exists():
        raise ValueError(
            f"{out} is not empty and is not a fit directory (it has no {FIT_FILE}); a fit "
            "replaces only a fit directory: choose another output folder or empty this one."
        )
    if not overwrite:
        raise ValueError(
            f"{out} already holds a fit; pass --overwrite to replace it (the whole directory), "
            "or choose another --out."
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
    problems: list[str],
    write_model: Callable[[Path], None],
) -> Path:
    """Write a fit directory in one swap; returns its path.

    ``write_model(path)`` writes the engine's model file at ``path``; ``meta`` joins ``engine``,
    ``name``, ``status`` (``ok``, or ``fail`` where the fit failed its checks) and
    ``problems`` (why) in ``fit.json``. Raises ``ValueError`` where ``out_dir`` is neither a
    fit directory nor empty (:func:`check_fit_dir_target`).
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
        status = {"status": "fail" if problems else "ok", "problems": list(problems)}
        doc = {"engine": engine, "name": name, **status, **meta}
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


def _fit_doc(path: Path) -> dict[str, Any]:
    """``fit.json`` of the fit directory ``path``, or an error saying what is wrong with it."""
    if not (path / FIT_FILE).exists():
        raise FileNotFoundError(
            f"{path} is not a fit directory (it has no {FIT_FILE}); make one with `mmmcal fit`."
        )
    try:
        doc = json.loads((path / FIT_FILE).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{path}/{FIT_FILE} is damaged ({err}); fit again with `mmmcal fit --overwrite`."
        ) from None
    if not isinstance(doc, dict):
        raise ValueError(
            f"{path}/{FIT_FILE} is not a fit's metadata; it was not written by mmmcal."
        )
    return doc


def fit_dir_engine(fit_dir: str | Path) -> str:
    """The engine named in ``fit_dir``'s ``fit.json`` (fits that name none are ``bayes``)."""
    return str(_fit_doc(Path(fit_dir)).get("engine", "bayes"))


def read_fit_dir(fit_dir: str | Path, engine: str) -> FitDir:
    """Read the shared files of a fit directory written by ``engine``.

    Raises ``FileNotFoundError`` without ``fit.json``, and ``ValueError`` when the directory
    holds another engine's fit or lacks a file a fit has (an incomplete directory).
    """
    path = Path(fit_dir)
    meta = _fit_doc(path)
    found = str(meta.pop("engine", "bayes"))
    if found != engine:
        raise ValueError(
            f"{path} holds a {found!r} fit, not {engine!r}; load it with "
            "mmmcal.models.engines.load_fit."
        )
    missing = [f for f in (MODEL_FILE, SPEC_FILE) if not (path / f).exists()]
    if missing:
        raise ValueError(
            f"{path} is an incomplete fit directory (no {' or '.join(missing)}); fit again "
            "with `mmmcal fit --overwrite`."
        )
    name = meta.pop("name", path.name)
    meta.pop("status", None)
    meta.pop("problems", None)
    spec = ModelSpec.from_yaml(path / SPEC_FILE)
    lift = read_lift_table(path / LIFT_FILE) if (path / LIFT_FILE).exists() else None
    return FitDir(path=path, engine=engine, name=name, meta=meta, spec=spec, lift=lift)
