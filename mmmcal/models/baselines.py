"""The ridge and bounded engines and the engine registry, under one import path.

Defined in :mod:`mmmcal.models.engines` (``ENGINES``, ``make_engine``, ``load_fit``),
:mod:`mmmcal.models.ridge` (``RidgeMMM``, ``RidgeConfig``, ``BaselineDiagnostics``) and
:mod:`mmmcal.models.bounded` (``BoundedMMM``); ``mmmcal fit``, ``score`` and ``report`` import
them from here.
"""

from mmmcal.models.bounded import BoundedMMM
from mmmcal.models.engines import ENGINES, load_fit, make_engine
from mmmcal.models.ridge import BaselineDiagnostics, RidgeConfig, RidgeMMM

__all__ = [
    "ENGINES",
    "BaselineDiagnostics",
    "BoundedMMM",
    "RidgeConfig",
    "RidgeMMM",
    "load_fit",
    "make_engine",
]
