"""Study specs: scenarios x seeds x calibration arms, validated before any world is made.

A study file (YAML) names scenario presets (with optional overrides), seeds, sampler
settings and *arms*: ways to calibrate (no test, one test, a test per channel, a biased or
over-confident test, geo-lift tests, another likelihood, another engine). A *cell* is one
world (scenario, seed) fitted with one arm. Bad fields fail here, named:
``arms.1.tests.0.channel: 'radio' is not a channel of scenario 'reference'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from mmmcal.experiments.conversion_lift import LiftTestDesign
from mmmcal.experiments.geolift import GeoLiftDesign
from mmmcal.files import InputFileError, read_yaml_file
from mmmcal.models.bayes import SamplerConfig
from mmmcal.models.ridge import RidgeConfig
from mmmcal.models.spec import ModelSpec
from mmmcal.options import ENGINES
from mmmcal.specs import FrozenSpec, SpecError, format_validation_error
from mmmcal.world.presets import get_preset
from mmmcal.world.scenario import Scenario

__all__ = [
    "AdviceSettings",
    "UNCALIBRATED",
    "Arm",
    "Cell",
    "ScenarioEntry",
    "SeedRange",
    "Study",
    "StudyError",
    "StudySampler",
    "load_study",
]

UNCALIBRATED = "uncalibrated"


class StudyError(SpecError):
    """A study file or study directory is unusable; the message names the field or file."""


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
    ``route``: how the tests enter the model: ``likelihood`` (lift-likelihood terms) or
    ``prior`` (each tested channel's measured ROAS as a ``roas_prior.tests`` prior, the
    prior route; :func:`mmmcal.models.roas.lift_roas_priors`).
    """

    name: str = Field(pattern=_LABEL)
    engine: str = "bayes"
    tests: tuple[LiftTestDesign, ...] = ()
    geolift: tuple[GeoLiftDesign, ...] = ()
    bias: float = Field(0.0, ge=-0.99, le=10)
    sigma_factor: float = Field(1.0, gt=0, le=1000)
    likelihood: Literal["auto", "window", "steady_state"] = "auto"
    lift_dist: Literal["normal", "studentt", "gamma"] = "normal"
    route: Literal["likelihood", "prior"] = "likelihood"
    scenarios: tuple[str, ...] | None = Field(
        None, description="scenario labels this arm runs on (default: all)"
    )
    model: dict[str, Any] = Field(
        default_factory=dict,
        description="model-spec changes of this arm, over the study's and the scenario's",
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
        if self.route == "prior" and not (calibrated and self.engine == "bayes"):
            raise ValueError(
                f"arm {self.name!r}: `route: prior` turns tests into ROAS priors of the bayes "
                "engine; give the arm `tests` and leave `engine` at bayes"
            )
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


class AdviceSettings(FrozenSpec):
    """An advice study: the ``uncalibrated`` fit of each world values every other arm's test.

    Every other arm is one candidate test (:class:`mmmcal.advise.candidates.Candidate`);
    ``rank_by``, ``n_draws`` and ``n_outcomes`` go to :func:`mmmcal.advise.advice.advise`.
    """

    rank_by: Literal["share", "roas", "media_share", "regret"] = "share"
    n_draws: int = Field(1000, ge=50, le=20_000)
    n_outcomes: int = Field(64, ge=8, le=1000)


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
    advise: AdviceSettings | None = Field(
        None, description="value every arm's test from the uncalibrated fit (an advice study)"
    )

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
                self.model_spec(built[entry.label], entry.label)
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
                if arm.model:
                    try:
                        self.model_spec(scenario, label, arm.name)
                    except SpecError as err:
                        problems.append(f"arms.{i}.model: " + str(err).replace("\n", "\n    "))
                groups: dict[str, tuple[LiftTestDesign | GeoLiftDesign, ...]] = {
                    "tests": arm.tests,
                    "geolift": arm.geolift,
                }
                for kind, designs in groups.items():
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

    @model_validator(mode="after")
    def _advice_arms(self) -> Study:
        """In an advice study every arm but ``uncalibrated`` is one plain candidate test."""
        if self.advise is None:
            return self
        from mmmcal.advise.candidates import Candidate

        problems = []
        for i, arm in enumerate(self.arms):
            if arm.name == UNCALIBRATED:
                continue
            plain = arm.engine == "bayes" and arm.route == "likelihood" and not arm.geolift
            plain = plain and arm.bias == 0 and arm.sigma_factor == 1 and arm.scenarios is None
            if len(arm.tests) != 1 or not plain:
                problems.append(
                    f"arms.{i} ({arm.name!r}): an advice study's arm is one conversion-lift "
                    "test on the bayes engine, on every scenario, with no bias or sigma_factor"
                )
                continue
            try:
                Candidate.from_design(arm.tests[0])
            except ValueError as err:
                problems.append(f"arms.{i}.tests.0: {err}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def candidate_arms(self) -> list[Arm]:
        """The arms an advice study values: all but ``uncalibrated``."""
        return [a for a in self.arms if a.name != UNCALIBRATED]

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

    def model_spec(self, scenario: Scenario, label: str, arm: str | None = None) -> ModelSpec:
        """The model spec fitted to worlds of ``scenario`` (the study's scenario ``label``).

        Changes apply in order: the study's ``model``, the scenario's, then the arm's.
        """
        entry = next(s for s in self.scenarios if s.label == label)
        changes = {**self.model, **entry.model, **(self.arm(arm).model if arm else {})}
        return ModelSpec.for_scenario(scenario, **changes)

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
    try:
        data = read_yaml_file(path, "study file")
    except (InputFileError, FileNotFoundError) as err:
        raise StudyError(str(err)) from None
    return Study.from_dict(data)
