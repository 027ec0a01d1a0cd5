"""Property tests of the lift-table contract: malformed input is a named error, never a crash.

Generated tables and Robyn / geo-lift files mix good rows with missing and extra columns,
NaN, strings, infinities, huge numbers, negative sigmas, bad dates, repeated rows,
overlapping windows and channels with their case changed. The contract either accepts a
table or raises ``LiftTableError`` whose every problem names a row (-1: the whole table)
and a field; ingest reports every input row, or raises a ``ValueError`` naming a column.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmmcal.lift.data_checks import data_checks
from mmmcal.lift.formats import REQUIRED
from mmmcal.lift.ingest import ingest
from mmmcal.lift.problems import LiftTableError
from mmmcal.lift.table import LiftTable, check_lift_table, validate_lift_table

# pandas' date parsing of garbage warns (dateutil fallback, NaN casts): the values are refused.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Could not infer format:UserWarning"),
    pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning"),
]
CHANNELS = ["tv", "social", "search"]
GEOS = ["north", "south"]
DATES = pd.date_range("2024-01-01", periods=30, freq="7D")
PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _data() -> pd.DataFrame:
    wave = (1 + np.arange(len(DATES)) % 3) / 3
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "date": DATES,
                    "geo": g,
                    "sales": 900.0 * wave,
                    **{c: 4e3 * wave for c in CHANNELS},
                }
            )
            for g in GEOS
        ],
        ignore_index=True,
    )


CHECKS = data_checks(_data(), target_column="sales", geo_column="geo")

# Anything malformed a cell can hold.
odd = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.sampled_from([float("inf"), -float("inf"), 1e308, -1e308, 1e16, -5.0, 0.0]),
    st.text(max_size=6),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from(["04/03/2024", "soon", "2024-13-40", "2023-06-05", "2030-01-07"]),
)
channel = st.one_of(
    st.sampled_from(CHANNELS).map(str.upper),
    st.sampled_from(CHANNELS).map(str.title),
    st.sampled_from(["radio", " tv", "tv+search", ""]),
)
small = st.floats(min_value=1.0, max_value=500.0)
spend = st.floats(min_value=1.0, max_value=4e3)


@st.composite
def window(draw) -> tuple[str, str, int]:
    """A test window on DATES: its first and last date (ISO) and its length in periods."""
    i = draw(st.integers(min_value=0, max_value=len(DATES) - 1))
    n = draw(st.integers(min_value=1, max_value=len(DATES) - i))
    return DATES[i].strftime("%Y-%m-%d"), DATES[i + n - 1].strftime("%Y-%m-%d"), n


@st.composite
def lift_row(draw) -> dict:
    start, end, n = draw(window())
    return {
        "channel": draw(st.sampled_from(CHANNELS)),
        "x": draw(spend),
        "delta_x": draw(spend),
        "delta_y": draw(small),
        "sigma": draw(small),
        "geo": draw(st.sampled_from([*GEOS, *GEOS, "national", "west"])),
        "date_start": start,
        "date_end": end,
        "n_periods": n,
        "aggregation": draw(st.sampled_from(["mean", "mean", "sum", "sum", "median"])),
        "measured_from": 1,
        "measured_to": n,
        "test_id": draw(st.text(alphabet="t12", min_size=1, max_size=3)),
        "note": draw(odd),  # an extra column, kept as it is
    }


@st.composite
def robyn_row(draw) -> dict:
    start, end, _ = draw(window())
    return {
        "channel": draw(st.sampled_from(CHANNELS)),
        "liftStartDate": start,
        "liftEndDate": end,
        "liftAbs": draw(small),
        "spend": draw(spend),
        "confidence": 0.9,
        "calibration_scope": draw(st.sampled_from(["immediate", "total"])),
        "liftSE": draw(st.one_of(small, st.none())),
        "test_id": draw(st.text(alphabet="t12", min_size=1, max_size=3)),
    }


@st.composite
def geolift_row(draw) -> dict:
    start, end, _ = draw(window())
    lift, half = draw(small), draw(small)
    return {
        "channel": draw(st.sampled_from(CHANNELS)),
        "geo": draw(st.sampled_from(GEOS)),
        "date_start": start,
        "date_end": end,
        "lift": lift,
        "lift_lower": lift - half,
        "lift_upper": lift + half,
        "ci_level": draw(st.sampled_from([0.8, 0.9, 0.95])),
        "lift_unit": draw(st.sampled_from(["total", "per_period"])),
        "spend_before": draw(spend),
        "spend_change": draw(spend),
        "spend_unit": draw(st.sampled_from(["total", "per_period"])),
        "test_id": draw(st.text(alphabet="t12", min_size=1, max_size=3)),
    }


@st.composite
def frames(draw, rows, required: tuple[str, ...]) -> pd.DataFrame:
    """0-6 ``rows``, some cells malformed, some rows repeated, sometimes a column missing.

    Optional columns are a random subset; one example in ten lacks a required column.
    """
    table = [draw(rows) for _ in range(draw(st.integers(min_value=0, max_value=6)))]
    for row in table:
        for field in draw(st.lists(st.sampled_from(sorted(row)), max_size=2)):
            row[field] = draw(channel if field == "channel" else odd)
    if table and draw(st.booleans()):  # repeats: duplicates, overlapping windows
        table += [dict(r) for r in draw(st.lists(st.sampled_from(table), max_size=3))]
    fields = list(draw(rows))
    optional = [f for f in fields if f not in required]
    keep = [*required, *draw(st.lists(st.sampled_from(optional), unique=True))]
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        keep.remove(draw(st.sampled_from(list(required))))
    return pd.DataFrame(table, columns=fields)[[f for f in fields if f in keep]]


def lift_tables():
    return frames(lift_row(), ("channel", "x", "delta_x", "delta_y", "sigma"))


contexts = st.fixed_dictionaries(
    {},
    optional={
        "channels": st.just(CHECKS["channels"]),
        "dates": st.just(CHECKS["dates"]),
        "geos": st.just(CHECKS["geos"]),
        "scales": st.just(CHECKS["scales"]),
    },
)


def assert_named(err: LiftTableError, n_rows: int) -> None:
    assert err.problems
    for p in err.problems:
        assert -1 <= p.row < n_rows, p
        assert isinstance(p.field, str) and p.field, p
        assert isinstance(p.message, str) and p.message, p


@PROPERTY
@given(table=lift_tables(), context=contexts)
def test_validate_returns_a_lift_table_or_names_every_problem(table, context):
    try:
        out = validate_lift_table(table, **context)
    except LiftTableError as err:
        assert_named(err, len(table))
    else:
        assert isinstance(out, LiftTable) and len(out) == len(table) > 0
        assert validate_lift_table(out, **context) is out


@PROPERTY
@given(table=lift_tables(), context=contexts)
def test_check_puts_every_row_in_accepted_or_rejected(table, context):
    try:
        check = check_lift_table(table, **context)
    except LiftTableError as err:  # nothing to check row by row: a column, or no rows
        assert err.problems and all(p.row == -1 for p in err.problems)
        return
    assert sorted([*check.accepted["row"], *check.rejected["row"]]) == list(range(len(table)))
    assert set(check.rejected["row"]) == {p.row for p in check.problems}
    if check.problems:
        assert_named(LiftTableError(check.problems), len(table))


ROBYN_REQUIRED = REQUIRED["robyn"]
GEOLIFT_REQUIRED = REQUIRED["geolift"]


def assert_ingested(source: pd.DataFrame, fmt: str, **options) -> None:
    try:
        result = ingest(source, fmt, **options)
    except LiftTableError as err:  # a required column is missing, or there are no rows
        assert err.problems
        for p in err.problems:  # the column missing from the file, or its rows
            assert p.row == -1 and (p.field == "rows" or p.field not in source.columns), p
            assert p.field in str(err)
        return
    assert list(result.report["row"]) == list(range(len(source)))
    rejected = result.report[result.report["status"] == "rejected"]
    assert (rejected["reason"].str.len() > 0).all()
    assert {p.row for p in result.problems} == set(rejected["row"])
    assert all(isinstance(p.field, str) and p.field for p in result.problems)
    assert len(result.table) == (result.report["status"] == "accepted").sum()


@PROPERTY
@given(
    source=frames(robyn_row(), ROBYN_REQUIRED),
    options=contexts,
    relative_se=st.sampled_from([None, 0.1]),
    carryover=st.sampled_from([None, 0, 3]),
)
def test_ingest_robyn_reports_every_row_or_names_a_column(source, options, relative_se, carryover):
    assert_ingested(
        source, "robyn", **options, relative_se=relative_se, carryover_periods=carryover
    )


@PROPERTY
@given(source=frames(geolift_row(), GEOLIFT_REQUIRED), options=contexts)
def test_ingest_geolift_reports_every_row_or_names_a_column(source, options):
    assert_ingested(source, "geolift", **options)
