"""The advice study: advice recorded by each world's uncalibrated cell, then checked.

:func:`advice_record` runs :func:`mmmcal.advise.advice.advise` on the uncalibrated fit with
the study's candidate arms (one test each) and keeps, per candidate, its predicted values,
with each channel's spend and ROAS spread (for the "biggest spender" and channel-score
picks). :func:`advice_metrics` pairs that advice with the candidate arms' fits of the same
world: a candidate's **true improvement** is the uncalibrated fit's mean absolute share
error over channels minus the mean after its test (share points; also ROAS relative error
and the budget split's true regret). Per world:

- ``advised_over_best``: improvement of the advised test over that of the oracle-best
  candidate (worlds where no candidate improves are left out);
- ``beats_random``: the advised test improves more than a candidate picked at random does
  on average (the mean over candidates);
- ``beats_biggest_spender`` / ``beats_channel_score``: more than the first candidate on
  the channel with the most spend / with the widest ROAS posterior relative to its mean (a
  Meridian-style "high variance" channel score); a tie (the same test) counts one half;
- ``rank_correlation``: Spearman's correlation of predicted value and true improvement;
- ``narrowing_predicted`` / ``narrowing_realised`` / ``narrowing_gap``: the advice's expected
  narrowing of the channels' share intervals against the refits' (mean over candidates and
  channels): does the preposterior know how much a test teaches?
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pandas as pd

from mmmcal.study.spec import UNCALIBRATED, Study

__all__ = ["ADVICE_METRICS", "advice_metrics", "advice_record", "world_advice"]

ADVICE_METRICS = (
    "advised_over_best",
    "beats_random",
    "beats_biggest_spender",
    "beats_channel_score",
    "rank_correlation",
)
_VALUES = (
    "value_share",
    "value_roas",
    "value_media_share",
    "value_regret",
    "power",
    "pareto_k",
    "linear_update_share",
)


def advice_record(study: Study, model: Any, seed: int) -> str:
    """The advice of ``model`` (a world's uncalibrated fit) over the study's arms, as JSON.

    ``seed``: the world's, for the hypothetical outcomes.
    """
    from mmmcal.advise.advice import advise, share_roas_draws
    from mmmcal.advise.candidates import Candidate

    settings = study.advise
    assert settings is not None
    arms = study.candidate_arms
    candidates = [
        Candidate.from_design(a.tests[0]).model_copy(update={"name": a.name}) for a in arms
    ]
    start = time.perf_counter()
    advice = advise(
        model,
        candidates,
        rank_by=settings.rank_by,
        n_draws=settings.n_draws,
        n_outcomes=settings.n_outcomes,
        seed=seed,
    )
    table = advice.table.set_index("candidate")
    channels = list(model.spec.channel_columns)
    post = model.idata_.posterior
    _, roas = share_roas_draws(model, post.sizes["chain"] * post.sizes["draw"])  # every draw
    doc = {
        "rank_by": settings.rank_by,
        "advised": advice.best,
        "candidates": {
            a.name: {
                "channel": a.tests[0].channel,
                **{v: float(table.loc[a.name, v]) for v in _VALUES},
                "narrowing": {
                    c: float(table.loc[a.name, f"narrowing_share_{c}"]) for c in channels
                },
            }
            for a in arms
        },
        "spend": dict(zip(channels, model.spend_totals()[channels].astype(float), strict=True)),
        "roas_spread": dict(zip(channels, (roas.std(0) / roas.mean(0)).tolist(), strict=True)),
        "advice_seconds": round(time.perf_counter() - start, 3),
    }
    return json.dumps(doc)


def _world_errors(fits: pd.DataFrame) -> pd.DataFrame:
    """Per fitted cell: mean abs share error, mean ROAS relative error, true regret."""
    return fits.groupby(["scenario", "seed", "arm"], sort=False).agg(
        share=("share_abs_error", "mean"),
        roas=("roas_rel_error", "mean"),
        regret=("regret", "first"),
    )


def _pick(doc: dict[str, Any], order: list[str], key: str) -> str:
    """The first candidate (in study order) on the channel that ranks highest by ``key``."""
    channel = max(doc[key], key=lambda c: doc[key][c])
    return next(a for a in order if doc["candidates"][a]["channel"] == channel)


def _beats(improvement: pd.Series, advised: str, other: str) -> float:
    if advised == other:
        return 0.5
    return float(improvement[advised] > improvement[other])


def world_advice(cells: pd.DataFrame, rank_by: str | None = None) -> pd.DataFrame:
    """One row per world with advice and every candidate fitted: the per-world metrics.

    ``rank_by`` re-ranks the recorded candidates by another of their values (``share``,
    ``roas``, ``media_share``, ``regret``) than the study's, to compare rankings on the
    same fits.
    """
    from scipy.stats import spearmanr

    errors = _world_errors(cells)
    rows = []
    for (scenario, seed), part in cells.groupby(["scenario", "seed"], sort=False):
        base = part[part["arm"] == UNCALIBRATED]
        if base.empty or "advice" not in base or not isinstance(base["advice"].iloc[0], str):
            continue
        doc = json.loads(base["advice"].iloc[0])
        if rank_by is not None:
            values = {a: float(v[f"value_{rank_by}"]) for a, v in doc["candidates"].items()}
            doc |= {"rank_by": rank_by, "advised": max(values, key=lambda a: values[a])}
        order = list(doc["candidates"])
        world = errors.loc[(scenario, seed)]
        if not set(order) <= set(world.index):
            continue  # a candidate of this world is not fitted yet
        row: dict[str, Any] = {"scenario": scenario, "seed": seed}
        for metric in ("share", "roas", "regret"):
            row |= _improvements(world, order, doc, metric)
        row |= _narrowing(part, order, doc)
        rows.append(row)
    out = pd.DataFrame(rows)
    if len(out):
        out["rank_correlation"] = [
            spearmanr(p, t).statistic if np.ptp(p) > 0 and np.ptp(t) > 0 else np.nan
            for p, t in zip(out.pop("_predicted"), out.pop("_true"), strict=True)
        ]
    return out


def _narrowing(part: pd.DataFrame, order: list[str], doc: dict) -> dict:
    """Predicted against realised narrowing of the share intervals, over candidates x channels.

    Realised: 1 - (the refit's 90% HDI width) / (the uncalibrated fit's), per channel.
    Records written before narrowing was kept have none (NaN).
    """
    if "narrowing" not in doc["candidates"][order[0]]:
        return dict.fromkeys(("narrowing_predicted", "narrowing_realised", "narrowing_gap"), np.nan)
    width = (part["share_hi"] - part["share_lo"]).to_numpy()
    widths = pd.Series(width, index=pd.MultiIndex.from_frame(part[["arm", "channel"]]))
    predicted, realised = [], []
    for arm in order:
        for channel, value in doc["candidates"][arm]["narrowing"].items():
            predicted.append(value)
            realised.append(1 - widths[(arm, channel)] / widths[(UNCALIBRATED, channel)])
    p, r = np.array(predicted), np.array(realised)
    return {
        "narrowing_predicted": p.mean(),
        "narrowing_realised": r.mean(),
        "narrowing_gap": float(np.mean(p - r)),
    }


def _improvements(world: pd.DataFrame, order: list[str], doc: dict, metric: str) -> dict:
    """One error metric's improvements and comparisons in one world (suffix for non-share)."""
    improvement = world.loc[UNCALIBRATED, metric] - world.loc[order, metric]
    advised = doc["advised"]
    best = improvement.idxmax()
    sfx = "" if metric == "share" else f"_{metric}"
    out = {
        f"advised{sfx}": advised,
        f"advised_improvement{sfx}": improvement[advised],
        f"best_improvement{sfx}": improvement[best],
        f"random_improvement{sfx}": improvement.mean(),
        f"advised_over_best{sfx}": improvement[advised] / improvement[best]
        if improvement[best] > 0
        else np.nan,
        f"beats_random{sfx}": float(improvement[advised] > improvement.mean()),
        f"beats_biggest_spender{sfx}": _beats(improvement, advised, _pick(doc, order, "spend")),
        f"beats_channel_score{sfx}": _beats(improvement, advised, _pick(doc, order, "roas_spread")),
    }
    if metric == "share":
        out["_predicted"] = [doc["candidates"][a][f"value_{doc['rank_by']}"] for a in order]
        out["_true"] = improvement[order].to_numpy()
    return out


def advice_metrics(
    cells: pd.DataFrame, *, n_boot: int = 2000, seed: int = 0, rank_by: str | None = None
) -> pd.DataFrame:
    """The advice study's summary rows (``arm`` advice, ``role`` all), with bootstrap CIs.

    Ratios and correlations are medians over worlds, the ``beats_*`` shares are means, each
    with a 90% interval resampling worlds within scenarios; ``rank_by`` as
    :func:`world_advice`.
    """
    from mmmcal.study.summary import SUMMARY_COLUMNS, cluster_bootstrap

    worlds = world_advice(cells, rank_by)
    out = []
    if worlds.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    rng = np.random.default_rng(seed)
    ids = (worlds["scenario"] + "|" + worlds["seed"].astype(str)).to_numpy()
    prefixes = ("advised", "beats", "best", "random", "rank", "narrowing")
    names = [c for c in worlds.columns if c.split("_")[0] in prefixes]
    for name in names:
        if worlds[name].dtype == object:
            continue
        ok = np.isfinite(worlds[name].to_numpy(dtype=float))
        if not ok.any():
            continue
        stat = "mean" if name.startswith("beats_") else "median"
        est, lo, hi = cluster_bootstrap(
            worlds.loc[ok, name].to_numpy(dtype=float),
            ids[ok],
            worlds.loc[ok, "scenario"].to_numpy(),
            stat,
            rng,
            n_boot,
        )
        out.append(["advice", "all", name, est, lo, hi, int(ok.sum())])
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)
