import pandas as pd
import pytest

from mmmcal.lift.problems import LiftTableError
from mmmcal.lift.table import LiftTable, check_lift_table, validate_lift_table
from mmmcal.lift.windows import to_per_period

CHANNELS = ["tv", "social", "search"]
DATES = pd.date_range("2022-01-03", periods=156, freq="7D")


def good_table():
    return pd.DataFrame(
        {
            "test_id": ["t1", "t2"],
            "channel": ["tv", "social"],
            "x": [0.0, 5000.0],
            "delta_x": [4000.0, 1000.0],
            "delta_y": [71.0, 12.0],
            "sigma": [3.5, 2.0],
            "date_start": ["2024-11-04", "2024-06-03"],
            "date_end": ["2024-12-23", "2024-06-24"],
            "n_periods": [8, 4],
        }
    )


def rejected(table, **kw):
    with pytest.raises(LiftTableError) as info:
        validate_lift_table(table, CHANNELS, dates=DATES, **kw)
    return info.value


def test_good_table_passes_unchanged():
    out = validate_lift_table(good_table(), CHANNELS, dates=DATES)
    pd.testing.assert_frame_equal(out, good_table(), check_dtype=False)


def test_missing_columns_named():
    err = rejected(good_table().drop(columns=["sigma", "delta_x"]))
    assert "field `delta_x`" in str(err) and "field `sigma`" in str(err)
    assert "required column is missing" in str(err)


def test_unknown_channel_names_row_and_choices():
    table = good_table()
    table.loc[1, "channel"] = "radio"
    err = rejected(table)
    assert "row 1, field `channel`: unknown channel 'radio'" in str(err)
    assert list(err.rejected["row"]) == [1]
    assert err.problems[0].row == 1


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan"), "abc"])
def test_bad_sigma(sigma):
    table = good_table().astype({"sigma": object})
    table.loc[0, "sigma"] = sigma
    err = rejected(table)
    assert "row 0, field `sigma`" in str(err)


def test_negative_spend_during_test():
    table = good_table()
    table.loc[1, "delta_x"] = -6000.0
    table.loc[1, "delta_y"] = -3.0
    assert "x + delta_x = -1000.0 < 0" in str(rejected(table))


def test_spend_cut_with_positive_lift_and_zero_change():
    table = good_table()
    table.loc[1, "delta_x"] = -1000.0
    assert "a cut cannot raise the target" in str(rejected(table))
    table.loc[1, "delta_x"] = 0.0
    assert "measures nothing" in str(rejected(table))


def test_non_numeric_field():
    table = good_table().astype({"x": object})
    table.loc[0, "x"] = "lots"
    assert "row 0, field `x`: must be a finite number, got 'lots'" in str(rejected(table))


def test_duplicated_tests():
    table = pd.concat([good_table(), good_table().iloc[[0]]], ignore_index=True)
    err = rejected(table)
    assert "row 2, field `test_id`" in str(err)
    assert "duplicates row 0" in str(err)


def test_window_outside_data_and_reversed():
    table = good_table()
    table.loc[0, "date_end"] = "2030-01-01"
    assert "row 0, field `date_end`: 2030-01-01 is outside the data" in str(rejected(table))
    table = good_table()
    table.loc[1, "date_end"] = "2024-05-01"
    assert "is before date_start" in str(rejected(table))


def test_check_reports_every_row():
    table = good_table()
    table.loc[1, "sigma"] = 0.0
    check = check_lift_table(table, CHANNELS, dates=DATES)
    report = check.report()
    assert list(report["status"]) == ["accepted", "rejected"]
    assert "sigma" in report.loc[1, "reason"]
    assert len(check.accepted) + len(check.rejected) == len(table)


def test_sum_rows_convert_to_per_period():
    table = good_table().assign(aggregation=["sum", "mean"])
    out = to_per_period(table)
    assert out.loc[0, "delta_y"] == pytest.approx(71.0 / 8)
    assert out.loc[0, "sigma"] == pytest.approx(3.5 / 8)
    assert out.loc[1, "delta_y"] == 12.0
    with pytest.raises(LiftTableError, match="n_periods"):
        to_per_period(table.drop(columns="n_periods"))


def test_bad_aggregation_value():
    table = good_table().assign(aggregation=["total", "mean"])
    assert "aggregation" in str(rejected(table))


def test_measured_span_fields():
    table = good_table().assign(measured_from=[3, 1], measured_to=[2, 6])
    assert "row 0, field `measured_to`: 2 is before measured_from 3" in str(rejected(table))
    table = good_table().assign(measured_from=[1.5, 1], measured_to=[2, 6])
    assert "row 0, field `measured_from`: must be a whole number" in str(rejected(table))
    table = good_table().drop(columns="n_periods").assign(measured_from=[1, 1], measured_to=[2, 2])
    assert "field `n_periods`: is needed with measured_from" in str(rejected(table))
    ok = good_table().assign(measured_from=[1, 1], measured_to=[10, 4])  # 10 > 8: carryover too
    assert len(validate_lift_table(ok, CHANNELS, dates=DATES)) == 2


def test_same_test_different_weeks_are_not_duplicates():
    base = good_table().iloc[[0, 0]].reset_index(drop=True)
    base = base.assign(test_id=["t1-p1", "t1-p2"], measured_from=[1, 2], measured_to=[1, 2])
    assert len(validate_lift_table(base, CHANNELS, dates=DATES)) == 2


def test_overlapping_windows_on_one_channel_rejected():
    table = good_table().iloc[[0, 0, 1]].reset_index(drop=True)
    table = table.assign(test_id=["t1", "t1b", "t2"], x=[0.0, 1000.0, 5000.0])
    table.loc[1, ["date_start", "date_end", "n_periods"]] = ["2024-12-02", "2024-12-23", 4]
    err = rejected(table)
    assert list(err.rejected["row"]) == [1]
    assert (
        "row 1, field `date_start`: window 2024-12-02..2024-12-23 overlaps row 0 "
        "(2024-11-04..2024-12-23) on the same channel 'tv'" in str(err)
    )
    table.loc[1, ["date_start", "date_end"]] = ["2024-01-01", "2024-01-22"]  # before: no overlap
    assert len(validate_lift_table(table, CHANNELS, dates=DATES)) == 3


def test_overlap_needs_same_geo_and_exact_duplicates_reported_once():
    table = good_table().iloc[[0, 0]].reset_index(drop=True).assign(test_id=["a", "b"])
    assert len(validate_lift_table(table.assign(geo=["north", "south"]), CHANNELS)) == 2
    same_geo = table.assign(geo=["north", "north"], x=[0.0, 1000.0])
    assert "on the same channel 'tv', geo 'north'" in str(rejected(same_geo))
    err = rejected(table)
    assert [(p.row, p.field) for p in err.problems] == [(1, "channel")]
    assert "duplicates row 0" in str(err)


def test_n_periods_must_agree_with_the_date_window():
    """check-lift and fit run one contract: a window of 4 model weeks is not 6 periods."""
    table = good_table().iloc[[0]].reset_index(drop=True)
    table.loc[0, ["date_start", "date_end", "n_periods"]] = ["2024-01-01", "2024-01-22", 6]
    err = rejected(table)
    assert "row 0, field `n_periods`: is 6 but 2024-01-01..2024-01-22 spans 4 model periods" in str(
        err
    )
    table.loc[0, "n_periods"] = 4
    assert len(validate_lift_table(table, CHANNELS, dates=DATES)) == 1
    assert len(validate_lift_table(table.assign(n_periods=6), CHANNELS)) == 1  # no dates: unknown


def test_a_validated_table_says_what_it_was_checked_against():
    table = validate_lift_table(good_table(), CHANNELS, dates=DATES)
    assert isinstance(table, LiftTable)
    assert table.checked_against.channels == frozenset(CHANNELS)
    # Validating again against the same (or fewer) checks returns it as it is.
    assert validate_lift_table(table, list(reversed(CHANNELS)), dates=DATES) is table
    assert validate_lift_table(table) is table
    # Other checks run again, and can fail.
    with pytest.raises(LiftTableError, match="unknown channel"):
        validate_lift_table(table, ["social"], dates=DATES)
    # Any pandas operation gives a plain frame, which must be validated again.
    changed = table.assign(sigma=0.0)
    assert type(changed) is pd.DataFrame and type(table[table.x >= 0]) is pd.DataFrame
    with pytest.raises(LiftTableError, match="sigma"):
        validate_lift_table(changed, CHANNELS, dates=DATES)


def test_stages_do_not_check_a_validated_table_twice(small_world, monkeypatch):
    from mmmcal.experiments.conversion_lift import LiftTestDesign, lift_tests
    from mmmcal.lift import table as table_module
    from mmmcal.models.bayes import CalibratedMMM
    from mmmcal.models.spec import ModelSpec

    lift = lift_tests(small_world, [LiftTestDesign(channel="tv", n_periods=4, switch_on=True)])
    calls = []
    real = table_module.check_lift_table
    monkeypatch.setattr(
        table_module, "check_lift_table", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    spec = ModelSpec.for_world(small_world, yearly_seasonality=None)
    fit = CalibratedMMM(spec, lift).build(small_world.data)
    assert fit.lift_counts_ == {"window": 1, "steady_state": 0} and calls == []
    CalibratedMMM(spec, pd.DataFrame(lift)).build(small_world.data)  # a plain frame: checked once
    assert calls == [1]
