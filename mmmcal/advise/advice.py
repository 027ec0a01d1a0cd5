"""``advise``: candidate experiments ranked by what they would teach a fit, before they run.

For each candidate (:mod:`mmmcal.advise.candidates`) under a Bayesian fit's posterior:

- the lift it will measure: the model-implied lift per period of its window (mmmcal's
  window lift, the same as its row would get in a calibrated fit), per draw;
- its standard error: the candidate's ``sigma``, or ``precision`` x the expected lift, or
  by default the target's residual noise for a comparison of two means of ``weeks``
  periods (``noise_sd * sqrt(2 / weeks)``); its minimum detectable effect (5% two-sided,
  80% power) and its power under the posterior;
- its cost: extra spend over the test (negative: spend saved) and the expected change in
  the target (negative: sales lost by going dark);
- its value (:mod:`mmmcal.advise.preposterior`): the expected narrowing of each channel's
  90% share and ROAS intervals and of the media share's, and the expected reduction of the
  budget decision's loss (value of information, as a share of the gain a best split could
  make over today's).

Candidates are ranked by ``rank_by`` (``share``: mean narrowing of the channels' share
intervals, in share points; ``roas``: mean relative narrowing of their ROAS intervals;
``media_share``; ``regret``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mmmcal.advise.candidates import Candidate, check_candidates, default_candidates
from mmmcal.advise.preposterior import interval_widths, preposterior
from mmmcal.decide.allocate import spend_bounds, today_spend
from mmmcal.decide.solver import SpendGrid, best_split, best_totals
from mmmcal.evaluate.checks import is_bayesian
from mmmcal.experiments.conversion_lift import planned_row
from mmmcal.models.learned_state import check_fitted
from mmmcal.options import ADVICE_RANKS

__all__ = ["Advice", "advise", "candidate_rows", "share_roas_draws"]

Z_ALPHA, Z_POWER = 1.959964, 0.841621  # 5% two-sided test, 80% power
GRID_STEPS = 200


@dataclass(frozen=True)
class Advice:
    """Candidates ranked by ``rank_by``; ``table`` has one row per candidate, best first."""

    model: str
    rank_by: str
    table: pd.DataFrame

    @property
    def best(self) -> str:
        """The label of the advised candidate."""
        return str(self.table["candidate"].iloc[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "rank_by": self.rank_by,
            "advised": self.best,
            "candidates": self.table.to_dict(orient="records"),
        }


def candidate_rows(model: Any, candidates: Sequence[Candidate]) -> pd.DataFrame:
    """The lift rows the candidates would report on ``model``'s data (no outcome yet)."""
    channels = list(model.spec.channel_columns)
    today = today_spend(model)
    dates = pd.DatetimeIndex(sorted(pd.to_datetime(model.data_.X[model.spec.date_column]).unique()))
    rows = [
        planned_row(c.design_for_simulator(), dates, float(today[channels.index(c.channel)]))
        for c in candidates
    ]
    return pd.DataFrame(rows)


def share_roas_draws(model: Any, n_draws: int) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's share of the target and ROAS over ``n_draws`` thinned draws.

    Two (draw, channel) arrays in spec order (:func:`mmmcal.report.posterior.thin`'s draws;
    all of them when ``n_draws`` is at least their number).
    """
    from mmmcal.report.posterior import thin_index

    channels = list(model.spec.channel_columns)
    totals = model.channel_contributions().sum("date").stack(sample=("chain", "draw"))
    totals = totals.transpose("sample", "channel").sel(channel=channels).to_numpy()
    totals = totals[thin_index(model, n_draws)]
    return totals / model.target_total(), totals / model.spend_totals()[channels].to_numpy(
        dtype=float
    )


def _quantities(model: Any, n_draws: int) -> tuple[np.ndarray, list[str]]:
    """Per draw: every channel's share and ROAS, and the media share; (draw, quantity)."""
    channels = list(model.spec.channel_columns)
    shares, roas = share_roas_draws(model, n_draws)
    names = [f"share:{c}" for c in channels] + [f"roas:{c}" for c in channels] + ["media_share"]
    return np.column_stack([shares, roas, shares.sum(axis=1)]), names


@dataclass(frozen=True)
class _Decision:
    curves: np.ndarray  # (draw, channel, step)
    steps: np.ndarray  # (channel,) the recommended split on the grid
    available: float  # expected gain of each draw's best split over today's (target units)
    regret: float  # the recommendation's expected loss over ``available``


def _decision(model, n_draws: int, budget, bounds) -> _Decision:
    from mmmcal.report.posterior import response_draws

    channels = list(model.spec.channel_columns)
    today = today_spend(model)
    lo, hi = spend_bounds(channels, today, bounds)
    grid = SpendGrid(tuple(channels), lo, hi, today.sum() if budget is None else budget, GRID_STEPS)
    curves = np.transpose(response_draws(model, grid.spend(), n_draws), (0, 2, 1))
    now = response_draws(model, today[None], n_draws)[:, 0].sum(axis=-1)
    _, steps = best_split(curves.mean(axis=0))
    per_draw_best = best_totals(curves)
    current = curves[:, np.arange(len(channels)), steps].sum(axis=-1)
    available = float((per_draw_best - now).mean())
    regret = float((per_draw_best - current).mean()) / available if available > 0 else np.nan
    return _Decision(curves, steps, available, regret)


def _sigmas(model, candidates, lift: np.ndarray) -> np.ndarray:
    """Each candidate's standard error per period (target units)."""
    from mmmcal.report.posterior import scales, thin

    noise_sd = float(thin(model, "y_sigma").mean()) * scales(model)[1]
    out = []
    for k, c in enumerate(candidates):
        if c.sigma is not None:
            out.append(c.sigma)
        elif c.precision is not None:
            out.append(c.precision * max(abs(float(lift[:, k].mean())), 1e-12))
        else:
            out.append(noise_sd * np.sqrt(2.0 / c.weeks))
    return np.asarray(out)


def advise(
    model: Any,
    candidates: Sequence[Candidate] | None = None,
    *,
    rank_by: str = "share",
    n_draws: int = 1000,
    n_outcomes: int = 64,
    budget: float | None = None,
    bounds: Mapping[str, Mapping[str, float]] | None = None,
    seed: int = 0,
    refit: bool = False,
) -> Advice:
    """Value each candidate test under ``model``'s posterior and rank them (best first).

    ``candidates``: default two per channel (:func:`default_candidates`); ``n_draws``
    evenly spaced posterior draws; ``n_outcomes`` hypothetical outcomes per candidate;
    ``budget``/``bounds`` as :func:`mmmcal.optimize_budget` (the decision's value).
    ``refit``: where most outcomes' weights degenerate (Pareto ``k`` or ESS, see
    :mod:`mmmcal.advise.preposterior`), refit the model with the candidate's row at its
    expected outcome and take the intervals' narrowing from that fit instead of the
    linear-Gaussian update (a fit per such candidate; ``update`` names which was used).
    National Bayesian fits; errors name the candidate row and field before anything is
    computed.
    """
    check_fitted(model, "idata_")
    if not is_bayesian(model) or model.spec.geo_column:
        raise ValueError(
            "Advice needs a national Bayesian fit (engine bayes, no geo_column): it updates "
            "the posterior's draws, which the baseline engines do not have."
        )
    if rank_by not in ADVICE_RANKS:
        raise ValueError(f"`rank_by` {rank_by!r} must be one of {list(ADVICE_RANKS)}.")
    from mmmcal.report.posterior import implied_lift_draws

    channels = list(model.spec.channel_columns)
    candidates = list(candidates) if candidates is not None else default_candidates(channels)
    n_dates = model.data_.X[model.spec.date_column].nunique()
    check_candidates(candidates, channels, today_spend(model), n_dates)
    rows = candidate_rows(model, candidates)
    lift = implied_lift_draws(model, rows, n_draws)  # (draw, candidate)
    sigmas = _sigmas(model, candidates, lift)
    q, names = _quantities(model, n_draws)
    decision = _decision(model, n_draws, budget, bounds)
    now = interval_widths(q)
    records = []
    for k, c in enumerate(candidates):
        # The same stream for every candidate (common random numbers): their values differ
        # by what the tests would teach, not by which outcomes each happened to draw.
        rng = np.random.default_rng(seed)
        pre = preposterior(
            lift[:, k], sigmas[k], q, decision.curves, decision.steps,
            n_outcomes=n_outcomes, rng=rng,
        )  # fmt: skip
        after, update = pre.widths.mean(axis=0), _update_name(pre.linear.mean())
        if refit and pre.linear.mean() > 0.5:
            after, update = (
                _refit_widths(model, rows.iloc[k], lift[:, k], sigmas[k], n_draws),
                "refit",
            )
        records.append(
            _record(c, rows.iloc[k], lift[:, k], sigmas[k], pre, (now, after), names, decision)
            | {"update": update}
        )
    table = pd.DataFrame(records)
    table = table.sort_values(f"value_{rank_by}", ascending=False, kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table["reason"] = [_reason(r, rank_by) for r in table.to_dict(orient="records")]
    return Advice(model=model.name, rank_by=rank_by, table=table.reset_index(drop=True))


def _update_name(linear_share: float) -> str:
    if linear_share == 0:
        return "importance"
    return "linear" if linear_share == 1 else f"importance, linear for {linear_share:.0%}"


def _refit_widths(model, row: pd.Series, lift: np.ndarray, sigma: float, n_draws: int):
    """Interval widths of the quantities after refitting with the row at its expected lift."""
    from mmmcal.lift.table import union_lift
    from mmmcal.models.bayes import CalibratedMMM

    test = row.to_frame().T.assign(delta_y=float(lift.mean()), sigma=float(sigma))
    table = union_lift([model.lift, test.assign(source="advice-refit")])
    data = model.data_.X.assign(**{model.spec.target_column: model.data_.y.to_numpy()})
    again = CalibratedMMM(
        model.spec,
        table,
        likelihood=model.likelihood,
        lift_dist=model.lift_dist,
        sampler=model.sampler,
        name=f"{model.name} + {row['test_id']}",
    ).fit(data)
    return interval_widths(_quantities(again, n_draws)[0])


def _record(c: Candidate, row, lift, sigma, pre, widths, names, decision: _Decision) -> dict:
    """One candidate's row of the advice table; ``widths``: (now, after) per quantity."""
    from scipy.stats import norm

    now, after = widths
    cut = dict(zip(names, now - after, strict=True))
    rel = dict(zip(names, (now - after) / np.where(now > 0, now, np.nan), strict=True))
    share = [n for n in names if n.startswith("share:")]
    roas = [n for n in names if n.startswith("roas:")]
    z = lift / sigma
    power = float((norm.cdf(z - Z_ALPHA) + norm.cdf(-z - Z_ALPHA)).mean())
    gain = pre.decision_gain.mean()
    value_regret = gain / decision.available if decision.available > 0 else np.nan
    out = {
        "candidate": c.label,
        "channel": c.channel,
        "design": c.design,
        "weeks": c.weeks,
        "spend_change": c.change,
        "x": float(row["x"]),
        "delta_x": float(row["delta_x"]),
        "expected_lift": float(lift.mean()),
        "sigma": float(sigma),
        "mde": (Z_ALPHA + Z_POWER) * float(sigma),
        "power": power,
        "extra_spend": float(row["delta_x"]) * c.weeks,
        "expected_target_change": float(lift.mean()) * c.weeks,
        "value_share": float(np.mean([cut[n] for n in share])),
        "value_roas": float(np.nanmean([rel[n] for n in roas])),
        "value_media_share": float(cut["media_share"]),
        "value_regret": float(value_regret),
        "regret_now": decision.regret,
    }
    for n in share + roas:
        out[f"narrowing_{n.replace(':', '_')}"] = float(rel[n])
    out["pareto_k"] = float(np.median(pre.pareto_k))
    out["weights_ess"] = float(np.median(pre.ess))
    out["linear_update_share"] = float(pre.linear.mean())
    return out


def _reason(r: dict, rank_by: str) -> str:
    """One line on why a candidate ranks where it does."""
    shares = {
        k.removeprefix("narrowing_share_"): v for k, v in r.items() if "narrowing_share_" in k
    }
    channel, narrowing = max(shares.items(), key=lambda kv: kv[1])
    power = f"power {r['power']:.2f}"
    cost = (
        f"{r['extra_spend']:+,.0f} spend, {r['expected_target_change']:+,.0f} target over "
        f"{r['weeks']} periods"
    )
    if narrowing < 0.05:
        lead = "little to learn: no channel's share interval narrows by 5%"
    else:
        lead = f"narrows {channel}'s share interval by {narrowing:.0%}"
    if rank_by == "regret":
        lead += f"; cuts the budget decision's expected loss by {r['value_regret']:.2f}"
    weak = r["power"] < 0.8
    return f"{lead}; {power}{' (underpowered)' if weak else ''}; {cost}"
