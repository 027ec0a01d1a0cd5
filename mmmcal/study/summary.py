"""Study summaries: per arm and channel role, errors and coverage with bootstrap intervals.

:func:`summarize_cells` gives medians of the absolute errors, the coverage of 90% intervals
and paired differences against the ``uncalibrated`` fit of the same world and channel, each
with a 90% interval from a bootstrap that resamples worlds within each scenario.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from mmmcal.study.spec import UNCALIBRATED, Study, StudyError

__all__ = [
    "NOMINAL_COVERAGE",
    "SUMMARY_COLUMNS",
    "cluster_bootstrap",
    "load_cells",
    "summarize_cells",
    "summarize_study",
    "unhealthy_fits",
]

NOMINAL_COVERAGE = 0.9
SUMMARY_COLUMNS = ["arm", "role", "metric", "estimate", "lo", "hi", "n"]


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


def cluster_bootstrap(
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


def _fails_checks(fits: pd.DataFrame) -> pd.Series:
    """Per fit row: a divergence, or R-hat above 1.01 (the opposite of ``fits_ok``)."""
    return (fits["divergences"] > 0) | (fits["max_rhat"] > 1.01)


def _add_decision(add, arm: str, fits: pd.DataFrame) -> None:
    """Per world (one fit each): median true ``regret``, and ``regret_covered``.

    ``regret_covered``: the share of worlds whose true regret lies in the model's 90%
    interval. Cells run before decisions were scored, and geo worlds, have none.
    """
    if "regret" not in fits:
        return
    scored = fits[np.isfinite(fits["regret"].to_numpy(dtype=float))]
    if len(scored):
        add(arm, "all", "regret", scored, "regret", "median")
        covered = scored.assign(regret_covered=scored["regret_covered"].astype(float))
        add(arm, "all", "regret_covered", covered, "regret_covered", "mean")


def summarize_cells(cells: pd.DataFrame, *, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per arm and channel role: medians and coverage, paired differences, bootstrap CIs.

    Roles: ``tested`` / ``untested`` (the channel's role in that arm) and ``all``; the
    ``uncalibrated`` arm has only ``all``. Metrics per arm x role: ``share_abs_error``,
    ``roas_abs_error``, ``roas_rel_error`` (medians over world x channel), ``share_coverage``
    and ``roas_coverage`` (share of 90% HDIs covering the truth), ``fits_ok`` (share of fits
    with no divergence and R-hat <= 1.01), and per world (role ``all``) ``regret`` (median
    true regret of the fit's default budget split) and ``regret_covered``. Paired, per world
    and channel against the ``uncalibrated`` fit of the same world: ``<error>_diff`` (median
    of arm error minus uncalibrated error; negative = calibration helped) and
    ``<error>_uncalibrated`` (the uncalibrated median on the same world x channel pairs).
    ``lo``/``hi``: 90% bootstrap interval resampling worlds (seeds within each scenario),
    seeded; ``n``: worlds.
    """
    frame = cells.copy()
    frame["world"] = frame["scenario"].astype(str) + "/" + frame["seed"].astype(str)
    base = frame[frame["arm"] == UNCALIBRATED].set_index(["scenario", "seed", "channel"])
    out = []

    def add(arm, role, metric, part, column, stat):
        est, lo, hi = cluster_bootstrap(
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
                ok = ~_fails_checks(fit)
                add(arm, role, "fits_ok", fit.assign(ok=ok).reset_index(), "ok", "mean")
                _add_decision(add, arm, fit.reset_index())
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


def unhealthy_fits(cells: pd.DataFrame) -> pd.DataFrame:
    """The fitted cells (scenario, seed, arm) that fail the ``fits_ok`` checks, with why.

    Columns ``scenario, seed, arm, divergences, max_rhat, why``; the same test as the
    summary's ``fits_ok`` (a divergence, or R-hat above 1.01), so a reader can see which
    worlds' numbers the medians include.
    """
    fits = cells.groupby(["scenario", "seed", "arm"], sort=False).first().reset_index()
    out = fits.loc[
        _fails_checks(fits), ["scenario", "seed", "arm", "divergences", "max_rhat"]
    ].copy()
    out["why"] = [
        "; ".join(
            ([f"{int(d)} divergences"] if d > 0 else [])
            + ([f"max R-hat {r:.3f} > 1.01"] if r > 1.01 else [])
        )
        for d, r in zip(out["divergences"], out["max_rhat"], strict=True)
    ]
    return out.reset_index(drop=True)


def summarize_study(out_dir: str | Path, *, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """:func:`summarize_cells` of every finished cell in a study directory."""
    return summarize_cells(load_cells(out_dir), n_boot=n_boot, seed=seed)
