"""Allowed values of the API's options, in a module that imports nothing heavy.

The modules that take these options check against these lists, and the command line builds
its choices from them (:mod:`mmmcal.cli.choices`), so ``mmmcal --help`` answers without
importing pandas, SciPy or PyMC.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ADVICE_RANKS",
    "TEST_DESIGNS",
    "ENGINES",
    "INGEST_FORMATS",
    "INGEST_FORMAT_ALIASES",
    "LIFT_DISTRIBUTIONS",
    "OBJECTIVES",
    "RANK_LABELS",
    "GeoDesignKind",
    "LikelihoodChoice",
    "SpendChangeKind",
]

# Estimators (mmmcal.models.engines): the Bayesian MMM and the two frequentist baselines.
ENGINES = ("bayes", "ridge", "bounded")
# How a lift row enters the likelihood (mmmcal.lift.windows).
LikelihoodChoice = Literal["auto", "window", "steady_state"]
# Distribution of a lift row's measured lift around the model's (mmmcal.models.lift_likelihood).
LIFT_DISTRIBUTIONS = ("normal", "studentt", "gamma")
# What a budget split maximises (mmmcal.decide.allocate).
OBJECTIVES = ("neutral", "mean_minus_sd")
# Conversion-lift designs an advice candidate may have (mmmcal.advise.candidates).
TEST_DESIGNS = ("heavy-up", "pull-back", "go-dark", "switch-on")
# What advice ranks candidates by (mmmcal.advise.advice).
ADVICE_RANKS = ("share", "roas", "media_share", "regret")
RANK_LABELS = {
    "share": "share interval narrowing (mean over channels, share points)",
    "roas": "ROAS interval narrowing (mean over channels, relative)",
    "media_share": "media share interval narrowing (share points)",
    "regret": "budget decision's expected loss cut (share of the gain available)",
}
# Formats `mmmcal ingest` reads (mmmcal.lift.ingest), and other names of them.
INGEST_FORMATS = ("mmmcal", "robyn", "geolift")
INGEST_FORMAT_ALIASES = {"pymc-marketing": "mmmcal"}
# Geo-lift designs (mmmcal.experiments.geolift): how treated geos are chosen, and the change.
GeoDesignKind = Literal["random", "matched"]
SpendChangeKind = Literal["heavy_up", "go_dark", "switch_on"]
