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
    from mmmcal.models.data import prepare_data
    from mmmcal.models.lift_data import validate_model_lift
    from mmmcal.models.spec import ModelSpec

    spec = ModelSpec.for_world(small_world, yearly_seasonality=None)
    lift = lift_tests(small_world, [LiftTestDesign(channel="tv", n_periods=4, switch_on=True)])
    # Checked against the data's scales, as fit checks it: fit does not check it again.
    checked = validate_model_lift(lift, spec, prepare_data(spec, small_world.data))
    assert checked.checked_against.scales is not None
    calls = []
    real = table_module.check_lift_table
    monkeypatch.setattr(
        table_module, "check_lift_table", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    fit = CalibratedMMM(spec, checked).build(small_world.data)
    assert fit.lift_counts_ == {"window": 1, "steady_state": 0} and calls == []
    # The experiment's table was checked without the scales: checked once more, then not.
    CalibratedMMM(spec, lift).build(small_world.data)
    assert calls == [1]
    CalibratedMMM(spec, pd.DataFrame(lift)).build(small_world.data)  # a plain frame: checked once
    assert calls == [1, 1]


# ---------------------------------------------------------------- no rows, channels, scales
def national_data(sales=1000.0, tv=5000.0, social=2000.0):
    """A national data frame on DATES: the largest value of each column is the one given."""
    wave = (1 + pd.Series(range(len(DATES))) % 4) / 4  # 0.25 .. 1.0
    return pd.DataFrame(
        {
            "date": DATES,
            "sales": sales * wave,
            "tv": tv * wave,
            "social": social * wave,
            "search": 800.0 * wave,
        }
    )


def scales_of(data, **kw):
    from mmmcal.lift.scales import LiftScales

    return LiftScales.from_data(data, CHANNELS, date_column="date", target_column="sales", **kw)


def test_a_table_without_rows_is_an_error_everywhere():
    empty = good_table().iloc[:0]
    for call in (
        lambda: validate_lift_table(empty),
        lambda: validate_lift_table(empty, CHANNELS, dates=DATES),
        lambda: check_lift_table(empty, CHANNELS),
    ):
        with pytest.raises(LiftTableError) as info:
            call()
        assert "The lift table has no rows; add tests, or drop --lift" in str(info.value)
        assert [(p.row, p.field) for p in info.value.problems] == [(-1, "rows")]


def test_models_refuse_an_empty_table_before_fitting(small_world):
    from mmmcal.models.bayes import CalibratedMMM
    from mmmcal.models.ridge import RidgeConfig, RidgeMMM
    from mmmcal.models.spec import ModelSpec

    spec = ModelSpec.for_world(small_world, yearly_seasonality=None)
    empty = pd.DataFrame(columns=["channel", "x", "delta_x", "delta_y", "sigma"])
    with pytest.raises(LiftTableError, match="has no rows"):
        CalibratedMMM(spec, empty).build(small_world.data)
    with pytest.raises(LiftTableError, match="has no rows"):
        RidgeMMM(spec, empty, config=RidgeConfig(budget=10, n_bootstrap=10)).fit(small_world.data)
    assert CalibratedMMM(spec, None).build(small_world.data).lift_counts_["window"] == 0


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("TV", "'tv'"), (" tv", "'tv'"), ("Social", "'social'"), ("serach", "'search'")],
)
def test_channels_match_exactly_with_a_suggestion(name, suggestion):
    table = good_table()
    table.loc[0, "channel"] = name
    err = rejected(table)
    assert f"row 0, field `channel`: unknown channel {name!r}" in str(err)
    assert f"did you mean {suggestion}?" in str(err)


def test_an_unlike_channel_gets_no_suggestion():
    table = good_table()
    table.loc[0, "channel"] = "radio"
    assert "did you mean" not in str(rejected(table))


@pytest.mark.parametrize("field", ["x", "delta_x", "delta_y", "sigma"])
def test_overflowing_numbers_refused_without_data(field):
    table = good_table()
    table[field] = table[field].astype(float)
    table.loc[0, field] = 1e308
    with pytest.raises(LiftTableError) as info:
        validate_lift_table(table)  # no channels, dates or data: magnitude only
    assert f"row 0, field `{field}`: 1e+308 is beyond 1e+15" in str(info.value)
    assert "units mistake" in str(info.value)
    table.loc[0, field] = float("inf")
    with pytest.raises(LiftTableError, match=f"field `{field}`: must be a finite number, got inf"):
        validate_lift_table(table)


def test_lifts_on_the_data_scale_pass_and_beyond_it_are_refused():
    scales = scales_of(national_data())
    assert len(validate_lift_table(good_table(), CHANNELS, dates=DATES, scales=scales)) == 2
    table = good_table()
    table.loc[0, "delta_y"] = 1500.0  # sales peak at 1000 per period
    err = rejected(table, scales=scales)
    assert "row 0, field `delta_y`: 1500.0 per period is larger than the whole target" in str(err)
    assert "1,000" in str(err) and "window total given as per period" in str(err)
    # The same number as a window total over 8 measured periods is 187.5 per period.
    summed = table.assign(aggregation=["sum", "mean"])
    assert len(validate_lift_table(summed, CHANNELS, dates=DATES, scales=scales)) == 2
    summed.loc[0, "delta_y"] = 8001.0
    assert "over the 8 measured periods (aggregation: sum)" in str(rejected(summed, scales=scales))


def test_sigma_and_spend_beyond_ten_times_the_data_scale_are_refused():
    scales = scales_of(national_data())
    table = good_table()
    table.loc[0, "sigma"] = 10_001.0
    assert "field `sigma`: 10001.0 per period is more than 10x" in str(
        rejected(table, scales=scales)
    )
    table = good_table()
    table.loc[1, "x"] = 30_000.0  # social peaks at 2,000 per period
    err = rejected(table, scales=scales)
    assert "row 1, field `x`: 30000.0 per period is more than 10x" in str(err)
    assert "the largest spend per period of channel 'social' in the data (2,000)" in str(err)
    assert "currency, not cents" in str(err)
    table = good_table()
    table.loc[0, "delta_x"] = 60_000.0  # tv peaks at 5,000 per period
    err = rejected(table, scales=scales)
    assert "row 0, field `delta_x`: 60000.0 (x + delta_x = 60000.0) per period" in str(err)


def test_geo_rows_are_held_to_their_geo_scale():
    north = national_data(sales=1000.0, tv=5000.0).assign(geo="north")
    south = national_data(sales=100.0, tv=500.0).assign(geo="south")
    data = pd.concat([north, south], ignore_index=True)
    scales = scales_of(data, geo_column="geo")
    table = good_table().assign(geo=["south", "north"], delta_y=[150.0, 12.0])
    err = rejected(table, geos=["north", "south"], scales=scales)
    assert "row 0, field `delta_y`" in str(err) and "in geo 'south' is 100" in str(err)
    national = table.assign(geo=["national", "north"])  # national: the total, 1,100
    assert len(validate_lift_table(national, CHANNELS, dates=DATES, scales=scales)) == 2


def test_a_table_checked_with_scales_is_not_checked_again_and_one_without_is(monkeypatch):
    from mmmcal.lift import table as table_module

    scales = scales_of(national_data())
    plain = validate_lift_table(good_table(), CHANNELS, dates=DATES)
    scaled = validate_lift_table(good_table(), CHANNELS, dates=DATES, scales=scales)
    assert plain.checked_against.scales is None and scaled.checked_against.scales == scales
    calls = []
    real = table_module.check_lift_table
    monkeypatch.setattr(
        table_module, "check_lift_table", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    assert validate_lift_table(scaled, CHANNELS, dates=DATES, scales=scales) is scaled
    assert validate_lift_table(scaled, CHANNELS, dates=DATES) is scaled  # fewer checks
    assert calls == []
    again = validate_lift_table(plain, CHANNELS, dates=DATES, scales=scales)
    assert calls == [1] and again.checked_against.scales == scales
    other = scales_of(national_data(sales=10.0))  # another data set's scale
    with pytest.raises(LiftTableError, match="larger than the whole target"):
        validate_lift_table(scaled, CHANNELS, dates=DATES, scales=other)


def test_every_rejection_quotes_the_value_as_given():
    table = good_table().astype({"x": object})
    table.loc[0, "x"] = "1,000"
    table.loc[1, "channel"] = "[red]tv"
    err = rejected(table)
    assert "got '1,000'" in str(err) and "unknown channel '[red]tv'" in str(err)


def _windowed(starts, ends):
    n = len(starts)
    return pd.DataFrame(
        {
            "channel": ["tv"] * n,
            "x": [100.0 + i for i in range(n)],
            "delta_x": [50.0] * n,
            "delta_y": [10.0] * n,
            "sigma": [2.0] * n,
            "date_start": starts,
            "date_end": ends,
        }
    )


def test_day_first_window_dates_are_read_one_way_and_written_as_iso():
    table = validate_lift_table(
        _windowed(["13/04/2024", "05/06/2024"], ["20/04/2024", "12/06/2024"])
    )
    assert table["date_start"].tolist() == ["2024-04-13", "2024-06-05"]  # 5 June, not 6 May
    assert table["date_end"].tolist() == ["2024-04-20", "2024-06-12"]


def test_ambiguous_window_dates_are_refused_with_the_fix_and_garbage_is_named():
    check = check_lift_table(_windowed(["03/04/2024", "bad"], ["10/04/2024", None]))
    reasons = check.report().reason.tolist()
    assert "read as either 3 April or 4 March" in reasons[0] and "YYYY-MM-DD" in reasons[0]
    assert reasons[1] == "date_start: must be a date like 2024-03-04, got 'bad'"
    assert check.accepted.empty


def test_empty_cells_of_datetime_window_columns_are_blank_not_bad_dates():
    table = _windowed([None, None], [None, None]).assign(
        date_start=lambda d: pd.to_datetime(["2024-01-01", None]),
        date_end=lambda d: pd.to_datetime(["2024-01-28", None]),
    )
    check = check_lift_table(table)
    assert check.ok, check.report()


def test_data_dates_are_read_as_fit_reads_them():
    from mmmcal.dates import DateError
    from mmmcal.lift.data_checks import data_checks

    data = pd.DataFrame({"date": ["03/04/2024", "05/04/2024"], "tv": [1.0, 2.0]})
    with pytest.raises(DateError, match="read as either 3 April or 4 March"):
        data_checks(data)
    day_first = data.assign(date=["13/04/2024", "20/04/2024"])
    assert list(data_checks(day_first)["dates"].day) == [13, 20]


def test_union_lift_keeps_each_test_once_and_distinct_windows_apart():
    from mmmcal.lift.table import union_lift

    first = _windowed(["2024-01-01"], ["2024-01-28"])
    later = _windowed(["2024-03-04"], ["2024-03-31"])  # same spend, another test
    union = union_lift([first, None, pd.concat([first, later], ignore_index=True)])
    assert union["date_start"].tolist() == ["2024-01-01", "2024-03-04"]
    assert union_lift([None, first.iloc[:0]]) is None
