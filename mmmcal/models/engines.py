"""The engine registry, and the estimator contract every engine follows.

Engines (pick one with :func:`make_engine`; reload any fit directory with :func:`load_fit`):

``bayes``
    :class:`mmmcal.models.bayes.CalibratedMMM`, the pymc-marketing MMM with lift likelihoods.
``ridge``
    :class:`mmmcal.models.ridge.RidgeMMM`, Robyn-style ridge with a Nevergrad search.
``bounded``
    :class:`mmmcal.models.bounded.BoundedMMM`, the ridge with lift-bounded coefficients.

The contract (:class:`Estimator`, scikit-learn's): ``__init__`` stores configuration only;
``fit(data)`` checks its inputs before anything expensive, returns ``self`` and sets learned
state ending in ``_`` (:mod:`mmmcal.models.learned_state`); fitting again forgets the
previous fit. ``save(dir)`` writes a fit directory (:mod:`mmmcal.models.fit_dir`, ``fit.json``
names the engine) that :func:`load_fit`, ``mmmcal score`` and ``mmmcal report`` read.

Use: ``make_engine("ridge", spec, lift, budget=1000, seed=0).fit(data)`` returns the fitted
estimator; a study runner maps an arm's ``engine: bayes|ridge|bounded`` (plus its options) to
a fit the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, runtime_checkable

import pandas as pd

from mmmcal.models.bounded import BoundedMMM
from mmmcal.models.fit_dir import fit_dir_engine
from mmmcal.models.ridge import RidgeConfig, RidgeMMM
from mmmcal.models.spec import ModelSpec
from mmmcal.options import ENGINES

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["Estimator", "load_fit", "make_engine"]

BAYES_OPTIONS = ("likelihood", "lift_dist", "sampler")


@runtime_checkable
class Estimator(Protocol):
    """What every engine offers; scorecards and reports read fits through it.

    ``diagnostics_`` (set by ``fit``) has ``to_dict()``, ``ok`` and ``problems`` (why it is
    not ok: a fit that fails its checks is saved with them and shown as FAIL);
    ``channel_contributions`` returns draws in target units with dims (chain, draw, date,
    channel).
    """

    engine: ClassVar[str]
    name: str
    spec: ModelSpec
    lift: pd.DataFrame | None
    diagnostics_: Any

    def fit(self, data: pd.DataFrame) -> Self: ...

    def channel_contributions(self) -> xr.DataArray: ...

    def target_total(self) -> float: ...

    def spend_totals(self) -> pd.Series: ...

    def save(self, out_dir: str | Path) -> Path: ...

    @classmethod
    def load(cls, fit_dir: str | Path) -> Self: ...


def _bayes_class():
    from mmmcal.models.bayes import CalibratedMMM

    return CalibratedMMM


def make_engine(
    engine: str,
    spec: ModelSpec,
    lift: pd.DataFrame | None = None,
    *,
    name: str = "model",
    **options: Any,
) -> Estimator:
    """An unfitted estimator of ``engine`` with ``.fit(data) -> self``.

    ``options`` go to :class:`~mmmcal.models.bayes.CalibratedMMM` (``likelihood``,
    ``lift_dist``, ``sampler``) for ``bayes`` and to :class:`~mmmcal.models.ridge.RidgeConfig`
    (``budget``, ``seed``, ``n_bootstrap``, ``block_length``, ``z``, ``trend``, ``progress``)
    otherwise.
    """
    if engine not in ENGINES:
        raise ValueError(f"The `engine` {engine!r} must be one of {list(ENGINES)}.")
    allowed = list(BAYES_OPTIONS) if engine == "bayes" else list(RidgeConfig.model_fields)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"Option(s) {unknown} do not apply to the {engine} engine; its options are {allowed}."
        )
    if engine == "bayes":
        return _bayes_class()(spec, lift, name=name, **options)
    classes = {"ridge": RidgeMMM, "bounded": BoundedMMM}
    return classes[engine](spec, lift, config=RidgeConfig(**options), name=name)


def load_fit(fit_dir: str | Path) -> Estimator:
    """Load any fit directory, dispatching on ``fit.json``'s ``engine`` (missing: bayes)."""
    path = Path(fit_dir)
    engine = fit_dir_engine(path)
    if engine == "bayes":
        return _bayes_class().load(path)
    classes = {"ridge": RidgeMMM, "bounded": BoundedMMM}
    if engine not in classes:
        raise ValueError(f"{path}/fit.json names engine {engine!r}; known: {list(ENGINES)}.")
    return classes[engine].load(path)
