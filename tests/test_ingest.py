from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmmcal.lift.ingest import INGEST_FORMATS, ingest, ingest_or_raise
from mmmcal.lift.problems import LiftTableError
from mmmcal.lift.table import validate_lift_table
from mmmcal.lift.windows import measured_span, split_rows

DATA = Path(__file__).parent / "data" / "ingest"
CHANNELS = ["tv", "social", "search"]
DATES = pd.date_range("2024-01-01", periods=52, freq="7D")  # Mondays
Z90, Z95 = 1.6448536, 1.9599640
ROBYN_ARGS = {"relative_se": 0.1, "carryover_periods": 3}


def robyn():
    return pd.read_csv(DATA / "robyn.csv")


def geolift():
    return pd.read_csv(DATA / "geolift.csv")


def reasons(result):
    return dict(zip(result.report["row"], result.report["reason"], strict=True))


def test_every_listed_format_reads_its_example_into_a_lift_table():
    """What INGEST_FORMATS promises: each name reads a file of that format."""
    options = {"robyn": {"relative_se": 0.1}}
    for fmt in INGEST_FORMATS:
        result = ingest(
            DATA / f"{fmt}.csv", fmt, channels=CHANNELS, dates=DATES, **options.get(fmt, {})
        )
        accepted = result.table
        assert len(accepted) >= 1, fmt
        assert set(accepted["channel"]) <= set(CHANNELS), fmt
        assert (accepted["sigma"] > 0).all() and accepted["delta_x"].ne(0).all(), fmt


@pytest.mark.parametrize("fmt", ["mmmcal", "pymc-marketing"])
def test_mmmcal_table_passes_through(fmt):
    result = ingest(DATA / "mmmcal.csv", fmt, channels=CHANNELS, dates=DATES)
    assert result.ok
    pd.testing.assert_frame_equal(result.table, pd.read_csv(DATA / "mmmcal.csv"), check_dtype=False)
    assert list(result.report["test_id"]) == ["t1", "t2"]


def test_mmmcal_table_rows_checked_by_the_contract():
    table = pd.read_csv(DATA / "mmmcal.csv")
    table = pd.concat([table, table.iloc[[0]].assign(test_id="t3", x=100.0)], ignore_index=True)
    table.loc[1, "channel"] = "radio"
    result = ingest(table, "mmmcal", channels=CHANNELS, dates=DATES)
    assert list(result.report.status) == ["accepted", "rejected", "rejected"]
    assert reasons(result)[1].startswith("channel: unknown channel 'radio'")
    assert "date_start: window 2024-11-04..2024-12-23 overlaps row 0" in reasons(result)[2]
    assert list(result.table.test_id) == ["t1"]


def test_robyn_conversion():
    result = ingest(DATA / "robyn.csv", "robyn", channels=CHANNELS, dates=DATES, **ROBYN_ARGS)
    assert result.ok, result.report
    tv, social = result.table.iloc[0], result.table.iloc[1]
    # tv: 4 Mondays in 2024-03-04..2024-03-31, holdout of all spend, liftSE given
    assert (tv.x, tv.delta_x, tv.delta_y, tv.sigma) == (0.0, 40000 / 4, 12000, 1500)
    assert (tv.n_periods, tv.aggregation, tv.measured_from, tv.measured_to) == (4, "sum", 1, 4)
    assert (tv.date_start, tv.date_end, tv.source) == ("2024-03-04", "2024-03-31", "robyn")
    assert (tv.confidence, tv.metric, tv.calibration_scope) == (0.9, "revenue", "immediate")
    # social: no liftSE -> relative_se * |liftAbs|; scope total -> window + 3 carryover periods
    assert (social.delta_x, social.sigma) == (20000 / 4, pytest.approx(0.1 * 5000))
    assert (social.n_periods, social.measured_to) == (4, 4 + 3)
    validate_lift_table(result.table, CHANNELS, dates=DATES)
    # the window likelihood reads the same lengths and measured periods
    window, steady = split_rows(result.table, DATES)
    assert steady.empty and list(window.n_periods) == [4, 4]
    assert [list(a) for a in measured_span(window)] == [[1, 1], [4, 7]]


def test_robyn_counts_periods_without_dates():
    result = ingest(robyn(), "robyn", **ROBYN_ARGS)  # (31 - 4) // 7 + 1 = 4 weeks
    assert list(result.table.n_periods) == [4, 4]
    daily = ingest(robyn(), "robyn", period_days=1, **ROBYN_ARGS)
    assert list(daily.table.n_periods) == [28, 28]
    assert daily.table.delta_x[0] == pytest.approx(40000 / 28)


def test_robyn_geo_level_dates_count_each_period_once():
    geo_dates = np.concatenate([DATES, DATES])
    result = ingest(robyn(), "robyn", dates=geo_dates, **ROBYN_ARGS)
    assert list(result.table.n_periods) == [4, 4]


def test_robyn_total_scope_needs_carryover_periods():
    result = ingest(robyn(), "robyn", relative_se=0.1)
    assert list(result.report.status) == ["accepted", "rejected"]
    assert "calibration_scope: is 'total'" in reasons(result)[1]
    assert "pass carryover_periods" in reasons(result)[1]


def test_robyn_needs_a_standard_error():
    result = ingest(robyn().drop(columns="liftSE"), "robyn", carryover_periods=3)
    assert list(result.report.status) == ["rejected", "rejected"]
    assert all("liftSE: no standard error" in r for r in result.report.reason)
    assert "or pass relative_se" in reasons(result)[0]
    # liftSE takes precedence; a blank one without relative_se is rejected
    result = ingest(robyn(), "robyn", carryover_periods=3)
    assert list(result.report.status) == ["accepted", "rejected"]
    table = robyn().assign(liftAbs=[12000, 0])
    assert "liftAbs: is 0, so relative_se" in reasons(ingest(table, "robyn", **ROBYN_ARGS))[1]


def test_robyn_combined_channel_rejected():
    table = robyn()
    table.loc[0, "channel"] = "tv+social"
    result = ingest(table, "robyn", channels=CHANNELS, **ROBYN_ARGS)
    assert "channel: 'tv+social' is a combined-channel test" in reasons(result)[0]


def test_robyn_zero_and_negative_spend_map_to_spend():
    table = robyn().assign(spend=[0, -100])
    got = reasons(ingest(table, "robyn", **ROBYN_ARGS))
    assert got[0].startswith("spend: is 0: a test without a spend change measures nothing")
    assert "(as `delta_x` of the converted row)" in got[0]
    assert "spend: x + delta_x = -25.0 < 0" in got[1]


def test_geolift_conversion():
    result = ingest(DATA / "geolift.csv", "geolift", channels=CHANNELS, dates=DATES)
    assert result.ok, result.report
    tv, search = result.table.iloc[0], result.table.iloc[1]
    # tv: 8 Mondays in the window; lift and its 90% interval are totals, spend per period
    assert tv.n_periods == 8 and tv.aggregation == "mean" and tv.source == "geolift"
    assert tv.delta_y == pytest.approx(8000 / 8)
    assert tv.sigma == pytest.approx((11290 - 4710) / (2 * Z90) / 8, rel=1e-6)
    assert tv.sigma == pytest.approx(250.0, abs=0.1)
    assert (tv.x, tv.delta_x, tv.geo, tv.test_id) == (2000, 1000, "north", "geo-tv-1")
    # search: lift per period with a 95% interval, spend totals over 4 periods
    assert search.n_periods == 4 and search.delta_y == 50
    assert search.sigma == pytest.approx((70 - 30) / (2 * Z95), rel=1e-6)
    assert (search.x, search.delta_x) == (8000 / 4, 4000 / 4)
    validate_lift_table(result.table, CHANNELS, dates=DATES)


@pytest.mark.parametrize("column", ["lift_unit", "spend_unit"])
def test_geolift_missing_unit_column_is_an_error(column):
    with pytest.raises(LiftTableError) as info:
        ingest(geolift().drop(columns=column), "geolift")
    message = str(info.value)
    assert f"field `{column}`: required geolift column is missing" in message
    assert "the file has ['test_id', 'channel', 'geo'," in message
    assert "'total' (over the window) or 'per_period'" in message


def test_robyn_missing_column_lists_the_file():
    with pytest.raises(LiftTableError) as info:
        ingest(robyn().drop(columns="liftAbs"), "robyn", **ROBYN_ARGS)
    assert "field `liftAbs`: required robyn column is missing" in str(info.value)
    assert "'liftEndDate', 'spend'," in str(info.value)


def test_geolift_bad_interval_level_and_units():
    table = geolift().astype({"lift_unit": object})
    table.loc[0, "ci_level"] = 90
    table.loc[1, "lift_unit"] = "percent"
    got = reasons(ingest(table, "geolift"))
    assert "ci_level: must be a probability in (0, 1), e.g. 0.9 for 90%, got 90" in got[0]
    assert "lift_unit: must be one of ['total', 'per_period'], got 'percent'" in got[1]
    table = geolift().assign(lift=[20000, 50], lift_upper=[11290, 10])
    got = reasons(ingest(table, "geolift"))
    assert "lift: 20000 is outside its interval [4710, 11290]" in got[0]
    assert "lift_upper: 10 must be above lift_lower 30" in got[1]


# Bad input common to both formats: (format, column, value, expected part of the reason)
BAD = [
    ("robyn", "channel", "radio", "channel: unknown channel 'radio'; the model's channels are"),
    ("geolift", "channel", "radio", "channel: unknown channel 'radio'"),
    ("robyn", "liftEndDate", "2030-01-06", "liftEndDate: 2030-01-06 is outside the data"),
    ("geolift", "date_start", "2023-06-05", "date_start: 2023-06-05 is outside the data"),
    ("robyn", "liftStartDate", "04/03/2024", "liftStartDate: must be an ISO date"),
    ("robyn", "liftAbs", "lots", "liftAbs: must be a finite number, got 'lots'"),
    ("geolift", "lift_lower", "n/a", "lift_lower: must be a finite number, got 'n/a'"),
    ("robyn", "spend", 0, "spend: is 0: a test without a spend change measures nothing"),
    ("geolift", "spend_change", 0, "spend_change: is 0: a test without a spend change"),
    ("geolift", "spend_change", -500, "lift: is 1000.0 > 0 for a spend cut"),
]


@pytest.mark.parametrize(("fmt", "column", "value", "expected"), BAD)
def test_bad_input_row_and_field_named(fmt, column, value, expected):
    table = (robyn() if fmt == "robyn" else geolift()).astype({column: object})
    table.loc[0, column] = value
    kwargs = ROBYN_ARGS if fmt == "robyn" else {}
    result = ingest(table, fmt, channels=CHANNELS, dates=DATES, **kwargs)
    assert list(result.report.status) == ["rejected", "accepted"]
    assert expected in reasons(result)[0]
    with pytest.raises(LiftTableError) as info:
        ingest_or_raise(table, fmt, channels=CHANNELS, dates=DATES, **kwargs)
    assert f"row 0, field `{expected.split(':')[0]}`" in str(info.value)
    assert list(info.value.rejected["row"]) == [0]


def test_overlapping_tests_rejected_naming_the_earlier_input_row():
    first = geolift().iloc[[0]]
    table = pd.concat(
        [
            first.assign(channel="radio"),  # row 0: rejected before conversion
            first,  # row 1
            first.assign(test_id="geo-tv-2", date_start="2024-04-15", date_end="2024-05-12"),
            first.assign(test_id="geo-tv-3", geo="south"),  # another geo: no overlap
        ],
        ignore_index=True,
    )
    result = ingest(table, "geolift", channels=CHANNELS, dates=DATES)
    assert list(result.report.status) == ["rejected", "accepted", "rejected", "accepted"]
    assert reasons(result)[2].startswith(
        "date_start: window 2024-04-15..2024-05-12 overlaps row 1 (2024-03-04..2024-04-28) "
        "on the same channel 'tv', geo 'north'"
    )
    assert list(result.table.test_id) == ["geo-tv-1", "geo-tv-3"]


def test_robyn_overlap_maps_field_back():
    table = pd.concat([robyn().iloc[[0]], robyn().iloc[[0]].assign(liftEndDate="2024-04-07")])
    got = reasons(ingest(table, "robyn", **ROBYN_ARGS))
    assert got[1].startswith("liftStartDate: window 2024-03-04..2024-04-07 overlaps row 0")


def test_report_lists_every_row_once():
    table = pd.concat([robyn(), robyn().assign(channel=["radio", "tv+search"])])
    result = ingest(table, "robyn", channels=CHANNELS, dates=DATES, **ROBYN_ARGS)
    assert list(result.report.columns) == ["row", "status", "reason", "test_id"]
    assert list(result.report.row) == [0, 1, 2, 3]
    assert list(result.report.status) == ["accepted", "accepted", "rejected", "rejected"]
    assert len(result.table) == 2 and not result.ok
    assert {p.row for p in result.problems} == {2, 3}


def test_ingest_or_raise_names_every_rejected_row_and_field():
    table = geolift().astype({"ci_level": object})
    table.loc[0, "channel"] = "radio"
    table.loc[1, "ci_level"] = 1.5
    with pytest.raises(LiftTableError) as info:
        ingest_or_raise(table, "geolift", channels=CHANNELS, dates=DATES)
    message = str(info.value)
    assert message.startswith("Lift table has 2 invalid row(s) [0, 1]:")
    assert "row 0, field `channel`: unknown channel 'radio'" in message
    assert "row 1, field `ci_level`: must be a probability in (0, 1)" in message
    good = ingest_or_raise(DATA / "geolift.csv", "geolift", channels=CHANNELS, dates=DATES)
    assert len(good) == 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="Unknown lift format 'meridian'"):
        ingest(robyn(), "meridian")
    with pytest.raises(ValueError, match="relative_se must be a finite number > 0"):
        ingest(robyn(), "robyn", relative_se=0.0)
    with pytest.raises(ValueError, match="carryover_periods must be a whole number"):
        ingest(robyn(), "robyn", carryover_periods=-1)
    with pytest.raises(ValueError, match="apply to format='robyn' only"):
        ingest(geolift(), "geolift", relative_se=0.1)
    with pytest.raises(FileNotFoundError):
        ingest(DATA / "missing.csv", "robyn")


# ------------------------------------------------- channels, no rows, the data's scales
def options(fmt):
    return ROBYN_ARGS if fmt == "robyn" else {}


def data_frame(geos=(None,), sales=10_000.0):
    """Weekly data on DATES (per geo if given), peaks: sales ``sales``, spend 20,000."""
    wave = (1 + np.arange(len(DATES)) % 4) / 4
    frames = [
        pd.DataFrame(
            {
                "date": DATES,
                **({} if geo is None else {"geo": geo}),
                "sales": sales * wave,
                **{c: 20_000.0 * wave for c in CHANNELS},
            }
        )
        for geo in geos
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(("fmt", "name"), [("robyn", "TV"), ("geolift", "Tv"), ("mmmcal", "TV")])
def test_every_format_matches_channels_exactly_with_a_suggestion(fmt, name):
    table = pd.read_csv(DATA / f"{fmt}.csv")
    table.loc[0, "channel"] = name
    result = ingest(table, fmt, channels=CHANNELS, dates=DATES, **options(fmt))
    assert list(result.report.status) == ["rejected", "accepted"]
    assert reasons(result)[0].startswith(f"channel: unknown channel {name!r}")
    assert "did you mean 'tv'?" in reasons(result)[0]


@pytest.mark.parametrize("fmt", INGEST_FORMATS)
def test_a_file_without_rows_is_an_error(fmt, tmp_path):
    path = tmp_path / f"{fmt}.csv"
    pd.read_csv(DATA / f"{fmt}.csv").iloc[:0].to_csv(path, index=False)
    with pytest.raises(LiftTableError, match="The lift table has no rows"):
        ingest(path, fmt, **options(fmt))


def test_rows_that_all_fail_to_convert_are_each_reported():
    result = ingest(robyn().assign(channel="radio"), "robyn", channels=CHANNELS, **ROBYN_ARGS)
    assert list(result.report.status) == ["rejected", "rejected"]
    assert len(result.table) == 0 and "channel" in result.table.columns


def test_robyn_rows_are_held_to_the_data_scale():
    from mmmcal.lift.data_checks import data_checks

    checks = data_checks(data_frame(), target_column="sales")
    assert ingest(robyn(), "robyn", **checks, **ROBYN_ARGS).ok  # 12,000 over 4 weeks: fine
    table = robyn()
    table.loc[0, "liftAbs"] = 1e9  # Robyn's liftAbs is a window total: 4 x 10,000 at most
    table.loc[1, "spend"] = 1e10
    got = reasons(ingest(table, "robyn", **checks, **ROBYN_ARGS))
    assert got[0].startswith("liftAbs: 1000000000.0 over the 4 measured periods")
    assert (
        "larger than the whole target" in got[0] and "(as `delta_y` of the converted row)" in got[0]
    )
    assert got[1].startswith(
        "spend: 2500000000.0 (x + delta_x = 2500000000.0) per period is more than 10x"
    )


def test_geolift_rows_are_held_to_their_geo_scale():
    from mmmcal.lift.data_checks import data_checks

    data = data_frame(geos=("north", "south"), sales=500.0)
    checks = data_checks(data, target_column="sales", geo_column="geo")
    got = reasons(ingest(geolift(), "geolift", **checks))
    # The tv row's 1,000 per period is twice north's largest sales; search's 50 is fine.
    assert got[0].startswith("lift: 1000.0 per period is larger than the whole target")
    assert "in geo 'north' is 500" in got[0] and got[1] == ""
    checks = data_checks(
        data_frame(geos=("north", "south")), target_column="sales", geo_column="geo"
    )
    assert ingest(geolift(), "geolift", **checks).ok
    got = reasons(ingest(geolift().assign(geo=["north", "west"]), "geolift", **checks))
    assert got[1].startswith("geo: unknown geo 'west'")
