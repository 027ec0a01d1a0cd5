"""Geo-lift tests: design, a small real CausalPy fit, draw aggregation."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mmmcal.experiments.geolift import (
    GeoLiftDesign,
    analyze_geolift,
    causalpy_to_lift_rows,
    design_geolift,
    geolift_rows,
    national_rows,
)
from mmmcal.lift.table import validate_lift_table


def test_design_applies_change_to_treated_geos_only(geo_world):
    design = GeoLiftDesign(channel="tv", n_treated=4, n_periods=4, multiplier=2.0)
    test = design_geolift(geo_world, design, seed=3)
    assert len(test.treated) == 4 and not set(test.treated) & set(test.controls)
    observed = geo_world.data.pivot(index="date", columns="geo", values="sales").loc[
        test.panel.index
    ]
    diff = test.panel - observed
    assert np.allclose(diff[list(test.controls)], 0)
    window = diff.index >= test.window_start
    assert np.allclose(diff.loc[~window, list(test.treated)], 0)
    for g in test.treated:
        assert diff.loc[window, g].mean() == pytest.approx(test.true_lift[g])
        assert test.spend_change[g] == pytest.approx(test.spend_before[g])  # x2: change = before
    assert len(test.panel) == design.pre_periods + design.n_periods


def test_go_dark_and_switch_on_signs(geo_world):
    dark = design_geolift(
        geo_world, GeoLiftDesign(channel="social", n_treated=3, change="go_dark"), 1
    )
    assert all(v < 0 for v in dark.true_lift.values())
    on = design_geolift(
        geo_world, GeoLiftDesign(channel="social", n_treated=3, change="switch_on"), 1
    )
    assert all(v > 0 for v in on.true_lift.values())
    assert all(v == 0 for v in on.spend_before.values())


def test_matched_design_pairs_similar_geos(geo_world):
    test = design_geolift(geo_world, GeoLiftDesign(channel="tv", n_treated=5, design="matched"), 0)
    assert len(set(test.treated)) == 5
    # Each treated geo's neighbour in pre-period outcome (its pair) is a control geo, and the
    # pairs are far closer in size than treated and control geos in general.
    pre = test.panel[test.panel.index < test.window_start].mean().sort_values()
    order = list(pre.index)
    partner = {order[i]: order[i ^ 1] for i in range(len(order) - len(order) % 2)}
    assert all(partner[g] in test.controls for g in test.treated)
    gap = [abs(np.log(pre[g] / pre[partner[g]])) for g in test.treated]
    spread = [abs(np.log(pre[g] / pre[c])) for g in test.treated for c in test.controls]
    assert np.median(gap) < 0.2 * np.median(spread)


def test_national_draws_are_summed_before_the_spread(geo_world):
    test = design_geolift(geo_world, GeoLiftDesign(channel="tv", n_treated=2), 0)
    rng = np.random.default_rng(0)
    common = rng.normal(0, 1, 4000)
    # Two perfectly correlated geo draws: the national sd is the sum of sds, not sqrt(2) x.
    draws = xr.DataArray(
        np.stack([5 + common, 3 + 2 * common], axis=1),
        dims=("sample", "treated_units"),
        coords={"treated_units": list(test.treated)},
    )
    rows = geolift_rows(test, draws)
    national = rows[rows.geo == "national"].iloc[0]
    assert national["delta_y"] == pytest.approx(8, abs=0.1)
    assert national["sigma"] == pytest.approx(3, rel=0.05)
    assert national["true_delta_y"] == pytest.approx(sum(test.true_lift.values()))


def test_errors(reference_world, geo_world):
    with pytest.raises(ValueError, match="needs a geo world"):
        design_geolift(reference_world, GeoLiftDesign(channel="tv"))
    with pytest.raises(ValueError, match="fewer than 2 controls"):
        design_geolift(geo_world, GeoLiftDesign(channel="tv", n_treated=39))
    with pytest.raises(ValueError, match="measure nothing"):
        GeoLiftDesign(channel="tv", multiplier=1.0)


@pytest.mark.slow
def test_causalpy_fit_end_to_end(geo_world):
    design = GeoLiftDesign(
        channel="tv", n_treated=8, n_periods=6, multiplier=3.0, draws=200, tune=200
    )
    test = design_geolift(geo_world, design, seed=2)
    result, draws = analyze_geolift(test)
    assert set(draws["treated_units"].values) == set(test.treated)
    rows = geolift_rows(test, draws)
    table = validate_lift_table(
        rows, ["tv", "social", "search"], dates=geo_world.data["date"], geos=geo_world.truth.geos
    )
    national = table[table.geo == "national"].iloc[0]
    assert national["sigma"] > 0
    assert abs(national["delta_y"] - national["true_delta_y"]) < 4 * national["sigma"]
    assert national["true_delta_y"] > 0
    # The noise fix: CausalPy's mean-only impact is much narrower than the outcome's.
    mu_only = result.post_impact.mean("obs_ind").std(("chain", "draw"))
    sigma = result.model.idata.posterior["y_hat_sigma"].mean(("chain", "draw"))
    assert float((sigma / np.sqrt(6) / mu_only).min()) > 1.5
    # The same conversion from the CausalPy object itself, as a user with their own panel would.
    scale = test.panel[test.panel.index < test.window_start].mean()
    own = causalpy_to_lift_rows(
        result,
        channel="tv",
        spend_before=test.spend_before,
        spend_change=test.spend_change,
        scale=scale,
        national_spend=test.national_spend,
        seed=test.seed,
    )
    pd.testing.assert_frame_equal(
        own[["geo", "x", "delta_x", "delta_y", "sigma"]],
        rows[["geo", "x", "delta_x", "delta_y", "sigma"]],
    )
    assert own["n_periods"].iloc[0] == 6
    nat = national_rows(table)
    assert "geo" not in nat and len(nat) == 1
    assert isinstance(nat, pd.DataFrame)
