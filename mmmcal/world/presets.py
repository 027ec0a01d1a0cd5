"""Built-in scenarios: the reference world of the published walkthrough and its variants.

``reference`` reproduces the walkthrough's numbers (``shared/REFERENCE_SCENARIO.md``); the
others change one thing each: geos, TV's carryover, the confounding, TV's curve family, every
channel's curve family, the demand proxy's quality, which channels follow demand. The
misspecified worlds (``hill-tv``, ``hill-all``, ``weibull-tv``) have truths that a model with
logistic saturation and geometric adstock (mmmcal's default) cannot represent; their media
shares match the reference world's within 0.01, so errors compare across families.
"""

from __future__ import annotations

from pathlib import Path

from mmmcal.world.scenario import (
    AdstockSpec,
    ChannelSpec,
    GeometricAdstockSpec,
    GeoSpec,
    HillSaturationSpec,
    LogisticSaturationSpec,
    Scenario,
    ScenarioError,
    SpendSpec,
    WeibullAdstockSpec,
)

__all__ = ["get_preset", "load_scenario", "preset_names"]


def _reference_channels(tv_adstock: AdstockSpec | None = None) -> tuple[ChannelSpec, ...]:
    return (
        ChannelSpec(
            name="tv",
            beta=350.0,
            adstock=tv_adstock or GeometricAdstockSpec(alpha=0.5, l_max=8),
            saturation=LogisticSaturationSpec(lam=1.5),
            spend=SpendSpec(per_demand=10.0, noise_sd=0.1),
        ),
        ChannelSpec(
            name="social",
            beta=150.0,
            adstock=GeometricAdstockSpec(alpha=0.25, l_max=8),
            saturation=LogisticSaturationSpec(lam=2.5),
            spend=SpendSpec(per_demand=15.0, noise_sd=0.1),
        ),
        ChannelSpec(
            name="search",
            beta=50.0,
            adstock=GeometricAdstockSpec(alpha=0.05, l_max=8),
            saturation=LogisticSaturationSpec(lam=3.5),
            spend=SpendSpec(per_demand=20.0, noise_sd=0.1),
        ),
    )


def _replanned(channel: ChannelSpec, **spend: float) -> ChannelSpec:
    """``channel`` with its spend plan's fields replaced (``SpendSpec`` names)."""
    return channel.model_copy(update={"spend": channel.spend.model_copy(update=spend)})


def _reference() -> Scenario:
    return Scenario(
        name="reference",
        description=(
            "Three-year weekly national world of the published lift-test calibration walkthrough: "
            "spend planned against demand, demand seen only through a noisy proxy."
        ),
        channels=_reference_channels(),
    )


def _misspecified(ref: Scenario) -> tuple[Scenario, ...]:
    """Worlds whose truth lies outside the default model's curve and carryover families."""
    # Every channel S-shaped (convex below kappa: marginal ROAS above average ROAS, which no
    # logistic curve allows), betas set so that each channel's share matches the reference.
    hill_all_channels = tuple(
        c.model_copy(update={"beta": beta, "saturation": HillSaturationSpec(slope=s, kappa=k)})
        for c, (beta, s, k) in zip(
            ref.channels, ((180.0, 2.0, 0.35), (140.0, 1.5, 0.4), (50.0, 2.5, 0.3)), strict=True
        )
    )
    hill_all = ref.model_copy(
        update={
            "name": "hill-all",
            "description": (
                "The reference world with S-shaped (Hill) responses on every channel: the "
                "logistic curve family is wrong everywhere."
            ),
            "channels": hill_all_channels,
        }
    )
    weibull = ref.model_copy(
        update={
            "name": "weibull-tv",
            "description": (
                "The reference world with TV's effect peaking a week after airing (Weibull "
                "carryover, lam 3, k 2, 13 lags): geometric adstock has the wrong shape."
            ),
            "channels": _reference_channels(WeibullAdstockSpec(lam=3.0, k=2.0, l_max=13)),
        }
    )
    return hill_all, weibull


def _confounding_variants(ref: Scenario) -> tuple[Scenario, ...]:
    """Worlds that change what the model sees of demand, or which channels follow it."""
    noisy_proxy = ref.model_copy(
        update={
            "name": "noisy-proxy",
            "description": "The reference world with a demand proxy three times as noisy (sd 0.6).",
            "demand": ref.demand.model_copy(update={"proxy_noise_sd": 0.6}),
        }
    )
    tv_only_channels = (
        ref.channels[0],
        *(_replanned(c, demand_elasticity=0.0, noise_sd=0.35) for c in ref.channels[1:]),
    )
    tv_only = ref.model_copy(
        update={
            "name": "tv-only-confounded",
            "description": (
                "The reference world where only TV's spend follows demand; social and search "
                "are planned independently of it."
            ),
            "channels": tv_only_channels,
        }
    )
    return noisy_proxy, tv_only


def _presets() -> dict[str, Scenario]:
    ref = _reference()
    slow = ref.model_copy(
        update={
            "name": "slow-tv",
            "description": "The reference world with slow-decaying TV (alpha 0.85, 13 lags).",
            "channels": _reference_channels(GeometricAdstockSpec(alpha=0.85, l_max=13)),
        }
    )
    weak_channels = tuple(
        _replanned(c, demand_elasticity=0.15, noise_sd=0.35) for c in ref.channels
    )
    weak = ref.model_copy(
        update={
            "name": "weak-confounding",
            "description": "The reference world with spend mostly independent of demand.",
            "channels": weak_channels,
        }
    )
    hill_channels = (
        ref.channels[0].model_copy(
            update={"beta": 175.0, "saturation": HillSaturationSpec(slope=2.0, kappa=0.35)}
        ),
        *ref.channels[1:],
    )
    hill = ref.model_copy(
        update={
            "name": "hill-tv",
            "description": (
                "The reference world with an S-shaped (Hill) TV response: a model with logistic "
                "saturation has the wrong curve family."
            ),
            "channels": hill_channels,
        }
    )
    geo = ref.model_copy(
        update={
            "name": "reference-geo",
            "description": "The reference world split over 40 geos of unequal size.",
            "geo": GeoSpec(),
        }
    )
    every = (ref, geo, slow, weak, hill, *_misspecified(ref), *_confounding_variants(ref))
    return {s.name: Scenario.from_dict(s.to_dict()) for s in every}


def preset_names() -> list[str]:
    """Names of the built-in scenarios."""
    return list(_presets())


def get_preset(name: str) -> Scenario:
    """Return the built-in scenario called ``name``."""
    presets = _presets()
    if name not in presets:
        raise ScenarioError(f"The scenario preset {name!r} must be one of {list(presets)}.")
    return presets[name]


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A preset by name, or a scenario YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        if not path.exists():
            raise ScenarioError(f"Scenario file {str(path)!r} does not exist.")
        return Scenario.from_yaml(path.read_text())
    return get_preset(str(name_or_path))
