import numpy as np
import pytest
from pydantic import ValidationError

from mmmcal.experiments.conversion_lift import LiftTestDesign, conversion_lift_test, lift_tests
from mmmcal.lift.table import LIFT_REQUIRED_COLUMNS


def test_reference_tv_switch_on_row(reference_world):
    row = conversion_lift_test(
        reference_world, LiftTestDesign(channel="tv", n_periods=8, switch_on=True), seed=0
    ).iloc[0]
    assert set(LIFT_REQUIRED_COLUMNS) <= set(row.index)
    assert row["x"] == 0
    assert row["delta_x"] == pytest.approx(reference_world.data["tv"].mean())
    assert row["true_delta_y"] == pytest.approx(71.1, rel=0.03)
    assert row["sigma"] == pytest.approx(0.05 * row["true_delta_y"])
    assert abs(row["delta_y"] - row["true_delta_y"]) < 4 * row["sigma"]
    assert row["true_steady_state_delta_y"] > row["true_delta_y"]  # the test saw a ramp
    assert row["n_periods"] == 8 and row["aggregation"] == "mean"
    dates = reference_world.data["date"]
    assert dates.min().strftime("%Y-%m-%d") <= row["date_start"] <= row["date_end"]
    assert row["date_end"] == dates.max().strftime("%Y-%m-%d")


def test_measurement_noise_is_unbiased_at_stated_precision(reference_world):
    design = LiftTestDesign(channel="social", n_periods=4, delta_x=2000.0, precision=0.1)
    rows = [conversion_lift_test(reference_world, design, seed=s).iloc[0] for s in range(300)]
    observed = np.array([r["delta_y"] for r in rows])
    true = rows[0]["true_delta_y"]
    assert observed.mean() == pytest.approx(true, rel=0.02)
    assert observed.std() == pytest.approx(0.1 * true, rel=0.15)


def test_same_seed_same_row_and_bias_overstates(reference_world):
    design = LiftTestDesign(channel="tv", n_periods=8, switch_on=True)
    a = conversion_lift_test(reference_world, design, seed=5)
    b = conversion_lift_test(reference_world, design, seed=5)
    assert a.equals(b)
    biased = conversion_lift_test(
        reference_world, design.model_copy(update={"bias": 0.5}), seed=5
    ).iloc[0]
    assert biased["delta_y"] == pytest.approx(
        a.iloc[0]["delta_y"] + 0.5 * a.iloc[0]["true_delta_y"], rel=1e-9
    )


def test_go_dark_row_has_negative_lift(reference_world):
    x = reference_world.data["search"].mean()
    row = conversion_lift_test(
        reference_world, LiftTestDesign(channel="search", n_periods=4, delta_x=-x), seed=1
    ).iloc[0]
    assert row["x"] == pytest.approx(x) and row["x"] + row["delta_x"] == pytest.approx(0)
    assert row["true_delta_y"] < 0 and row["sigma"] > 0


def test_one_test_per_channel(reference_world):
    designs = [
        LiftTestDesign(channel=c, n_periods=8, switch_on=True) for c in ("tv", "social", "search")
    ]
    table = lift_tests(reference_world, designs, seed=2)
    assert list(table["channel"]) == ["tv", "social", "search"]
    assert table["test_id"].is_unique


def test_design_errors_are_clear(reference_world):
    with pytest.raises(ValidationError, match="delta_x"):
        LiftTestDesign(channel="tv")
    with pytest.raises(ValidationError, match="measure nothing"):
        LiftTestDesign(channel="tv", delta_x=0)
    with pytest.raises(KeyError, match="Unknown channel 'radio'"):
        conversion_lift_test(reference_world, LiftTestDesign(channel="radio", switch_on=True))
    with pytest.raises(ValueError, match="below zero"):
        conversion_lift_test(reference_world, LiftTestDesign(channel="tv", x=100.0, delta_x=-200.0))
    with pytest.raises(ValueError, match="does not fit"):
        conversion_lift_test(
            reference_world, LiftTestDesign(channel="tv", switch_on=True, end_offset=150)
        )


def test_per_period_report_shows_the_ramp(reference_world):
    design = LiftTestDesign(channel="tv", n_periods=8, switch_on=True, report="per_period")
    table = conversion_lift_test(reference_world, design, seed=0)
    assert len(table) == 8 and table["test_id"].is_unique
    assert table["measured_from"].tolist() == list(range(1, 9)) == table["measured_to"].tolist()
    truth = reference_world.oracle.constant_spend_lift("tv", 0.0, table["delta_x"].iloc[0], 8)
    np.testing.assert_allclose(table["true_delta_y"], truth.window)
    mean_row = conversion_lift_test(
        reference_world, design.model_copy(update={"report": "mean"}), 0
    )
    # Per-period noise is scaled so that the mean of the rows has the stated precision.
    assert table["sigma"].iloc[0] / np.sqrt(8) == pytest.approx(mean_row["sigma"].iloc[0])
