"""One cell of a study: a world simulated, its arm's tests run, fitted and scored.

:func:`run_cell` is a pure function of the study and the cell (world, tests and sampler are
all seeded by the cell's seed), so results do not depend on where or in which order cells
run. :func:`preflight` checks every arm's tests against the first world before any fit.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import pandas as pd

from mmmcal.decide.regret import score_decision
from mmmcal.evaluate.scorecard import ChannelScore, ModelScore, score_model
from mmmcal.experiments.conversion_lift import lift_tests
from mmmcal.experiments.geolift import design_geolift, national_rows, run_geolift
from mmmcal.lift.table import validate_lift_table
from mmmcal.models.bayes import SamplerConfig
from mmmcal.models.engines import make_engine
from mmmcal.models.roas import lift_roas_priors
from mmmcal.models.spec import ModelSpec
from mmmcal.study.advice import advice_record
from mmmcal.study.spec import UNCALIBRATED, Arm, Cell, Study, StudyError
from mmmcal.world.simulate import World, simulate

__all__ = [
    "DECISION_COLUMNS",
    "RUN_COLUMNS",
    "arm_lift_table",
    "preflight",
    "prior_route",
    "run_cell",
]

# The cell's budget decision (mmmcal.decide.regret.score_decision), the same on each row.
DECISION_COLUMNS = (
    "regret",
    "model_regret",
    "model_regret_lo",
    "model_regret_hi",
    "regret_covered",
)
# Columns that differ between runs of the same cell (timings, where it ran).
RUN_COLUMNS = ("fit_seconds", "cell_seconds", "pid", "host")


def _fit_and_score(
    spec: ModelSpec,
    data: pd.DataFrame,
    lift: pd.DataFrame | None,
    *,
    arm: Arm,
    sampler: SamplerConfig,
    truth: dict[str, Any],
) -> tuple[Any, ModelScore]:
    """Fit ``arm``'s engine (:func:`mmmcal.models.engines.make_engine`); (model, its score).

    Bayesian arms sample with the study's ``sampler``; ``ridge`` and ``bounded`` arms use
    their ``options``, and the cell's seed seeds their search and bootstrap.
    """
    options: dict[str, Any]
    if arm.engine == "bayes":
        options = {"likelihood": arm.likelihood, "lift_dist": arm.lift_dist, "sampler": sampler}
    else:
        options = {"seed": sampler.seed, **arm.options}
    model = make_engine(arm.engine, spec, lift, name=arm.name, **options).fit(data)
    return model, score_model(model, truth)


def arm_lift_table(arm: Arm, world: World, seed: int) -> pd.DataFrame | None:
    """The lift table of ``arm`` in ``world`` (None for no tests); noise seeded by ``seed``.

    Geo-lift tests contribute their national row. ``bias`` and ``sigma_factor`` are
    applied last, to every row.
    """
    tables = []
    if arm.tests:
        tables.append(lift_tests(world, list(arm.tests), seed=seed))
    tables += [national_rows(run_geolift(world, g, seed=seed)) for g in arm.geolift]
    if not tables:
        return None
    table = pd.concat(tables, ignore_index=True)
    table = table.assign(
        delta_y=table["delta_y"] * (1 + arm.bias), sigma=table["sigma"] / arm.sigma_factor
    )
    return validate_lift_table(table, world.scenario.channel_names, dates=world.data["date"])


def prior_route(spec: ModelSpec, lift: pd.DataFrame) -> ModelSpec:
    """``spec`` with the lift table's measured ROAS as ``roas_prior.tests`` priors."""
    roas = spec.roas_prior.model_dump() if spec.roas_prior is not None else {}
    roas["tests"] = {**roas.get("tests", {}), **lift_roas_priors(lift)}
    return ModelSpec.model_validate({**spec.model_dump(), "roas_prior": roas})


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def run_cell(study: Study, cell: Cell) -> pd.DataFrame:
    """Simulate the cell's world, run its arm's tests, fit, and score against the truth.

    Returns one row per channel: the cell's keys, whether the channel was ``tested``, true
    and estimated share and ROAS with 90% HDI, absolute errors and coverage, sampler
    diagnostics, whether the fit added the ``spend_factor``, the budget decision's regret,
    timings (seconds) with the process that ran it, and in an advice study's uncalibrated
    cell its ``advice`` (JSON).
    """
    start = time.perf_counter()
    arm = study.arm(cell.arm)
    world = simulate(study.scenario(cell.scenario), cell.seed)
    lift = arm_lift_table(arm, world, cell.seed)
    spec = study.model_spec(world.scenario, cell.scenario, cell.arm)
    fit_lift = lift
    if arm.route == "prior" and lift is not None:
        spec, fit_lift = prior_route(spec, lift), None
    truth = world.truth_dict()
    model, score = _fit_and_score(
        spec,
        world.national_data(),
        fit_lift,
        arm=arm,
        sampler=study.sampler.config(cell.seed),
        truth=truth,
    )
    rows = [
        _channel_row(cell, arm, lift, channel, s, score.diagnostics)
        for channel, s in score.channels.items()
    ]
    frame = pd.DataFrame(rows)
    # whether the fit added the spend factor (`auto` decides on the world's data)
    frame["spend_factor"] = arm.engine == "bayes" and model.spec.spend_factor is True
    for column, value in _decision(model, world, truth).items():
        frame[column] = value
    if study.advise is not None and cell.arm == UNCALIBRATED:
        frame["advice"] = advice_record(study, model, cell.seed)
    frame["cell_seconds"] = round(time.perf_counter() - start, 3)
    frame["pid"] = os.getpid()
    frame["host"] = socket.gethostname()
    return frame


def _decision(model, world: World, truth: dict[str, Any]) -> dict[str, Any]:
    """The fit's default budget decision scored against the truth; NaN in geo worlds."""
    if world.scenario.geo is not None:  # no national true curve to score against
        return dict.fromkeys(DECISION_COLUMNS, float("nan"))
    return score_decision(model, truth)


def _channel_row(cell: Cell, arm: Arm, lift, channel: str, s: ChannelScore, diag: dict) -> dict:
    """One channel's row of a cell's results (scored against the truth)."""
    if s.true_share is None or s.true_roas is None:
        raise ValueError(f"Channel {channel!r} was scored without its truth.")
    return {
        "scenario": cell.scenario,
        "seed": cell.seed,
        "arm": cell.arm,
        "engine": arm.engine,
        "channel": channel,
        "tested": channel in arm.tested_channels,
        "n_lift_rows": 0 if lift is None else len(lift),
        "true_share": s.true_share,
        "share_mean": s.share_mean,
        "share_lo": s.share_hdi_90[0],
        "share_hi": s.share_hdi_90[1],
        "share_abs_error": abs(s.share_mean - s.true_share),
        "share_covered": bool(s.share_covered),
        "true_roas": s.true_roas,
        "roas_mean": s.roas_mean,
        "roas_lo": s.roas_hdi_90[0],
        "roas_hi": s.roas_hdi_90[1],
        "roas_abs_error": abs(s.roas_mean - s.true_roas),
        "roas_rel_error": abs(s.roas_mean - s.true_roas) / s.true_roas,
        "roas_covered": bool(s.roas_covered),
        "true_mroas": _float(s.true_mroas),
        "mroas_mean": _float(s.mroas_mean),
        "mroas_lo": _float(None if s.mroas_hdi_90 is None else s.mroas_hdi_90[0]),
        "mroas_hi": _float(None if s.mroas_hdi_90 is None else s.mroas_hdi_90[1]),
        "mroas_covered": s.mroas_covered,
        "divergences": int(diag.get("divergences") or 0),
        "max_rhat": _float(diag.get("max_rhat")),
        "min_ess_bulk": _float(diag.get("min_ess_bulk")),
        "fit_seconds": _float(diag.get("fit_seconds")),
    }


def preflight(study: Study) -> None:
    """Cheap checks before any fit: every arm's tests fit the first seed's world.

    Simulates one world per scenario and designs (but does not analyse) each test, so a
    window longer than the data or an impossible spend change fails now, not hours in.
    """
    seed = study.seed_list[0]
    for label in study.scenario_labels:
        world = simulate(study.scenario(label), seed)
        for i, arm in enumerate(study.arms):
            if arm.scenarios is not None and label not in arm.scenarios:
                continue
            try:
                if arm.tests:
                    lift_tests(world, list(arm.tests), seed=seed)
                for g in arm.geolift:
                    design_geolift(world, g, seed)
            except ValueError as err:
                raise StudyError(
                    f"arms.{i} ({arm.name!r}) cannot run in scenario {label!r}: {err}"
                ) from None
