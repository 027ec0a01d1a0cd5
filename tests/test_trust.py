"""What to trust without truth (``mmmcal.evaluate.trust``): each check fires and stays quiet.

The confounding factor and the lift-test check read the small stored fits
(``tests/data/fits/``, no sampling); the share checks read synthetic posteriors in a
minimal fake estimator, so their thresholds are tested exactly.
"""

import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mmmcal import load_fit
from mmmcal.evaluate.trust import trust_table

FITS = Path(__file__).parent / "data" / "fits"
CHANNELS = ("tv", "social", "search")
TV_TEST = pd.DataFrame(
    [{"test_id": "t1", "channel": "tv", "x": 0.0, "delta_x": 100.0, "delta_y": 10.0, "sigma": 1.0}]
)


class FakeFit:
    """A fit with given share draws (normal, of a total target of 1000) and implied lifts."""

    def __init__(self, name, shares, lift=None, implied=(10.0, 1.0), seed=0):
        self.name, self.lift = name, lift
        self.spec = SimpleNamespace(channel_columns=CHANNELS, dims=())
        rng = np.random.default_rng(seed)
        draws = np.stack([rng.normal(m, sd, (2, 200)) for m, sd in shares.values()], axis=-1)
        per_date = np.repeat(draws[:, :, None, :] * 1000 / 10, 10, axis=2)
        self._contributions = xr.DataArray(
            per_date, dims=("chain", "draw", "date", "channel"), coords={"channel": list(shares)}
        )
        self._implied = rng.normal(*implied, (400, 1))

    def channel_contributions(self):
        return self._contributions

    def target_total(self):
        return 1000.0

    def implied_lift_draws(self, lift):
        return np.repeat(self._implied, len(lift), axis=1)


def shares(tv, social, search, sd=0.02):
    return {"tv": (tv, sd), "social": (social, sd), "search": (search, sd)}


def checks_of(table, model, name):
    return [c for c in table.checks if c.model == model and c.name == name]


@pytest.mark.parametrize(
    ("media", "status"),
    [((0.2, 0.2, 0.1), "PASS"), ((0.3, 0.3, 0.3), "REVIEW"), ((0.4, 0.3, 0.27), "FAIL")],
)
def test_baseline_share_check(media, status):
    (check,) = checks_of(trust_table([FakeFit("m", shares(*media))]), "m", "baseline share")
    assert check.status == status
    assert (check.recommendation == "") == (status == "PASS")


@pytest.mark.parametrize(
    ("media", "status"),
    [((0.3, 0.1, 0.1), "PASS"), ((0.6, 0.05, 0.05), "REVIEW"), ((0.85, 0.01, 0.01), "FAIL")],
)
def test_largest_channel_check(media, status):
    (check,) = checks_of(trust_table([FakeFit("m", shares(*media))]), "m", "largest channel")
    assert check.status == status and "tv" in check.message


@pytest.mark.parametrize(("social", "fires"), [(0.4, True), (0.205, False), (0.1, False)])
def test_credit_moved_to_an_untested_channel(social, fires):
    # tv loses 0.3 to the test; social gaining 0.2 (20 sds) took its credit, 0.005 is noise,
    # and losing credit alongside tv is not credit moved from it.
    uncal = FakeFit("uncal", shares(0.4, 0.2, 0.1, sd=0.05))
    cal = FakeFit("cal", shares(0.1, social, 0.1, sd=0.01), lift=TV_TEST, seed=1)
    table = trust_table([uncal, cal])
    moved = checks_of(table, "cal", "moved: social")
    assert bool(moved) == fires
    if fires:
        assert moved[0].status == "REVIEW" and "unknown" in moved[0].recommendation
    row = table.table().set_index(["model", "channel"]).loc[("cal", "social")]
    assert row["shift"] == pytest.approx(social - 0.2, abs=0.02)
    assert not checks_of(table, "cal", "moved: tv")  # the tested channel may move


@pytest.mark.parametrize(("implied", "status"), [((10.0, 1.0), "PASS"), ((30.0, 1.0), "REVIEW")])
def test_uncalibrated_model_against_a_test_it_did_not_see(implied, status):
    uncal = FakeFit("uncal", shares(0.2, 0.1, 0.1), implied=implied)
    cal = FakeFit("cal", shares(0.2, 0.1, 0.1), lift=TV_TEST)
    table = trust_table([uncal, cal])
    (check,) = checks_of(table, "uncal", "lift test: tv")
    assert check.status == status
    factor = table.table().set_index(["model", "channel"]).loc[("uncal", "tv"), "confounding"]
    assert factor == pytest.approx(implied[0] / 10.0, rel=0.05)


@pytest.fixture(scope="module")
def stored():
    uncal, cal = load_fit(FITS / "uncalibrated"), load_fit(FITS / "calibrated")
    return uncal, cal, trust_table([uncal, cal])


def test_stored_uncalibrated_model_over_credits_tv(stored):
    rows = stored[2].table().set_index(["model", "channel"])
    # The stored test reports 30% of the true lift; the uncalibrated model implies ~8.7x it.
    assert rows.loc[("uncalibrated", "tv"), "confounding"] > 1
    assert rows.loc[("calibrated", "tv"), "confounding"] > 1  # the same test, the same factor
    assert (
        rows.loc[("calibrated", "tv"), "tested"] and not rows.loc[("uncalibrated", "tv"), "tested"]
    )
    (check,) = checks_of(stored[2], "uncalibrated", "lift test: tv")
    assert check.status == "REVIEW" and "confounding" in check.message
    assert stored[2].uncalibrated == "uncalibrated"


def test_calibrated_model_reproduces_its_test_or_fails(stored):
    (ok,) = checks_of(stored[2], "calibrated", "lift test: tv")
    assert ok.status == "PASS"
    bad = copy.copy(stored[1])
    bad.lift = stored[1].lift.assign(delta_y=stored[1].lift["delta_y"] * 10)
    table = trust_table([bad])
    (check,) = checks_of(table, "calibrated", "lift test: tv")
    assert check.status == "FAIL" and "cannot reproduce" in check.message
    assert table.uncalibrated is None and table.table()["confounding"].isna().all()


def test_stored_fits_show_credit_moved_from_tv(stored):
    # One TV test takes TV's confounded credit; social and search take much of it up, by
    # under one uncalibrated interval width but by more than their calibrated sd.
    rows = stored[2].table().set_index(["model", "channel"])
    assert rows.loc[("calibrated", "tv"), "shift"] < 0
    moved = {c.name for c in stored[2].checks if c.name.startswith("moved")}
    social = rows.loc[("calibrated", "social")]
    lo, hi = social["share_hdi_90"]
    assert ("moved: social" in moved) == (social["shift"] > (hi - lo) / 3.29)
    assert moved, "the stored TV-calibrated fit should show credit moved to an untested channel"
