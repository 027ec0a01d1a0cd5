"""Baseline engines: fits that score, the window MAPE.LIFT, lift bounds, reproducibility, CLI."""

import json

import arviz as az
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mmmcal.cli import app
from mmmcal.evaluate.scorecard import Scorecard
from mmmcal.experiments.conversion_lift import LiftTestDesign, conversion_lift_test
from mmmcal.lift.problems import LiftTableError
from mmmcal.models.bounded import BoundedMMM
from mmmcal.models.engines import load_fit, make_engine
from mmmcal.models.ridge import RidgeConfig, RidgeMMM
from mmmcal.models.ridge_features import ridge_adstock_weights
from mmmcal.models.ridge_lift import LiftRows, mape_lift
from mmmcal.models.spec import ModelSpec
from mmmcal.world.presets import get_preset
from mmmcal.world.scenario import GeometricAdstockSpec, HillSaturationSpec
from mmmcal.world.simulate import simulate
from mmmcal.world.transforms import hill_saturation

FAST = {"budget": 80, "n_bootstrap": 30}


@pytest.fixture(scope="module")
def world():
    return simulate(get_preset("reference").with_updates(n_periods=104), seed=3)


@pytest.fixture(scope="module")
def spec(world):
    return ModelSpec.for_world(world)


@pytest.fixture(scope="module")
def tv_lift(world):
    return conversion_lift_test(world, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), 0)


@pytest.fixture(scope="module")
def ridge(world, spec):
    return make_engine("ridge", spec, name="ridge", **FAST).fit(world.data)


@pytest.fixture(scope="module")
def bounded(world, spec, tv_lift):
    return make_engine("bounded", spec, tv_lift, name="bounded", **FAST).fit(world.data)


def test_each_engine_fits_and_scores(world, spec, tv_lift, ridge, bounded):
    calibrated = make_engine("ridge", spec, tv_lift, name="ridge_cal", **FAST).fit(world.data)
    card = Scorecard.from_models([ridge, calibrated, bounded], world.truth_dict())
    table = card.table()
    assert len(table) == 9 and table["share_mean"].between(0, 1).all()
    assert (table["share_lo"] < table["share_hi"]).all()  # bootstrap intervals exist
    cc = ridge.channel_contributions()
    assert cc.dims == ("chain", "draw", "date", "channel") and cc.shape == (1, 30, 104, 3)
    assert ridge.diagnostics_.mape_lift is None
    assert calibrated.diagnostics_.mape_lift is not None
    assert card.models["ridge_cal"].tested_channels == ("tv",)
    # The lift term moves TV towards the test: its implied lift misses by less.
    implied = {m.name: m.implied_lift_draws(tv_lift).mean() for m in (ridge, calibrated)}
    miss = {k: abs(v - tv_lift["delta_y"].iloc[0]) for k, v in implied.items()}
    assert miss["ridge_cal"] < miss["ridge"]


def test_window_lift_equals_the_oracle_when_the_transforms_match():
    """Geometric adstock + Hill worlds are exactly representable: beta * g = the true lift."""
    base = get_preset("reference").with_updates(n_periods=60)
    channels = tuple(
        c.model_copy(
            update={
                "adstock": GeometricAdstockSpec(alpha=a, l_max=8),
                "saturation": HillSaturationSpec(slope=s, kappa=k),
            }
        )
        for c, a, s, k in zip(
            base.channels, (0.6, 0.3, 0.1), (2.0, 1.2, 0.8), (0.5, 0.4, 0.7), strict=True
        )
    )
    world = simulate(base.with_updates(channels=channels), seed=0)
    lift = conversion_lift_test(
        world, LiftTestDesign(channel="tv", n_periods=6, switch_on=True, report="per_period"), 0
    )
    names = list(world.scenario.channel_names)
    weights = np.stack(
        [ridge_adstock_weights("geometric", {"theta": c.adstock.alpha}, 8) for c in channels]
    )
    scale = np.array([world.truth.spend_scale[c][0] for c in names])
    inflexion = np.array([c.saturation.kappa for c in channels]) * scale * weights.sum(axis=1)
    alpha = np.array([c.saturation.slope for c in channels])
    rows = LiftRows.from_table(lift, names, 8, world.data["date"])
    beta = np.array([c.beta for c in channels])
    implied = beta[rows.channel_idx] * rows.unit_lift(weights, alpha, inflexion)
    np.testing.assert_allclose(implied, lift["true_delta_y"], rtol=1e-9)
    truth_rows = LiftRows.from_table(
        lift.assign(delta_y=lift["true_delta_y"]), names, 8, world.data["date"]
    )
    assert mape_lift(beta, truth_rows.unit_lift(weights, alpha, inflexion), truth_rows) < 1e-9


def test_mape_lift_equals_a_direct_counterfactual(world):
    """Carryover after the window, window totals and steady-state rows, by plain numpy."""
    lift = pd.DataFrame(
        {
            "channel": ["tv", "social", "search"],
            "x": [1000.0, 500.0, 800.0],
            "delta_x": [3000.0, -500.0, 400.0],
            "delta_y": [50.0, -20.0, 9.0],
            "sigma": [5.0, 4.0, 1.0],
            "n_periods": [4, 3, np.nan],
            "measured_to": [6, np.nan, np.nan],
            "aggregation": ["mean", "sum", "mean"],
        }
    )
    names, l_max = ["tv", "social", "search"], 8
    weights = np.stack(
        [ridge_adstock_weights("geometric", {"theta": t}, l_max) for t in (0.7, 0.4, 0.2)]
    )
    alpha, inflexion = np.array([2.0, 1.0, 0.7]), np.array([9000.0, 3000.0, 4000.0])
    beta = np.array([300.0, 120.0, 40.0])

    def window_lift(c, x, dx, n, last, agg):
        control = np.full(l_max + last, x)
        treated = control.copy()
        treated[l_max : l_max + n] += dx
        f = [
            hill_saturation(np.convolve(p, weights[c])[: len(p)], alpha[c], inflexion[c])
            for p in (treated, control)
        ]
        diff = beta[c] * (f[0] - f[1])[l_max:]
        return diff.sum() if agg == "sum" else diff.mean()

    w_total = weights.sum(axis=1)
    expected = [
        window_lift(0, 1000.0, 3000.0, 4, 6, "mean"),
        window_lift(1, 500.0, -500.0, 3, 3, "sum"),
        beta[2]
        * (
            hill_saturation(1200.0 * w_total[2], 0.7, 4000.0)
            - hill_saturation(800.0 * w_total[2], 0.7, 4000.0)
        ),
    ]
    rows = LiftRows.from_table(lift, names, l_max, world.data["date"])
    g = rows.unit_lift(weights, alpha, inflexion)
    np.testing.assert_allclose(beta[rows.channel_idx] * g, expected, rtol=1e-12)
    by_hand = np.mean(np.abs(np.array(expected) - lift["delta_y"]) / lift["delta_y"].abs())
    assert mape_lift(beta, g, rows) == pytest.approx(by_hand, rel=1e-12)


def test_bounded_coefficient_lies_within_the_lift_bounds(bounded, tv_lift):
    row = tv_lift.iloc[0]
    g = bounded.lift_rows_.unit_lift(*bounded.features_.curve)[0]
    z = bounded.config.z
    lo, hi = (row.delta_y - z * row.sigma) / g, (row.delta_y + z * row.sigma) / g
    assert bounded.bounds_["tv"] == pytest.approx((lo, hi))
    tv = bounded.coef_draws_[:, 0]
    assert (tv >= lo * (1 - 1e-6)).all() and (tv <= hi * (1 + 1e-6)).all()
    implied = bounded.implied_lift_draws(tv_lift)
    assert (np.abs(implied - row.delta_y) <= z * row.sigma * (1 + 1e-6)).all()
    assert set(bounded.bounds_) == {"tv"}


def test_weekly_rows_combine_into_one_precision_weighted_bound(world, spec):
    weekly = conversion_lift_test(
        world, LiftTestDesign(channel="tv", n_periods=4, switch_on=True, report="per_period"), 0
    )
    # Weeks that disagree (0.2x and 3x the truth) still give one bound, weighted by precision.
    weekly = weekly.assign(
        delta_y=weekly["true_delta_y"] * np.array([0.2, 3.0, 1.0, 1.0]),
        sigma=weekly["true_delta_y"] * np.array([0.5, 0.5, 0.05, 0.05]),
    )
    fit = BoundedMMM(spec, weekly, config=_config()).fit(world.data)
    g = fit.lift_rows_.unit_lift(*fit.features_.curve)
    b, w = weekly["delta_y"].to_numpy() / g, (g / weekly["sigma"].to_numpy()) ** 2
    estimate, se = np.sum(w * b) / np.sum(w), np.sum(w) ** -0.5
    z = fit.config.z
    assert fit.bounds_["tv"] == pytest.approx((max(0.0, estimate - z * se), estimate + z * se))
    # The precise weeks dominate: the bound sits near their coefficient, not the noisy ones'.
    assert fit.bounds_["tv"][0] <= b[2:].mean() <= fit.bounds_["tv"][1]


def test_a_negative_lift_cannot_bound_a_nonnegative_coefficient(world, spec, tv_lift):
    negative = tv_lift.assign(delta_y=-tv_lift["delta_y"])
    with pytest.raises(ValueError, match=r"lift tests on tv imply a coefficient of -.* below zero"):
        BoundedMMM(spec, negative, config=_config()).fit(world.data)


def test_a_test_without_modelled_response_cannot_bound(world, spec, tv_lift):
    # A spend change of a billionth of a currency unit (spends ten-fold the data's are refused
    # by the lift-table contract before any fit).
    negligible = tv_lift.assign(delta_x=1e-9)
    with pytest.raises(ValueError, match=r"Lift rows \[0\] \(tv\): the spend change gives no"):
        BoundedMMM(spec, negligible, config=_config()).fit(world.data)
    with pytest.raises(
        LiftTableError, match="more than 10x the largest spend per period of channel 'tv'"
    ):
        BoundedMMM(spec, tv_lift.assign(x=1e12), config=_config()).fit(world.data)


def test_unknown_channel_is_named(world, spec, tv_lift):
    model = RidgeMMM(spec, tv_lift.assign(channel="radio"))
    with pytest.raises(LiftTableError, match="unknown channel 'radio'"):
        model.fit(world.data)
    with pytest.raises(ValueError, match=r"`engine` 'lasso' must be one of \['bayes'"):
        make_engine("lasso", spec)
    with pytest.raises(
        ValueError, match=r"Option\(s\) \['budget'\] do not apply to the bayes engine"
    ):
        make_engine("bayes", spec, budget=100)


def test_same_seed_same_fit_other_seed_other_fit(world, spec, tv_lift, ridge):
    again = make_engine("ridge", spec, name="ridge", **FAST).fit(world.data)
    np.testing.assert_array_equal(again.channel_contributions(), ridge.channel_contributions())
    other = make_engine("ridge", spec, name="ridge", seed=1, **FAST).fit(world.data)
    assert not np.allclose(other.channel_contributions(), ridge.channel_contributions())


def test_save_load_round_trip(bounded, tmp_path):
    loaded = load_fit(bounded.save(tmp_path / "fit"))
    assert isinstance(loaded, BoundedMMM) and loaded.bounds_ == bounded.bounds_
    np.testing.assert_allclose(loaded.channel_contributions(), bounded.channel_contributions())
    np.testing.assert_allclose(loaded.mu_draws(), bounded.mu_draws())
    assert json.loads((tmp_path / "fit" / "fit.json").read_text())["engine"] == "bounded"
    idata = az.from_netcdf(tmp_path / "fit" / "model.nc")
    channel_coef = idata.posterior["channel_coef"]
    assert channel_coef.dims == ("chain", "draw", "channel") and channel_coef.shape == (1, 30, 3)
    assert idata.posterior["control_coef"].dims == ("chain", "draw", "coefficient")
    assert set(idata.constant_data["alpha"]["channel"].values) == {"tv", "social", "search"}
    assert list(idata.constant_data["bounded_channel"].values) == ["tv"]
    assert idata.fit_data.sizes["date"] == 104 and "sales" in idata.fit_data
    assert json.loads(idata.attrs["diagnostics"])["engine"] == "bounded"
    with pytest.raises(FileNotFoundError, match="no fit.json"):
        load_fit(tmp_path)


def _config(**changes):
    return RidgeConfig(**{**FAST, **changes})


def test_cli_fit_ridge_then_score_and_report(tmp_path):
    runner = CliRunner()
    world = tmp_path / "world"
    scenario = tmp_path / "small.yaml"
    scenario.write_text(get_preset("reference").with_updates(n_periods=60).to_yaml())
    assert (
        runner.invoke(app, ["simulate", "--scenario", str(scenario), "--out", str(world)]).exit_code
        == 0
    )
    lift = tmp_path / "lift.csv"
    args = [
        "lift-test",
        "--world",
        str(world),
        "--channel",
        "tv",
        "--switch-on",
        "--out",
        str(lift),
    ]
    assert runner.invoke(app, args).exit_code == 0
    model = tmp_path / "model.yaml"
    model.write_text(
        ModelSpec.from_dict(
            {"channel_columns": ["tv", "social", "search"], "control_columns": ["demand_proxy"]}
        ).to_yaml()
    )
    common = [
        "--data",
        str(world / "data.csv"),
        "--model",
        str(model),
        "--budget",
        "60",
        "--n-bootstrap",
        "20",
    ]
    result = runner.invoke(
        app,
        [
            "fit",
            *common,
            "--engine",
            "ridge",
            "--lift",
            str(lift),
            "--out",
            str(tmp_path / "ridge"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ridge (ridge):" in result.output and "MAPE.LIFT" in result.output
    result = runner.invoke(
        app,
        [
            "fit",
            *common,
            "--engine",
            "bounded",
            "--lift",
            str(lift),
            "--out",
            str(tmp_path / "bounded"),
        ],
    )
    assert result.exit_code == 0, result.output
    fits = ["--fit", str(tmp_path / "ridge"), "--fit", str(tmp_path / "bounded")]
    result = runner.invoke(
        app,
        [
            "score",
            *fits,
            "--truth",
            str(world / "truth.json"),
            "--out",
            str(tmp_path / "card.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["models"]["bounded"]["diagnostics"]["engine"] == "bounded"
    result = runner.invoke(
        app,
        ["report", *fits, "--truth", str(world / "truth.json"), "--out", str(tmp_path / "r.html")],
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    assert (
        "<h2>Lift fit</h2>" in page and "DECOMP.RSSD" in page and "Prior vs posterior" not in page
    )
    result = runner.invoke(app, ["fit", *common, "--engine", "lasso", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "'lasso' is not one of" in result.output
    result = runner.invoke(
        app, ["fit", *common, "--engine", "ridge", "--draws", "100", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 1 and "--draws set(s) the sampler of --engine bayes" in result.output


@pytest.mark.parametrize("kind", ["cdf", "pdf"])
def test_weibull_adstock_matches_the_simulator_and_fits(world, kind):
    from mmmcal.world.scenario import WeibullAdstockSpec

    truth = WeibullAdstockSpec(kind=kind, lam=2.5, k=1.7, l_max=8, normalize=False)
    ours = ridge_adstock_weights(f"weibull_{kind}", {"shape": 1.7, "scale": 2.5}, 8)
    np.testing.assert_allclose(ours, truth.raw_weights(), rtol=1e-10, atol=1e-14)
    spec = ModelSpec.for_world(world, adstock={"family": f"weibull_{kind}", "l_max": 8})
    model = make_engine("ridge", spec, budget=40, n_bootstrap=5).fit(world.data)
    assert set(model.hyperparameters_["tv"]) == {"shape", "scale", "alpha", "gamma"}


def test_unsupported_specs_are_refused(world):
    delayed = ModelSpec.for_world(world, adstock={"family": "delayed", "l_max": 8})
    model = RidgeMMM(delayed)
    with pytest.raises(
        ValueError, match=r"`adstock` family 'delayed' must be one of \['geometric'"
    ):
        model.fit(world.data)
    geo = ModelSpec.for_world(world, geo_column="geo")
    model = BoundedMMM(geo)
    with pytest.raises(ValueError, match="fits national data; the spec has geo column 'geo'"):
        model.fit(world.data)


@pytest.mark.slow
def test_report_mixes_bayesian_and_baseline_fits(fits, small_world, tmp_path):
    from mmmcal.report.page import write_report

    uncal, cal, lift = fits
    ridge = make_engine("ridge", cal.spec, lift, name="ridge_cal", **FAST).fit(small_world.data)
    page = write_report(
        [uncal, cal, ridge], tmp_path / "mixed.html", truth=small_world.truth_dict()
    ).read_text()
    assert "Prior vs posterior of calibrated channels: calibrated" in page
    assert "Prior vs posterior of calibrated channels: ridge_cal" not in page
    assert "Contributions over time: ridge_cal" in page and "max R-hat" in page
    assert "MAPE.LIFT" in page and "block-bootstrap refits" in page
