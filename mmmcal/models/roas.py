"""Media effects parametrised by ROAS, pooled across channels (``ModelSpec.roas_prior``).

With pymc-marketing's priors on saturation coefficients (``saturation_beta ~ HalfNormal``)
nothing stops the media terms from carrying the whole level of the target: a saturated,
always-on channel looks like an intercept, and spend planned against demand looks like
demand. Here the free variable of each channel is its **relative ROAS**

    r_c = ROAS_c / (total target / total spend)

(1: the channel returns what an average unit of spend would need to return to explain all
of the target), so its contribution share is ``r_c * spend share_c`` and the media share is
the spend-weighted mean of ``r``. The scale coefficient (``saturation_beta``; Michaelis-
Menten's ``saturation_alpha``) becomes the deterministic that gives that contribution on
the training data (Meridian's ROI parametrisation):

    beta_c = r_c * spend share_c * sum_t y_t / sum_t f_c(adstock(x_c))_t     (scaled units)

Pooling: ``log r_c = mu + tau * z_c`` with ``mu ~ Normal(log median, median_sd_log)``,
``tau ~ HalfNormal(spread_sd_log)`` and ``z_c ~ Normal(0, 1)``. The assumption is that
channels share a common level of ROAS, so a lift test that pins one channel's ROAS can move
``mu`` and through it the others; ``spread_sd_log`` says how far they may differ. Where the
data speak strongly (spend planned against demand) they outweigh the pool: in the
reference worlds a pinned TV ROAS did not pull the untested channels down.

Experiments as priors (the "prior route"): ``RoasPriorConfig.tests`` adds, per channel, a
factor ``LogNormal(log roas, sd_log)`` on its ROAS (target units per unit of spend), as
Meridian's ROI priors from experiments do. :func:`lift_roas_priors` reads them off a lift
table: a channel's ROAS is its rows' summed ``delta_y`` over their summed ``delta_x``, the
ROAS over the test's window at the tested spend. That is what the prior route takes from a
test: carryover after the window and the curve away from the tested spend are not in it.

The sums are over the training data, held in their own data containers (``roas_*``), so
new spend for a prediction does not change ``beta``; a saved fit stores ``beta``'s draws
and loads as plain pymc-marketing.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from mmmcal.models.components import subclass_saved_as_base

__all__ = [
    "SCALE_PARAMETER",
    "RoasParametrized",
    "RoasSetup",
    "attach_roas",
    "lift_roas_priors",
    "roas_class",
]

# The parameter that scales each saturation family's curve (its contribution is linear in it).
SCALE_PARAMETER = {"logistic": "beta", "hill": "beta", "michaelis_menten": "alpha"}


def lift_roas_priors(lift: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per tested channel, its ROAS measured by the lift rows: ``roas_prior.tests`` entries.

    ``roas = sum(delta_y) / sum(delta_x)`` over the channel's rows (target units per unit
    of spend); ``sd_log = sqrt(sum(sigma^2)) / sum(delta_y)`` (the rows' errors taken as
    independent; the relative standard error is the log scale's sd), at most 5, the bound
    ``roas_prior.tests`` takes (a test that uncertain says next to nothing).
    """
    priors = {}
    for channel, rows in lift.groupby("channel", sort=False):
        lift_y = float(rows["delta_y"].sum())
        spend = float(rows["delta_x"].sum())
        if not (lift_y > 0 and spend > 0):
            raise ValueError(
                f"the lift rows of channel {channel!r} sum to delta_y = {lift_y:g} for "
                f"delta_x = {spend:g}: a ROAS prior needs a positive measured lift for "
                "added spend; use the likelihood route for this test"
            )
        sd_log = float(np.sqrt((rows["sigma"] ** 2).sum())) / lift_y
        priors[str(channel)] = {"roas": lift_y / spend, "sd_log": min(sd_log, 5.0)}
    return priors


@cache
def roas_class(base, family: str):
    """``base`` with ROAS-parametrised scale; it saves (``to_dict``) as ``base`` itself."""
    return subclass_saved_as_base("Roas", RoasParametrized, base, scale=SCALE_PARAMETER[family])


class RoasSetup:
    """What a ROAS-parametrised saturation needs from its MMM: the prior and the adstock."""

    def __init__(self, config, adstock):
        self.config = config
        self.adstock = adstock


def attach_roas(mmm, config) -> None:
    """Give ``mmm``'s ROAS-parametrised saturation its prior and the MMM's adstock."""
    mmm.saturation.roas_setup = RoasSetup(config, mmm.adstock)


def _training_sums(model, spend: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(spend share per (*dims, channel), scaled target total per dims, spend per target).

    Shares and totals over the dates of the training data (``spend``: its channel data,
    original units); spend per target (all spend over all target) turns a ROAS into a
    relative ROAS.
    """
    target = np.nan_to_num(np.asarray(model["target_data"].get_value(), dtype=float))
    target_scale = np.asarray(model["target_scale"].get_value(), dtype=float)
    spend_total = spend.sum(axis=0)  # (*dims, channel)
    share = spend_total / np.maximum(spend_total.sum(axis=-1, keepdims=True), 1e-300)
    target_scaled = (target / target_scale).sum(axis=0)  # (*dims,)
    spend_per_target = float(spend.sum() / max(target.sum(), 1e-300))
    return share, target_scaled, spend_per_target


class RoasParametrized:
    """Mixin for a pymc-marketing saturation: sample relative ROAS, not the scale.

    Needs ``roas_setup`` (a :class:`RoasSetup`), set by :mod:`mmmcal.models.builder` on
    the MMM's saturation; without it (a model loaded from disk) it is the base class.
    """

    scale: str
    roas_setup: RoasSetup | None = None

    def apply(self, x, *, dims=None, core_dim=None, idx=None):
        setup = self.roas_setup
        if setup is None or idx is not None:
            return super().apply(x, dims=dims, core_dim=core_dim, idx=idx)
        import pymc as pm
        import pymc.dims as pmd

        model = pm.modelcontext(None)
        names = self.variable_mapping
        priors = self.function_priors
        shape_params = {
            p: priors[p].create_variable(names[p], xdist=True) for p in names if p != self.scale
        }
        unit = self.function(x, dim=core_dim, **shape_params, **{self.scale: 1.0})
        spend = np.nan_to_num(np.asarray(model["channel_data"].get_value(), dtype=float))
        on_training = self.function(
            self._training_adstocked(model, spend, setup.adstock),
            dim=core_dim,
            **shape_params,
            **{self.scale: 1.0},
        )
        share, target_total, spend_per_target = _training_sums(model, spend)
        relative = self._relative_roas(model, spend_per_target, setup.config)
        share, target_total = self._sum_data(model, share, target_total)
        curve_total = on_training.sum(core_dim)
        scale = pmd.Deterministic(
            names[self.scale], relative * share * target_total / (curve_total + 1e-12)
        )
        return unit * scale

    def _training_adstocked(self, model, spend: np.ndarray, adstock):
        """The training spend (scaled), adstocked with the model's adstock variables."""
        import pymc.dims as pmd
        from pytensor.xtensor import as_xtensor

        scale = np.asarray(model["channel_scale"].get_value(), dtype=float)
        data = pmd.Data("roas_channel_data", spend / scale, dims=model["channel_data"].dims)
        params = {
            p: as_xtensor(model[v], dims=model.named_vars_to_dims.get(v, ()))
            for p, v in adstock.variable_mapping.items()
        }
        return adstock.function(data, dim="date", **params)

    def _sum_data(self, model, share: np.ndarray, target_total: np.ndarray):
        """Spend shares and scaled target totals of the training data, as model data."""
        import pymc.dims as pmd

        keep = tuple(d for d in model["channel_data"].dims if d != "date")
        share_data = pmd.Data("roas_spend_share", share, dims=keep)
        total_data = pmd.Data(
            "roas_target_total", target_total, dims=tuple(d for d in keep if d != "channel")
        )
        return share_data, total_data

    def _relative_roas(self, model, spend_per_target: float, config):
        """``r`` (dims channel) from the pooled prior, with the prior route's test factors."""
        import pymc.dims as pmd
        from pytensor.xtensor import as_xtensor
        from pytensor.xtensor import math as xmath

        mu = pmd.Normal("roas_log_mu", np.log(config.median), config.median_sd_log)
        tau = pmd.HalfNormal("roas_log_tau", config.spread_sd_log)
        z = pmd.Normal("roas_log_z", 0.0, 1.0, dims="channel")
        log_r = mu + tau * z
        relative = pmd.Deterministic("roas_relative", xmath.exp(log_r))
        pmd.Deterministic("roas", relative / spend_per_target)
        if config.tests:
            channels = list(model.coords["channel"])
            pick = np.array([[c == t for c in channels] for t in config.tests], dtype=float)
            tested = (log_r * as_xtensor(pick, dims=("roas_test", "channel"))).sum("channel")
            centre = np.array([np.log(t.roas * spend_per_target) for t in config.tests.values()])
            sd = np.array([t.sd_log for t in config.tests.values()])
            # an observed Normal: the factor exp(-(log r - log r_test)^2 / (2 sd^2)) on log r
            model.add_coord("roas_test", list(config.tests))
            pmd.Normal(
                "roas_test_prior",
                mu=tested,
                sigma=as_xtensor(sd, dims=("roas_test",)),
                observed=as_xtensor(centre, dims=("roas_test",)),
                dims="roas_test",
            )
        return relative
