"""mmmcal: calibrate marketing mix models with experiments, and check them against ground truth.

The names below are the public API; each lives in the package of its pipeline stage
(``world``, ``experiments``, ``lift``, ``models``, ``sampling``, ``evaluate``, ``decide``,
``advise``, ``report``, ``study``). Every name is imported on first use, so ``import mmmcal`` (and
``mmmcal --help``) stays quick.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# name -> module, imported on first access (PEP 562): `import mmmcal` (and so the command
# line's `--help`) imports none of pandas, scipy or PyMC.
_LAZY = {
    "LiftTestDesign": "mmmcal.experiments.conversion_lift",
    "conversion_lift_test": "mmmcal.experiments.conversion_lift",
    "lift_tests": "mmmcal.experiments.conversion_lift",
    "GeoLiftDesign": "mmmcal.experiments.geolift",
    "causalpy_to_lift_rows": "mmmcal.experiments.geolift",
    "national_rows": "mmmcal.experiments.geolift",
    "run_geolift": "mmmcal.experiments.geolift",
    "IngestResult": "mmmcal.lift.ingest",
    "ingest": "mmmcal.lift.ingest",
    "ingest_or_raise": "mmmcal.lift.ingest",
    "LiftTableError": "mmmcal.lift.problems",
    "check_lift_table": "mmmcal.lift.table",
    "read_lift_table": "mmmcal.lift.table",
    "validate_lift_table": "mmmcal.lift.table",
    "to_per_period": "mmmcal.lift.windows",
    "load_fit": "mmmcal.models.engines",
    "make_engine": "mmmcal.models.engines",
    "ModelSpec": "mmmcal.models.spec",
    "LiftOracle": "mmmcal.world.oracle",
    "OracleLift": "mmmcal.world.oracle",
    "get_preset": "mmmcal.world.presets",
    "load_scenario": "mmmcal.world.presets",
    "preset_names": "mmmcal.world.presets",
    "Scenario": "mmmcal.world.scenario",
    "ScenarioError": "mmmcal.world.scenario",
    "World": "mmmcal.world.simulate",
    "load_world": "mmmcal.world.simulate",
    "simulate": "mmmcal.world.simulate",
    "Truth": "mmmcal.world.truth",
    "CalibratedMMM": "mmmcal.models.bayes",
    "SamplerConfig": "mmmcal.models.bayes",
    "Scorecard": "mmmcal.evaluate.scorecard",
    "optimize_budget": "mmmcal.decide.allocate",
    "model_regret": "mmmcal.decide.regret",
    "true_regret": "mmmcal.decide.regret",
    "Candidate": "mmmcal.advise.candidates",
    "advise": "mmmcal.advise.advice",
    "write_report": "mmmcal.report.page",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mmmcal' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = sorted(_LAZY)
