"""Calibration studies: scenarios x seeds x calibration arms, run locally or on a Dask cluster.

A study file (YAML) names scenario presets (with optional overrides), seeds, sampler
settings and *arms*: ways to calibrate (no test, one test, a test per channel, a biased or
over-confident test, geo-lift tests, another likelihood). A *cell* is one world (scenario,
seed) fitted with one arm; :func:`run_cell` is a pure function of the study and the cell
(world, tests and sampler are all seeded by the cell's seed), so results do not depend on
where or in which order cells run.

:func:`run_study` writes each finished cell atomically to ``OUT/cells/<cell_id>.parquet``
and skips cells already there, so an interrupted study resumes without losing or
duplicating a cell. :func:`summarize_study` turns the cells into per-arm, per-role medians
and coverage with bootstrap intervals over worlds, and paired differences against the
``uncalibrated`` arm; :func:`write_summary` writes ``summary.csv``, figures and an HTML page.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import time
import traceback
import types
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from mmmcal.evaluate.scorecard import ModelScore, score_model
from mmmcal.experiments.conversion_lift import LiftTestDesign, lift_tests
from mmmcal.experiments.geolift import GeoLiftDesign, design_geolift, national_rows, run_geolift
from mmmcal.lift.table import validate_lift_table
from mmmcal.models.baselines import ENGINES, RidgeConfig, make_engine
from mmmcal.models.bayes import SamplerConfig
from mmmcal.models.spec import ModelSpec
from mmmcal.specs import FrozenSpec, SpecError, format_validation_error
from mmmcal.world.presets import get_preset
from mmmcal.world.scenario import Scenario
from mmmcal.world.simulate import World, simulate

__all__ = [
    "Arm",
    "Cell",
    "Study",
    "StudyError",
    "StudyRun",
    "load_cells",
    "load_study",
    "run_cell",
    "run_study",
    "summarize_cells",
    "summarize_study",
    "write_summary",
]

UNCALIBRATED = "uncalibrated"
NOMINAL_COVERAGE = 0.9
# Columns that differ between runs of the same cell (timings, where it ran).
RUN_COLUMNS = ("fit_seconds", "cell_seconds", "pid", "host")
SUMMARY_COLUMNS = ["arm", "role", "metric", "estimate", "lo", "hi", "n"]


class StudyError(SpecError):
    """A study file or study directory is unusable; the message names the field or file."""


# --------------------------------------------------------------------------- engines


def _fit_and_score(
    spec: ModelSpec,
    data: pd.DataFrame,
    lift: pd.DataFrame | None,
    *,
    arm: Arm,
    sampler: SamplerConfig,
    truth: dict[str, Any],
) -> ModelScore:
    """Fit ``arm``'s engine (:func:`mmmcal.baselines.make_engine`) and score it.

    Bayesian arms sample with the study's ``sampler``; ``ridge`` and ``bounded`` arms use
    their ``options``, and the cell's seed seeds their search and bootstrap.
    """
    if arm.engine == "bayes":
        options = {"likelihood": arm.likelihood, "lift_dist": arm.lift_dist, "sampler": sampler}
    else:
        options = {"seed": sampler.seed, **arm.options}
    model = make_engine(arm.engine, spec, lift, name=arm.name, **options).fit(data)
    return score_model(model, truth)


# --------------------------------------------------------------------------- the study spec


_LABEL = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class ScenarioEntry(FrozenSpec):
    """A scenario preset, optionally with top-level fields replaced (e.g. ``n_periods``).

    ``model`` changes the study's model spec for this scenario's worlds (e.g. more adstock
    lags for a slow channel); it is merged over the study's ``model``.
    """

    preset: str
    name: str | None = Field(None, pattern=_LABEL, description="label (default: the preset)")
    overrides: dict[str, Any] = Field(default_factory=dict)
    model: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _buildable(self) -> ScenarioEntry:
        self.build()
        return self

    @property
    def label(self) -> str:
        return self.name or self.preset

    def build(self) -> Scenario:
        """The validated scenario (raises ``ScenarioError`` for a bad preset or override)."""
        base = get_preset(self.preset)
        return base.with_updates(**self.overrides) if self.overrides else base


class SeedRange(FrozenSpec):
    """Seeds ``start, start + 1, ..., start + count - 1``."""

    start: int = Field(0, ge=0)
    count: int = Field(ge=1, le=100_000)


class StudySampler(FrozenSpec):
    """Sampler settings of every fit; ``fast: true`` starts from ``SamplerConfig.fast()``.

    The sampler's seed is the cell's seed, so arms of the same world share it.
    """

    fast: bool = False
    draws: int | None = Field(None, ge=10)
    tune: int | None = Field(None, ge=10)
    chains: int | None = Field(None, ge=1, le=16)
    target_accept: float | None = Field(None, gt=0.5, lt=1)
    sampler: Literal["nutpie", "pymc", "numpyro", "blackjax"] | None = None

    def config(self, seed: int) -> SamplerConfig:
        """The :class:`SamplerConfig` of a cell with ``seed``."""
        given = self.model_dump(exclude={"fast"}, exclude_none=True)
        if self.fast:
            return SamplerConfig.fast(seed=seed, **given)
        return SamplerConfig(seed=seed, **given)


class Arm(FrozenSpec):
    """One way to calibrate, applied to every world of the study (or of ``scenarios``).

    ``tests`` are conversion-lift designs (as :class:`LiftTestDesign`); ``geolift`` are
    geo-lift designs analysed with CausalPy (geo worlds only; the national row calibrates
    the national MMM). ``bias`` overstates every reported ``delta_y`` by that fraction
    (``delta_y * (1 + bias)``); ``sigma_factor`` divides every reported ``sigma`` (an
    over-confident test). ``likelihood``: ``auto``, ``window`` or ``steady_state``.
    """

    name: str = Field(pattern=_LABEL)
    engine: str = "bayes"
    tests: tuple[LiftTestDesign, ...] = ()
    geolift: tuple[GeoLiftDesign, ...] = ()
    bias: float = Field(0.0, ge=-0.99, le=10)
    sigma_factor: float = Field(1.0, gt=0, le=1000)
    likelihood: Literal["auto", "window", "steady_state"] = "auto"
    lift_dist: Literal["normal", "studentt", "gamma"] = "normal"
    scenarios: tuple[str, ...] | None = Field(
        None, description="scenario labels this arm runs on (default: all)"
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="engine settings of ridge/bounded arms, e.g. {budget: 1000, n_bootstrap: 200}",
    )

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value not in ENGINES:
            raise ValueError(f"The `engine` {value!r} must be one of {sorted(ENGINES)}")
        return value

    @property
    def tested_channels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([t.channel for t in self.tests + self.geolift]))

    @model_validator(mode="after")
    def _tests_or_not(self) -> Arm:
        calibrated = bool(self.tests or self.geolift)
        if not calibrated and (self.bias != 0 or self.sigma_factor != 1):
            raise ValueError(f"arm {self.name!r} has no tests, so `bias`/`sigma_factor` do nothing")
        if self.lift_dist == "gamma" and self.likelihood != "steady_state":
            raise ValueError(
                "`lift_dist: gamma` needs `likelihood: steady_state` (study tests have windows)"
            )
        if self.options:
            if self.engine == "bayes":
                raise ValueError("`options` apply to ridge/bounded arms; bayes arms use `sampler`")
            allowed = set(RidgeConfig.model_fields) - {"seed", "progress"}
            unknown = sorted(set(self.options) - allowed)
            if unknown:
                raise ValueError(
                    f"`options` {unknown} are not settings of the {self.engine} engine; "
                    f"use {sorted(allowed)} "
                    "(the seed is the cell's)"
                )
        if self.name == UNCALIBRATED and calibrated:
            raise ValueError("the arm `uncalibrated` must have no `tests` and no `geolift`")
        if self.name == UNCALIBRATED and self.scenarios is not None:
            raise ValueError("the arm `uncalibrated` runs on every scenario; remove `scenarios`")
        return self


@dataclass(frozen=True, order=True)
class Cell:
    """One unit of work: a world (scenario label, seed) fitted with one arm."""

    scenario: str
    seed: int
    arm: str

    @property
    def id(self) -> str:
        return f"{self.scenario}__s{self.seed:05d}__{self.arm}"


class Study(FrozenSpec):
    """A validated study: scenarios x seeds x arms, sampler and model settings."""

    name: str = Field(pattern=_LABEL)
    description: str = ""
    scenarios: tuple[ScenarioEntry, ...] = Field(min_length=1)
    seeds: tuple[int, ...] | SeedRange
    sampler: StudySampler = StudySampler()
    model: dict[str, Any] = Field(
        default_factory=dict, description="changes to ModelSpec.for_world, e.g. yearly_seasonality"
    )
    arms: tuple[Arm, ...] = Field(min_length=1)

    @field_validator("scenarios", mode="before")
    @classmethod
    def _preset_names(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [{"preset": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: tuple[int, ...] | SeedRange) -> tuple[int, ...] | SeedRange:
        if isinstance(value, tuple):
            if not value or min(value) < 0 or len(set(value)) != len(value):
                raise ValueError("give distinct non-negative seeds, or {start: 0, count: 30}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Study:
        problems = []
        labels = [s.label for s in self.scenarios]
        problems += [f"scenarios: label {x!r} is repeated" for x in _repeated(labels)]
        names = [a.name for a in self.arms]
        problems += [f"arms: name {x!r} is repeated" for x in _repeated(names)]
        if len(names) < 2:
            problems.append("arms: a study compares `uncalibrated` with at least one other arm")
        if UNCALIBRATED not in names:
            problems.append(
                "arms: an arm named `uncalibrated` (no tests) is required: the summary's paired "
                "differences compare every arm with it"
            )
        built = {s.label: s.build() for s in self.scenarios}
        for i, entry in enumerate(self.scenarios):
            try:
                self.model_spec(types.SimpleNamespace(scenario=built[entry.label]), entry.label)
            except SpecError as err:
                where = f"scenarios.{i}.model" if entry.model else "model"
                problems.append(f"{where}: " + str(err).replace("\n", "\n    "))
        for i, arm in enumerate(self.arms):
            for label in arm.scenarios or ():
                if label not in built:
                    problems.append(
                        f"arms.{i}.scenarios: {label!r} is not a scenario label of this study "
                        f"({labels})"
                    )
            for label in [x for x in arm.scenarios or labels if x in built]:
                scenario = built[label]
                for kind, designs in (("tests", arm.tests), ("geolift", arm.geolift)):
                    for j, d in enumerate(designs):
                        if d.channel not in scenario.channel_names:
                            problems.append(
                                f"arms.{i}.{kind}.{j}.channel: {d.channel!r} is not a channel of "
                                f"scenario {label!r} ({scenario.channel_names})"
                            )
                if arm.geolift and scenario.geo is None:
                    problems.append(
                        f"arms.{i}.geolift: scenario {label!r} has no geos; run arm "
                        f"{arm.name!r} on geo scenarios only with `scenarios: [...]` "
                        "(e.g. the `reference-geo` preset)"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # ------------------------------------------------------------------ access
    @property
    def seed_list(self) -> list[int]:
        if isinstance(self.seeds, SeedRange):
            return list(range(self.seeds.start, self.seeds.start + self.seeds.count))
        return list(self.seeds)

    def arm(self, name: str) -> Arm:
        for a in self.arms:
            if a.name == name:
                return a
        raise KeyError(f"Unknown arm {name!r}; the study has {[a.name for a in self.arms]}.")

    def scenario(self, label: str) -> Scenario:
        for s in self.scenarios:
            if s.label == label:
                return s.build()
        raise KeyError(f"Unknown scenario {label!r}; the study has {self.scenario_labels}.")

    def model_spec(self, world: World, label: str) -> ModelSpec:
        """The model spec fitted to ``world`` of scenario ``label``."""
        entry = next(s for s in self.scenarios if s.label == label)
        return ModelSpec.for_world(world, **{**self.model, **entry.model})

    @property
    def scenario_labels(self) -> list[str]:
        return [s.label for s in self.scenarios]

    def cells(self) -> list[Cell]:
        """Every cell, ordered by scenario, seed and arm (as listed in the study)."""
        return [
            Cell(s, seed, a.name)
            for s in self.scenario_labels
            for seed in self.seed_list
            for a in self.arms
            if a.scenarios is None or s in a.scenarios
        ]

    # ------------------------------------------------------------------ YAML
    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    @classmethod
    def from_dict(cls, data: Any) -> Study:
        """Validate ``data``; raise :class:`StudyError` naming every bad field."""
        if not isinstance(data, dict):
            raise StudyError(
                "A study file must be a mapping with `name`, `scenarios`, `seeds`, `arms`."
            )
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            text = format_validation_error(err, "study").replace("(top level): Value error, ", "")
            raise StudyError(text.replace("Value error, ", "")) from None


def _repeated(items: list[str]) -> list[str]:
    return sorted({x for x in items if items.count(x) > 1})


def load_study(path: str | Path) -> Study:
    """Read and validate a study YAML file (no world is simulated, nothing is fitted)."""
    path = Path(path)
    if not path.exists():
        raise StudyError(f"Study file {str(path)!r} does not exist.")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise StudyError(f"Study file {str(path)!r} is not valid YAML: {err}") from None
    return Study.from_dict(data)


# --------------------------------------------------------------------------- one cell


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


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def run_cell(study: Study, cell: Cell) -> pd.DataFrame:
    """Simulate the cell's world, run its arm's tests, fit, and score against the truth.

    Returns one row per channel: the cell's keys, whether the channel was ``tested``, true
    and estimated share and ROAS with 90% HDI, absolute errors and coverage, sampler
    diagnostics, and timings (seconds) with the process that ran it.
    """
    start = time.perf_counter()
    arm = study.arm(cell.arm)
    world = simulate(study.scenario(cell.scenario), cell.seed)
    lift = arm_lift_table(arm, world, cell.seed)
    spec = study.model_spec(world, cell.scenario)
    truth = world.truth_dict()
    score = _fit_and_score(
        spec,
        world.national_data(),
        lift,
        arm=arm,
        sampler=study.sampler.config(cell.seed),
        truth=truth,
    )
    diag = score.diagnostics
    rows = []
    for channel, s in score.channels.items():
        rows.append(
            {
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
                "share_abs_error": abs(s.share_error),
                "share_covered": bool(s.share_covered),
                "true_roas": s.true_roas,
                "roas_mean": s.roas_mean,
                "roas_lo": s.roas_hdi_90[0],
                "roas_hi": s.roas_hdi_90[1],
                "roas_abs_error": abs(s.roas_error),
                "roas_rel_error": abs(s.roas_error) / s.true_roas,
                "roas_covered": bool(s.roas_covered),
                "divergences": int(diag.get("divergences") or 0),
                "max_rhat": _float(diag.get("max_rhat")),
                "min_ess_bulk": _float(diag.get("min_ess_bulk")),
                "fit_seconds": _float(diag.get("fit_seconds")),
            }
        )
    frame = pd.DataFrame(rows)
    frame["cell_seconds"] = round(time.perf_counter() - start, 3)
    frame["pid"] = os.getpid()
    frame["host"] = socket.gethostname()
    return frame


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


# --------------------------------------------------------------------------- the runner


@dataclass
class StudyRun:
    """What one call of :func:`run_study` did (seconds are wall-clock)."""

    out_dir: Path
    total: int
    already_done: int
    finished: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0


def _prepare_dir(study: Study, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "study.yaml"
    text = study.to_yaml()
    cells = out / "cells"
    if saved.exists() and any(cells.glob("*.parquet")):
        try:
            previous = Study.from_dict(yaml.safe_load(saved.read_text()))
        except StudyError:
            previous = None
        if previous is None or previous.to_yaml() != text:
            raise StudyError(
                f"{out} holds results of a different study ({saved} differs from this study "
                "file); resume only with the same study, or choose another --out."
            )
    saved.write_text(text)
    cells.mkdir(exist_ok=True)
    shutil.rmtree(out / "tmp", ignore_errors=True)  # half-written cells of an interrupted run
    (out / "tmp").mkdir()
    return cells


def _write_cell(out: Path, cell: Cell, frame: pd.DataFrame) -> None:
    tmp = out / "tmp" / f"{cell.id}.{os.getpid()}.parquet"
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, out / "cells" / f"{cell.id}.parquet")
    (out / "failed" / f"{cell.id}.txt").unlink(missing_ok=True)


def _record_failure(out: Path, cell: Cell, err: BaseException, run: StudyRun) -> None:
    (out / "failed").mkdir(exist_ok=True)
    text = "".join(traceback.format_exception(err))
    (out / "failed" / f"{cell.id}.txt").write_text(text)
    run.failed[cell.id] = f"{type(err).__name__}: {err}"


def run_study(
    study: Study,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> StudyRun:
    """Run every unfinished cell of ``study`` into ``out_dir`` and return what happened.

    Execution: in this process, one cell after another (default); a Dask ``LocalCluster``
    of ``workers`` single-threaded processes; or the Dask cluster at ``scheduler``
    (``tcp://host:8786``; its workers need the same mmmcal installed). Workers stay alive
    across cells. Finished cells are written by this process, atomically, to
    ``out_dir/cells/<cell_id>.parquet``; cells already there are skipped. A cell that raises
    is recorded in ``out_dir/failed/<cell_id>.txt`` and retried by the next run. A directory
    holding finished cells of a different study is refused. Run one runner per directory at
    a time.
    """
    if workers is not None and workers < 1:
        raise StudyError(f"--workers must be at least 1, got {workers}.")
    if workers is not None and scheduler is not None:
        raise StudyError("Give --workers (a local Dask cluster) or --scheduler, not both.")
    preflight(study)
    out = Path(out_dir)
    cells_dir = _prepare_dir(study, out)
    todo = [c for c in study.cells() if not (cells_dir / f"{c.id}.parquet").exists()]
    run = StudyRun(out, total=len(study.cells()), already_done=len(study.cells()) - len(todo))
    start = time.perf_counter()
    with _Progress(progress, run) as bar:
        if workers is None and scheduler is None:
            for cell in todo:
                try:
                    frame = run_cell(study, cell)
                except Exception as err:  # recorded; retried by the next run
                    _record_failure(out, cell, err, run)
                else:
                    _write_cell(out, cell, frame)
                    run.finished.append(cell.id)
                bar.advance(cell)
        elif todo:
            _run_dask(study, todo, out, run, bar, workers=workers, scheduler=scheduler)
    shutil.rmtree(out / "tmp")
    run.wall_seconds = round(time.perf_counter() - start, 3)
    return run


def _run_dask(study, todo, out, run, bar, *, workers, scheduler) -> None:
    import logging

    from distributed import Client, LocalCluster, as_completed

    if scheduler is not None:
        client = Client(scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    try:
        futures = {
            client.submit(run_cell, study, cell, key=f"mmmcal-cell-{cell.id}", pure=False): cell
            for cell in todo
        }
        for future in as_completed(futures):
            cell = futures[future]
            try:
                frame = future.result()
            except Exception as err:  # recorded; retried by the next run
                _record_failure(out, cell, err, run)
            else:
                _write_cell(out, cell, frame)
                run.finished.append(cell.id)
            future.release()
            bar.advance(cell)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class _Progress:
    """A rich progress bar over all cells (finished ones count from the start)."""

    def __init__(self, enabled: bool, run: StudyRun):
        self.enabled = enabled
        self.run = run

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            self.progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            self.progress.start()
            self.task = self.progress.add_task(
                "cells", total=self.run.total, completed=self.run.already_done
            )
        return self

    def advance(self, cell: Cell) -> None:
        if self.enabled:
            status = "failed" if cell.id in self.run.failed else "done"
            self.progress.update(self.task, advance=1, description=f"{cell.id} {status}")

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()


# --------------------------------------------------------------------------- summary


def load_cells(out_dir: str | Path) -> pd.DataFrame:
    """All finished cells of a study directory, one row per cell x channel, in study order."""
    files = sorted((Path(out_dir) / "cells").glob("*.parquet"))
    if not files:
        raise StudyError(
            f"{out_dir} has no finished cells (expected {Path(out_dir) / 'cells'}/*.parquet); "
            "run `mmmcal study run` first."
        )
    cells = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    saved = Path(out_dir) / "study.yaml"
    if saved.exists():  # the study's order: scenario, seed, arm as listed
        order = {
            (c.scenario, c.seed, c.arm): i
            for i, c in enumerate(Study.from_dict(yaml.safe_load(saved.read_text())).cells())
        }
        keys = zip(cells["scenario"], cells["seed"], cells["arm"], strict=True)
        rank = [order.get(k, len(order)) for k in keys]
        cells = cells.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)
    return cells


# name -> (column, statistic); errors are medians, coverage is a mean of 0/1.
_METRICS = {
    "share_abs_error": ("share_abs_error", "median"),
    "roas_abs_error": ("roas_abs_error", "median"),
    "roas_rel_error": ("roas_rel_error", "median"),
    "share_coverage": ("share_covered", "mean"),
    "roas_coverage": ("roas_covered", "mean"),
}
_PAIRED = ("share_abs_error", "roas_abs_error", "roas_rel_error")


def _cluster_bootstrap(
    values: np.ndarray, worlds: np.ndarray, strata: np.ndarray, stat: str, rng, n_boot: int
) -> tuple[float, float, float]:
    """Estimate and 90% percentile interval, resampling worlds within each scenario."""
    values = np.asarray(values, dtype=float)
    estimate = float(np.median(values) if stat == "median" else np.mean(values))
    world_ids, world_of_row = np.unique(worlds, return_inverse=True)
    stratum_of_world = pd.Series(strata).groupby(world_of_row).first().to_numpy()
    counts = np.zeros((n_boot, len(world_ids)))
    rows = np.arange(n_boot)[:, None]
    for s in np.unique(stratum_of_world):
        members = np.flatnonzero(stratum_of_world == s)
        draws = members[rng.integers(0, len(members), (n_boot, len(members)))]
        np.add.at(counts, (rows, draws), 1)
    order = np.argsort(values, kind="stable")
    v = values[order]
    weights = counts[:, world_of_row[order]]  # each row weighted by its world's count
    if stat == "mean":
        boots = weights @ v / weights.sum(axis=1)
    else:  # the exact median of the resampled rows, via cumulative weights
        cum = weights.cumsum(axis=1)
        half = cum[:, -1:] / 2
        lower = v[np.argmax(cum >= half, axis=1)]
        upper = v[np.argmax(cum > half, axis=1)]
        boots = (lower + upper) / 2
    lo, hi = np.quantile(boots, [0.05, 0.95])
    return estimate, float(lo), float(hi)


def _rng(seed: int, *key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("|".join(key).encode())])


def _roles(frame: pd.DataFrame, arm: str) -> Iterable[tuple[str, pd.DataFrame]]:
    yield "all", frame
    if arm != UNCALIBRATED:
        for role, tested in (("tested", True), ("untested", False)):
            part = frame[frame["tested"] == tested]
            if len(part):
                yield role, part


def summarize_cells(cells: pd.DataFrame, *, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per arm and channel role: medians and coverage, paired differences, bootstrap CIs.

    Roles: ``tested`` / ``untested`` (the channel's role in that arm) and ``all``; the
    ``uncalibrated`` arm has only ``all``. Metrics per arm x role: ``share_abs_error``,
    ``roas_abs_error``, ``roas_rel_error`` (medians over world x channel), ``share_coverage``
    and ``roas_coverage`` (share of 90% HDIs covering the truth), ``fits_ok`` (share of fits
    with no divergence and R-hat <= 1.01). Paired, per world and channel against the
    ``uncalibrated`` fit of the same world: ``<error>_diff`` (median of arm error minus
    uncalibrated error; negative = calibration helped) and ``<error>_uncalibrated`` (the
    uncalibrated median on the same world x channel pairs). ``lo``/``hi``: 90% bootstrap
    interval resampling worlds (seeds within each scenario), seeded; ``n``: worlds.
    """
    frame = cells.copy()
    frame["world"] = frame["scenario"].astype(str) + "/" + frame["seed"].astype(str)
    base = frame[frame["arm"] == UNCALIBRATED].set_index(["scenario", "seed", "channel"])
    out = []

    def add(arm, role, metric, part, column, stat):
        est, lo, hi = _cluster_bootstrap(
            part[column].to_numpy(dtype=float),
            part["world"].to_numpy(),
            part["scenario"].to_numpy(),
            stat,
            _rng(seed, arm, role, metric),
            n_boot,
        )
        out.append((arm, role, metric, est, lo, hi, part["world"].nunique()))

    arms = dict.fromkeys([UNCALIBRATED, *frame["arm"]])
    for arm in [a for a in arms if (frame["arm"] == a).any()]:
        rows = frame[frame["arm"] == arm]
        for role, part in _roles(rows, arm):
            for metric, (column, stat) in _METRICS.items():
                add(arm, role, metric, part, column, stat)
            if role == "all":
                fit = part.groupby("world").first()
                ok = (fit["divergences"] == 0) & ~(fit["max_rhat"] > 1.01)
                add(arm, role, "fits_ok", fit.assign(ok=ok).reset_index(), "ok", "mean")
        if arm == UNCALIBRATED or base.empty:
            continue
        paired = rows.join(base, on=["scenario", "seed", "channel"], rsuffix="_base", how="inner")
        for metric in _PAIRED:
            paired[f"{metric}_diff"] = paired[metric] - paired[f"{metric}_base"]
        for role, part in _roles(paired, arm):
            if len(part) == 0:
                continue
            for metric in _PAIRED:
                add(arm, role, f"{metric}_diff", part, f"{metric}_diff", "median")
                add(arm, role, f"{metric}_uncalibrated", part, f"{metric}_base", "median")
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def summarize_study(out_dir: str | Path, *, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """:func:`summarize_cells` of every finished cell in a study directory."""
    return summarize_cells(load_cells(out_dir), n_boot=n_boot, seed=seed)


# --------------------------------------------------------------------------- figures and page


def _forest(summary: pd.DataFrame, metrics: list[tuple[str, str]], ref: float, ref_label: str):
    from mmmcal.report.figures import PALETTE, png_base64, subplots

    n_rows = (summary["metric"] == metrics[0][0]).sum()
    fig, axes = subplots(1, len(metrics), figsize=(5.2 * len(metrics), 1.2 + 0.32 * n_rows))
    axes = np.atleast_1d(axes)
    for ax, (metric, title) in zip(axes, metrics, strict=True):
        part = summary[summary["metric"] == metric].iloc[::-1]
        y = np.arange(len(part))
        colors = [PALETTE[("all", "tested", "untested").index(r)] for r in part["role"]]
        for yi, (est, lo, hi), color in zip(
            y, part[["estimate", "lo", "hi"]].to_numpy(), colors, strict=True
        ):
            ax.errorbar(est, yi, xerr=[[est - lo], [hi - est]], fmt="none", ecolor=color, capsize=3)
        ax.scatter(part["estimate"], y, c=colors, zorder=3)
        ax.axvline(ref, color="#888", ls="--", lw=1, label=ref_label)
        ax.set_yticks(y, [f"{a} ({r})" for a, r in zip(part["arm"], part["role"], strict=True)])
        ax.set_title(title, fontsize=10)
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return png_base64(fig)


def write_summary(
    out_dir: str | Path, out: str | Path, *, n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Write ``summary.csv``, ``summary_by_scenario.csv``, figures and ``index.html`` to ``out``.

    Returns the pooled summary (columns ``arm, role, metric, estimate, lo, hi, n``).
    """
    from mmmcal.report.page import render

    cells = load_cells(out_dir)
    summary = summarize_cells(cells, n_boot=n_boot, seed=seed)
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    summary.to_csv(target / "summary.csv", index=False)
    by_scenario = [
        summarize_cells(part, n_boot=n_boot, seed=seed).assign(scenario=label)
        for label, part in cells.groupby("scenario", sort=False)
    ]
    pd.concat(by_scenario, ignore_index=True).to_csv(
        target / "summary_by_scenario.csv", index=False
    )
    figures = []
    specs = [
        (
            "paired_differences",
            "Change in error against the uncalibrated fit (paired by world and channel)",
            [
                ("share_abs_error_diff", "|share error|: arm - uncalibrated"),
                ("roas_rel_error_diff", "|ROAS error| / true ROAS: arm - uncalibrated"),
            ],
            0.0,
            "no change",
            "Median of per-world, per-channel differences with 90% bootstrap intervals over "
            "worlds; left of the line: calibration reduced the error.",
        ),
        (
            "coverage",
            "Do 90% intervals cover the truth?",
            [
                ("share_coverage", "share: 90% HDI coverage"),
                ("roas_coverage", "ROAS: 90% HDI coverage"),
            ],
            NOMINAL_COVERAGE,
            "nominal 0.9",
            "Share of 90% HDIs containing the true value; 90% bootstrap intervals over worlds.",
        ),
        (
            "errors",
            "Median absolute error per arm",
            [("share_abs_error", "|share error|"), ("roas_rel_error", "|ROAS error| / true ROAS")],
            0.0,
            "zero error",
            "Medians over world x channel, with 90% bootstrap intervals over worlds.",
        ),
    ]
    for name, title, metrics, ref, ref_label, note in specs:
        png = _forest(summary, metrics, ref, ref_label)
        (target / f"{name}.png").write_bytes(base64.b64decode(png))
        figures.append({"title": title, "png": png, "note": note})
    worlds = cells[["scenario", "seed"]].drop_duplicates()
    subtitle = (
        f"{len(worlds)} worlds ({', '.join(dict.fromkeys(cells['scenario']))};"
        f" {cells['seed'].nunique()} seeds), arms: {', '.join(dict.fromkeys(cells['arm']))}; "
        f"{len(cells.groupby(['scenario', 'seed', 'arm']))} fitted cells."
    )
    page = render(
        "study.html",
        title=f"Calibration study: {Path(out_dir).name}",
        subtitle=subtitle,
        figures=figures,
        rows=summary.to_dict("records"),
    )
    (target / "index.html").write_text(page, encoding="utf-8")
    return summary
