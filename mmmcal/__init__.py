"""mmmcal: calibrate marketing mix models with experiments, and check them against ground truth."""

from mmmcal.baselines import load_fit, make_engine
from mmmcal.experiments import LiftTestDesign, conversion_lift_test, lift_tests
from mmmcal.geolift import GeoLiftDesign, causalpy_to_lift_rows, national_rows, run_geolift
from mmmcal.ingest import IngestResult, ingest, ingest_or_raise
from mmmcal.lift import (
    LiftTableError,
    check_lift_table,
    read_lift_table,
    to_per_period,
    validate_lift_table,
)
from mmmcal.scenario import Scenario, ScenarioError, get_preset, load_scenario, preset_names
from mmmcal.simulate import World, load_world, simulate
from mmmcal.truth import LiftOracle, OracleLift, Truth

__version__ = "0.1.0"

__all__ = [
    "GeoLiftDesign",
    "IngestResult",
    "causalpy_to_lift_rows",
    "ingest",
    "ingest_or_raise",
    "national_rows",
    "run_geolift",
    "LiftOracle",
    "LiftTableError",
    "LiftTestDesign",
    "OracleLift",
    "Scenario",
    "ScenarioError",
    "Truth",
    "World",
    "check_lift_table",
    "conversion_lift_test",
    "get_preset",
    "make_engine",
    "lift_tests",
    "load_fit",
    "load_scenario",
    "load_world",
    "preset_names",
    "read_lift_table",
    "simulate",
    "to_per_period",
    "validate_lift_table",
]
