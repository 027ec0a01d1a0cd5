"""mmmcal: calibrate marketing mix models with experiments, and check them against ground truth.

The names below are the public API; each lives in the package of its pipeline stage
(``world``, ``experiments``, ``lift``, ``models``, ``sampling``, ``evaluate``, ``report``,
``study``). Names that need PyMC (the Bayesian estimator, scorecards, reports) are imported
on first use, so ``import mmmcal`` stays quick.
"""

from importlib import import_module
from typing import Any

from mmmcal.experiments.conversion_lift import LiftTestDesign, conversion_lift_test, lift_tests
from mmmcal.experiments.geolift import (
    GeoLiftDesign,
    causalpy_to_lift_rows,
    national_rows,
    run_geolift,
)
from mmmcal.lift.ingest import IngestResult, ingest, ingest_or_raise
from mmmcal.lift.problems import LiftTableError
from mmmcal.lift.table import check_lift_table, read_lift_table, validate_lift_table
from mmmcal.lift.windows import to_per_period
from mmmcal.models.engines import load_fit, make_engine
from mmmcal.models.spec import ModelSpec
from mmmcal.world.oracle import LiftOracle, OracleLift
from mmmcal.world.presets import get_preset, load_scenario, preset_names
from mmmcal.world.scenario import Scenario, ScenarioError
from mmmcal.world.simulate import World, load_world, simulate
from mmmcal.world.truth import Truth

__version__ = "0.1.0"

# name -> module, imported on first access (PEP 562).
_LAZY = {
    "CalibratedMMM": "mmmcal.models.bayes",
    "SamplerConfig": "mmmcal.models.bayes",
    "Scorecard": "mmmcal.evaluate.scorecard",
    "write_report": "mmmcal.report.page",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mmmcal' has no attribute {name!r}")


__all__ = [
    "CalibratedMMM",
    "GeoLiftDesign",
    "IngestResult",
    "LiftOracle",
    "LiftTableError",
    "LiftTestDesign",
    "ModelSpec",
    "OracleLift",
    "SamplerConfig",
    "Scenario",
    "ScenarioError",
    "Scorecard",
    "Truth",
    "World",
    "causalpy_to_lift_rows",
    "check_lift_table",
    "conversion_lift_test",
    "get_preset",
    "ingest",
    "ingest_or_raise",
    "lift_tests",
    "load_fit",
    "load_scenario",
    "load_world",
    "make_engine",
    "national_rows",
    "preset_names",
    "read_lift_table",
    "run_geolift",
    "simulate",
    "to_per_period",
    "validate_lift_table",
    "write_report",
]
