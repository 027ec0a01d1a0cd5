import numpy as np
import pytest
from pytensor.xtensor import as_xtensor

from mmmcal.world.presets import get_preset
from mmmcal.world.scenario import (
    DelayedAdstockSpec,
    GeometricAdstockSpec,
    HillSaturationSpec,
    LogisticSaturationSpec,
    MichaelisMentenSaturationSpec,
    WeibullAdstockSpec,
    adstock_weights,
)
from mmmcal.world.simulate import simulate
from mmmcal.world.truth import media_response


def test_reference_switch_on_ramp_matches_walkthrough(reference_world):
    mean_spend = reference_world.data["tv"].mean()
    lift = reference_world.oracle.constant_spend_lift("tv", 0.0, mean_spend, 8)
    published = np.array([41, 61, 71, 76, 79, 80, 80, 81])
    np.testing.assert_allclose(lift.window, published, rtol=0.05)
    assert np.all(np.diff(lift.window) > 0)  # ramps up through adstock
    assert lift.mean == pytest.approx(71.1, rel=0.03)
    assert lift.window[-1] < lift.steady_state
    assert lift.steady_state == pytest.approx(
        lift.window[-1], rel=0.01
    )  # alpha 0.5: 8 weeks ~ steady


def test_constant_spend_lift_equals_resimulated_difference(reference_world):
    spec = reference_world.scenario.channel("social")
    scale = reference_world.truth.spend_scale["social"][0]
    beta = reference_world.truth.beta["social"][0]
    x, dx, n, pre = 5000.0, 1500.0, 4, spec.adstock.l_max
    control = np.full(pre + n + 3, x)
    treated = control.copy()
    treated[pre : pre + n] += dx
    expected = (
        media_response(spec, treated, scale, beta) - media_response(spec, control, scale, beta)
    )[pre:]
    lift = reference_world.oracle.constant_spend_lift("social", x, dx, n, tail_periods=3)
    np.testing.assert_allclose(lift.per_period, expected)
    assert lift.tail_total > 0  # carryover after the window
    assert lift.total == pytest.approx(expected[:n].sum())


def test_go_dark_is_negative_and_heavy_up_positive(reference_world):
    x = reference_world.data["tv"].mean()
    dark = reference_world.oracle.constant_spend_lift("tv", x, -x, 6)
    up = reference_world.oracle.constant_spend_lift("tv", x, 0.3 * x, 6)
    assert dark.mean < 0 < up.mean
    assert dark.steady_state < dark.mean < 0  # decay is gradual


def test_intervention_on_actual_path(reference_world):
    oracle = reference_world.oracle
    lift = oracle.intervention_lift("tv", 50, 4, multiplier=0.0, tail_periods=8)
    contrib = reference_world.truth.contributions["tv"].to_numpy()
    assert lift.n_periods == 4 and len(lift.per_period) == 12
    assert lift.per_period.sum() < 0 and lift.tail_total < 0
    assert np.all(-lift.window <= contrib[50:54] + 1e-9)  # cannot remove more than TV gave
    with pytest.raises(ValueError, match="outside the data"):
        oracle.intervention_lift("tv", 154, 4, add=100.0)
    with pytest.raises(ValueError, match="exactly one"):
        oracle.intervention_lift("tv", 10, 4)


def test_geo_oracle_adds_up_over_geos(geo_world):
    oracle = geo_world.oracle
    geos = list(geo_world.truth.geos)
    x = geo_world.national_data()["tv"].mean()
    national = oracle.constant_spend_lift("tv", x, 0.5 * x, 4)
    assert national.mean > 0
    sub = oracle.constant_spend_lift("tv", 100.0, 50.0, 4, geos=geos[:5])
    assert 0 < sub.mean < national.mean
    with pytest.raises(ValueError, match="Unknown geos"):
        oracle.constant_spend_lift("tv", 100.0, 50.0, 4, geos=["atlantis"])


def test_response_curve_is_the_steady_state(reference_world):
    spec = reference_world.scenario.channel("tv")
    curve = reference_world.truth.response_curve(spec, np.array([0.0, 4000.0]))
    lift = reference_world.oracle.constant_spend_lift("tv", 0.0, 4000.0, 1)
    assert curve[0] == 0 and curve[1] == pytest.approx(lift.steady_state)


@pytest.mark.parametrize(
    "adstock",
    [
        GeometricAdstockSpec(alpha=0.6, l_max=6),
        DelayedAdstockSpec(alpha=0.5, theta=2, l_max=6),
        WeibullAdstockSpec(kind="pdf", lam=2.0, k=1.5, l_max=6),
        WeibullAdstockSpec(kind="cdf", lam=2.0, k=1.5, l_max=6),
    ],
)
def test_adstock_weights_match_pymc_marketing(adstock):
    import pymc_marketing.mmm.components.adstock as pa

    family = {
        "geometric": lambda s: pa.GeometricAdstock(l_max=s.l_max, normalize=True),
        "delayed": lambda s: pa.DelayedAdstock(l_max=s.l_max, normalize=True),
        "weibull": lambda s: (pa.WeibullPDFAdstock if s.kind == "pdf" else pa.WeibullCDFAdstock)(
            l_max=s.l_max, normalize=True
        ),
    }[adstock.family](adstock)
    params = {k: v for k, v in adstock.model_dump().items() if k in family.default_priors}
    impulse = np.zeros(adstock.l_max)
    impulse[0] = 1.0
    theirs = family.function(as_xtensor(impulse, dims=("date",)), **params, dim="date").eval()
    np.testing.assert_allclose(adstock_weights(adstock), theirs, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("ours", "cls", "params"),
    [
        (LogisticSaturationSpec(lam=2.0), "LogisticSaturation", {"lam": 2.0, "beta": 1.0}),
        (
            HillSaturationSpec(slope=2.0, kappa=0.4),
            "HillSaturation",
            {"slope": 2.0, "kappa": 0.4, "beta": 1.0},
        ),
        (
            MichaelisMentenSaturationSpec(lam=0.5),
            "MichaelisMentenSaturation",
            {"lam": 0.5, "alpha": 1.0},
        ),
    ],
)
def test_saturation_matches_pymc_marketing(ours, cls, params):
    import pymc_marketing.mmm.components.saturation as ps

    x = np.linspace(0.01, 2, 7)
    theirs = getattr(ps, cls)().function(as_xtensor(x, dims=("x",)), **params).eval()
    np.testing.assert_allclose(ours(x), theirs, rtol=1e-6)


def test_hill_world_uses_hill_curve(reference_world):
    world = simulate(get_preset("hill-tv"), 0)
    tv = world.scenario.channel("tv")
    assert tv.saturation.family == "hill"
    # The simulated contribution is beta * Hill(adstock(spend / scale)), written out here.
    x = world.truth.spend["tv"].to_numpy() / world.truth.spend_scale["tv"][0]
    weights = 0.5 ** np.arange(8)
    adstocked = np.convolve(x, weights / weights.sum())[: len(x)]
    expected = 175.0 * adstocked**2 / (0.35**2 + adstocked**2)
    np.testing.assert_allclose(world.truth.contributions["tv"], expected, rtol=1e-10)
    # S-shaped: its true response curve is convex at low spend, the reference (logistic) concave.
    grid = np.linspace(0, 1500, 4)
    hill_curve = world.truth.response_curve(tv, grid)
    logistic_curve = reference_world.truth.response_curve(
        reference_world.scenario.channel("tv"), grid
    )
    assert (np.diff(hill_curve, 2) > 0).all() and (np.diff(logistic_curve, 2) < 0).all()
