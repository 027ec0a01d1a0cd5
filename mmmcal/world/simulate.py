"""Simulate a world from a scenario: observed data plus the ground truth that made it.

``simulate(scenario, seed)`` is deterministic: the same scenario and seed give identical
data and truth. Each random component draws from its own seeded stream, so changing one
channel's spec does not change the demand path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mmmcal.world.oracle import LiftOracle
from mmmcal.world.scenario import Scenario
from mmmcal.world.truth import Truth, media_response

__all__ = ["World", "load_world", "simulate"]


@dataclass(frozen=True, eq=False)
class World:
    """A simulated world: what an analyst observes (``data``) and what really happened."""

    scenario: Scenario
    seed: int
    data: pd.DataFrame
    truth: Truth

    @property
    def oracle(self) -> LiftOracle:
        return LiftOracle(self)

    @property
    def is_geo(self) -> bool:
        return self.truth.geos is not None

    def national_data(self) -> pd.DataFrame:
        """One row per date: the data summed over geos (the data itself in a national world)."""
        if not self.is_geo:
            return self.data.copy()
        return self.data.drop(columns="geo").groupby("date", as_index=False).sum()

    def truth_dict(self) -> dict:
        return self.truth.to_dict(self.scenario, self.seed)

    def save(self, out_dir: str | Path) -> Path:
        """Write ``data.csv``, ``truth.json``, ``scenario.yaml`` and ``contributions.csv``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        data = self.data.copy()
        data["date"] = data["date"].dt.strftime("%Y-%m-%d")
        data.to_csv(out / "data.csv", index=False)
        (out / "truth.json").write_text(json.dumps(self.truth_dict(), indent=2) + "\n")
        (out / "scenario.yaml").write_text(self.scenario.to_yaml())
        contrib = self.truth.contributions.copy()
        contrib["date"] = contrib["date"].dt.strftime("%Y-%m-%d")
        contrib["demand"] = self.truth.demand.to_numpy()
        contrib.to_csv(out / "contributions.csv", index=False)
        return out


def load_world(world_dir: str | Path) -> World:
    """Rebuild the world saved in ``world_dir`` from its scenario and seed.

    Raises ``ValueError`` if ``data.csv`` no longer matches what the scenario and seed
    produce (the directory was edited by hand or made by another mmmcal version).
    """
    path = Path(world_dir)
    missing = [f for f in ("data.csv", "truth.json", "scenario.yaml") if not (path / f).exists()]
    if missing:
        raise FileNotFoundError(
            f"{path} is not a world directory: missing {missing}. Make one with `mmmcal simulate`."
        )
    scenario = Scenario.from_yaml((path / "scenario.yaml").read_text())
    seed = int(json.loads((path / "truth.json").read_text())["seed"])
    world = simulate(scenario, seed)
    saved = pd.read_csv(path / "data.csv", parse_dates=["date"])
    if saved.shape != world.data.shape or not np.allclose(
        saved.drop(columns=[c for c in ("date", "geo") if c in saved]).to_numpy(dtype=float),
        world.data.drop(columns=[c for c in ("date", "geo") if c in world.data]).to_numpy(
            dtype=float
        ),
        rtol=1e-9,
    ):
        raise ValueError(
            f"{path / 'data.csv'} does not match scenario.yaml with seed {seed}; "
            "re-create the world with `mmmcal simulate`."
        )
    return world


def _demand(scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    d = scenario.demand
    n = scenario.n_periods
    t = np.arange(n)
    trend = 1 + d.trend_per_year * t / 52.0
    phase = rng.uniform(0, 2 * np.pi)
    season = 1 + d.seasonality_amplitude * np.sin(2 * np.pi * t / 52.18 + phase)
    ar = np.zeros(n)
    eps = rng.normal(0, d.ar_sd, n)
    ar[0] = eps[0] / np.sqrt(1 - d.ar_rho**2)
    for i in range(1, n):
        ar[i] = d.ar_rho * ar[i - 1] + eps[i]
    spikes = np.zeros(n)
    n_spikes = int(round(d.spike_share * n))
    where = rng.choice(n, size=n_spikes, replace=False)
    spikes[where] = d.spike_size * rng.uniform(0.8, 1.2, n_spikes)
    shape = trend * season * np.exp(ar) * (1 + spikes)
    return d.level * shape / shape.mean()


def _geo_demand(scenario: Scenario, national: np.ndarray, rng: np.random.Generator):
    """(geo names or None, geo weights summing to 1, demand per geo x period)."""
    if scenario.geo is None:
        return None, np.ones(1), national[None, :]
    g = scenario.geo
    geos = tuple(f"geo_{i + 1:02d}" for i in range(g.n_geos))
    sizes = rng.lognormal(0.0, g.size_sd, g.n_geos)
    weights = np.sort(sizes / sizes.sum())[::-1]
    own = rng.normal(-0.5 * g.demand_noise_sd**2, g.demand_noise_sd, (g.n_geos, len(national)))
    return geos, weights, weights[:, None] * national[None, :] * np.exp(own)


def _channel(spec, demand, weights, level: float, rng_flight, rng):
    """Spend (geo x period, currency), its scale and beta per geo, and its true contribution."""
    s = spec.spend
    n_geo, n = demand.shape
    on = rng_flight.random(n) >= s.off_probability
    relative = (demand / (level * weights[:, None])) ** s.demand_elasticity
    planning = rng.lognormal(-0.5 * s.noise_sd**2, s.noise_sd, (n_geo, n))
    x = s.per_demand * level * weights[:, None] * relative * planning * on[None, :]
    scale = x.max(axis=1)
    beta = spec.beta * weights
    contribution = np.stack([media_response(spec, x[i], scale[i], beta[i]) for i in range(n_geo)])
    return x, scale, beta, contribution


def _long(index: dict, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per geo x period (geo-major), from geo x period arrays."""
    return pd.DataFrame({**index, **{c: v.reshape(-1) for c, v in columns.items()}})


def simulate(scenario: Scenario, seed: int = 0) -> World:
    """Make a world from ``scenario`` with random ``seed``."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    streams = np.random.SeedSequence(int(seed)).spawn(6 + len(scenario.channels))
    rng_demand, rng_geo, rng_proxy, rng_noise, rng_flight, _ = (
        np.random.default_rng(s) for s in streams[:6]
    )
    rng_spend = [np.random.default_rng(s) for s in streams[6:]]
    n = scenario.n_periods
    level = scenario.demand.level
    geos, weights, demand = _geo_demand(scenario, _demand(scenario, rng_demand), rng_geo)
    n_geo = len(weights)
    noise_scale = np.sqrt(weights)[:, None]

    spend, contrib, scales, betas = {}, {}, {}, {}
    for spec, rng in zip(scenario.channels, rng_spend, strict=True):
        c = spec.name
        spend[c], scales[c], betas[c], contrib[c] = _channel(
            spec, demand, weights, level, rng_flight, rng
        )

    baseline = scenario.intercept * weights[:, None] + scenario.demand.effect * demand
    noise = rng_noise.normal(0, scenario.noise_sd, (n_geo, n)) * noise_scale
    target = baseline + sum(contrib.values()) + noise
    proxy_sd = scenario.demand.proxy_noise_sd * level * noise_scale
    proxy = demand + rng_proxy.normal(0, 1, (n_geo, n)) * proxy_sd

    dates = pd.date_range(scenario.start_date, periods=n, freq="7D")
    index = {"date": np.tile(dates, n_geo)}
    if geos is not None:
        index["geo"] = np.repeat(geos, n)
    data = _long(index, {scenario.target: target, **spend, "demand_proxy": proxy})
    contributions = _long(index, {"baseline": baseline, **contrib, "noise": noise})
    truth = Truth(
        target=scenario.target,
        channels=tuple(scenario.channel_names),
        contributions=contributions,
        demand=pd.Series(demand.reshape(-1), name="demand"),
        spend=data[[*index, *scenario.channel_names]].copy(),
        spend_scale=scales,
        beta=betas,
        geos=geos,
    )
    return World(scenario=scenario, seed=int(seed), data=data, truth=truth)
