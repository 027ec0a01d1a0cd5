import numpy as np
import pandas as pd
import pytest
from pytensor.xtensor import as_xtensor

from mmmcal.lift.windows import split_rows
from mmmcal.models.builder import build_mmm
from mmmcal.models.data import prepare_data
from mmmcal.models.lift_likelihood import (
    WindowLiftTerm,
    add_lift_likelihood,
    impulse_response,
    window_lift_expression,
)
from mmmcal.models.spec import ModelSpec


@pytest.fixture(scope="module")
def built(reference_world):
    spec = ModelSpec.for_world(reference_world)
    d = prepare_data(spec, reference_world.data)
    mmm = build_mmm(spec)
    mmm.build_model(d.X, d.y)
    return mmm


def true_params(world, target_scale):
    chans = world.scenario.channels
    vec = lambda values: as_xtensor(np.array(values, dtype=float), dims=("channel",))  # noqa: E731
    return {
        "adstock_alpha": vec([c.adstock.alpha for c in chans]),
        "saturation_lam": vec([c.saturation.lam for c in chans]),
        "saturation_beta": vec([c.beta / target_scale for c in chans]),
    }


ROWS = pd.DataFrame(
    {
        "channel": ["tv", "tv", "social", "search", "tv"],
        "x": [0.0, 3000.0, 6000.0, 8000.0, 4000.0],
        "delta_x": [4000.0, 1500.0, -6000.0, 2500.0, -4000.0],
        "n_periods": [8, 6, 3, 2, 4],
        "measured_from": [1, 1, 1, 2, 3],
        "measured_to": [8, 11, 5, 2, 4],
        "aggregation": ["mean", "sum", "mean", "mean", "sum"],
    }
)


def test_model_window_lift_at_true_parameters_equals_oracle(reference_world, built):
    """Switch-on, heavy-up, go-dark, one week, with carryover: likelihood and simulator agree."""
    scales = built.get_scales_as_xarray()
    cs = scales["channel_scale"].to_numpy()
    ts = float(scales["target_scale"])
    np.testing.assert_allclose(
        cs, [reference_world.truth.spend_scale[c][0] for c in ("tv", "social", "search")]
    )
    term = WindowLiftTerm.from_rows(ROWS, ["tv", "social", "search"], 8, cs)
    implied = (
        window_lift_expression(
            built.adstock, built.saturation, true_params(reference_world, ts), term
        ).eval()
        * ts
    )
    for i, row in ROWS.iterrows():
        lift = reference_world.oracle.constant_spend_lift(
            row.channel,
            row.x,
            row.delta_x,
            int(row.n_periods),
            tail_periods=max(0, int(row.measured_to) - int(row.n_periods)),
        )
        measured = lift.per_period[int(row.measured_from) - 1 : int(row.measured_to)]
        want = measured.sum() / (len(measured) if row.aggregation == "mean" else 1)
        assert implied[i] == pytest.approx(want, rel=1e-6), row.to_dict()
    assert implied[2] < 0 and implied[4] < 0  # go-dark rows are negative


def test_row_selection_rule():
    dates = pd.date_range("2022-01-03", periods=20, freq="7D")
    table = pd.DataFrame(
        {
            "channel": ["tv", "tv", "tv"],
            "x": [0.0, 0.0, 0.0],
            "delta_x": [1.0, 2.0, 3.0],
            "delta_y": [1.0, 1.0, 1.0],
            "sigma": [1.0, 1.0, 1.0],
            "n_periods": [4, np.nan, np.nan],
            "date_start": [None, "2022-02-07", None],
            "date_end": [None, "2022-02-28", None],
        }
    )
    window, steady = split_rows(table, dates, "auto")
    assert list(window.index) == [0, 1] and list(window.n_periods) == [4, 4]
    assert list(steady.index) == [2]
    window, steady = split_rows(table, dates, "steady_state")
    assert window.empty and len(steady) == 3
    with pytest.raises(ValueError, match=r"rows \[2\] have no `n_periods`"):
        split_rows(table, dates, "window")
    bad = table.assign(n_periods=[4, 9, np.nan])
    with pytest.raises(ValueError, match="n_periods = 9 but"):
        split_rows(bad, dates, "auto")
    with pytest.raises(ValueError, match="must be one of"):
        split_rows(table, dates, "windowed")


def test_lift_units_are_converted_explicitly(reference_world, built):
    cs = built.get_scales_as_xarray()["channel_scale"].to_numpy()
    term = WindowLiftTerm.from_rows(ROWS, ["tv", "social", "search"], 8, cs)
    np.testing.assert_allclose(term.x, ROWS.x / cs[[0, 0, 1, 2, 0]])
    np.testing.assert_allclose(term.delta_x, ROWS.delta_x / cs[[0, 0, 1, 2, 0]])
    np.testing.assert_allclose(term.divisor, [8, 1, 5, 1, 1])
    assert term.mask.sum(axis=1).tolist() == [8, 11, 5, 1, 2]


@pytest.mark.parametrize(
    ("likelihood", "expected"),
    [
        ("auto", {"window": 1, "steady_state": 1}),
        ("steady_state", {"window": 0, "steady_state": 2}),
    ],
)
def test_likelihood_terms_are_added(reference_world, likelihood, expected):
    spec = ModelSpec.for_world(reference_world)
    d = prepare_data(spec, reference_world.data)
    mmm = build_mmm(spec)
    mmm.build_model(d.X, d.y)
    table = pd.DataFrame(
        {
            "channel": ["tv", "social"],
            "x": [0.0, 5000.0],
            "delta_x": [4000.0, 1000.0],
            "delta_y": [70.0, 8.0],
            "sigma": [3.5, 2.0],
            "n_periods": [8, np.nan],
        }
    )
    counts = add_lift_likelihood(mmm, table, likelihood=likelihood, dist="studentt")
    assert counts == expected
    names = set(mmm.model.named_vars)
    assert ("lift_window" in names) == (expected["window"] > 0)
    assert ("lift_steady_state" in names) == (expected["steady_state"] > 0)
    if expected["window"]:
        assert "lift_window_model_lift" in names


def test_geo_rows_window_lift_equals_oracle_per_geo():
    """Geo models: per-geo parameters and a global channel scale, indexed by the row's geo."""
    from mmmcal.world.presets import get_preset
    from mmmcal.world.simulate import simulate

    world = simulate(get_preset("reference-geo").with_updates(n_periods=40, geo={"n_geos": 5}), 1)
    spec = ModelSpec.for_world(world, geo_column="geo", yearly_seasonality=None)
    d = prepare_data(spec, world.data)
    mmm = build_mmm(spec)
    mmm.build_model(d.X, d.y)
    scales = mmm.get_scales_as_xarray()
    geos = list(mmm.model.coords["geo"])
    channels = ["tv", "social", "search"]
    cs = scales["channel_scale"]
    global_scale = (cs.max("geo") if "geo" in cs.dims else cs).sel(channel=channels).to_numpy()
    ts = float(scales["target_scale"].max())
    truth = world.truth
    chans = world.scenario.channels
    gi = {g: truth.geos.index(g) for g in geos}
    lam = np.array(
        [
            [
                c.saturation.lam * global_scale[k] / truth.spend_scale[c.name][gi[g]]
                for k, c in enumerate(chans)
            ]
            for g in geos
        ]
    )
    beta = np.array([[truth.beta[c.name][gi[g]] / ts for c in chans] for g in geos])
    alpha = np.array([[c.adstock.alpha for c in chans] for _ in geos])
    params = {
        "adstock_alpha": as_xtensor(alpha, dims=("geo", "channel")),
        "saturation_lam": as_xtensor(lam, dims=("geo", "channel")),
        "saturation_beta": as_xtensor(beta, dims=("geo", "channel")),
    }
    rows = pd.DataFrame(
        {
            "channel": ["tv", "social"],
            "geo": [geos[0], geos[3]],
            "x": [100.0, 50.0],
            "delta_x": [80.0, -50.0],
            "n_periods": [6, 3],
        }
    )
    term = WindowLiftTerm.from_rows(rows, channels, 8, global_scale, geos)
    implied = window_lift_expression(mmm.adstock, mmm.saturation, params, term).eval() * ts
    for i, r in rows.iterrows():
        want = world.oracle.constant_spend_lift(
            r.channel, r.x, r.delta_x, r.n_periods, geos=[r.geo]
        ).mean
        assert implied[i] == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize(
    "family, params",
    [
        ("GeometricAdstock", {"alpha": [0.0, 0.3, 0.9]}),
        ("DelayedAdstock", {"alpha": [0.2, 0.5, 0.9], "theta": [0.0, 1.5, 3.0]}),
        ("WeibullPDFAdstock", {"lam": [0.5, 2.0, 5.0], "k": [0.8, 1.5, 3.0]}),
        ("WeibullCDFAdstock", {"lam": [0.5, 2.0, 5.0], "k": [0.8, 1.5, 3.0]}),
    ],
)
def test_written_out_impulse_response_equals_the_adstock_of_an_impulse(family, params, normalize):
    import pymc_marketing.mmm as pmm
    from pytensor.xtensor import as_xtensor

    adstock = getattr(pmm, family)(l_max=6, normalize=normalize)
    written = impulse_response(adstock, {k: np.array(v) for k, v in params.items()}, 3).eval()
    impulse = np.zeros((6, 3))
    impulse[0] = 1.0
    convolved = adstock.function(
        as_xtensor(impulse, dims=("lag", "row")),
        dim="lag",
        **{k: as_xtensor(np.array(v), dims=("row",)) for k, v in params.items()},
    )
    np.testing.assert_allclose(
        written, convolved.transpose("row", "lag").values.eval(), rtol=1e-10, atol=1e-14
    )
