"""The data and model-spec contract: every mistake is one clear error before any compile."""

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mmmcal.cli import app
from mmmcal.dates import DateError, parse_dates, read_dates
from mmmcal.models.bayes import CalibratedMMM
from mmmcal.models.data import DataError, ModelData, dates_needed, prepare_data
from mmmcal.models.prior_check import PriorError, check_priors, model_coords
from mmmcal.models.spec import ModelSpec, ModelSpecError

CHANNELS = ["tv", "social", "search"]
SPEC = {"channel_columns": CHANNELS, "yearly_seasonality": None, "adstock": {"l_max": 4}}
runner = CliRunner()


def frame(n=40, start="2024-01-01", freq="7D", geos=None, seed=0):
    """A small valid weekly data set (optionally a geo panel)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=n, freq=freq)
    keys = [(d, g) for d in dates for g in geos] if geos else [(d, None) for d in dates]
    out = pd.DataFrame({"date": [k[0] for k in keys]})
    if geos:
        out["geo"] = [k[1] for k in keys]
    for c in CHANNELS:
        out[c] = rng.uniform(0, 100, len(out))
    out["sales"] = rng.uniform(50, 150, len(out))
    return out


def spec(**changes):
    return ModelSpec.from_dict({**SPEC, **changes})


# ---------------------------------------------------------------- dates
def test_ambiguous_dates_are_refused_with_both_readings():
    data = frame(12, freq="MS").assign(date=lambda d: d["date"].dt.strftime("03/%m/%Y"))
    data.loc[3, "date"] = "03/04/2024"
    with pytest.raises(DataError) as err:
        prepare_data(spec(), data)
    assert str(err.value) == (
        "Column `date` has dates like '03/01/2024' that read as either 3 January or 1 March; "
        "write them as YYYY-MM-DD (e.g. 2024-01-03)."
    )
    with pytest.raises(DateError, match="'03/04/2024' that read as either 3 April or 4 March"):
        parse_dates(["03/04/2024", "05/06/2024"], "date")


def test_day_first_file_is_parsed_day_first_in_every_row(tmp_path):
    data = frame(40)
    truth = data["date"].copy()
    data["date"] = data["date"].dt.strftime("%d/%m/%Y")  # 01/01, 08/01, 15/01: day > 12
    data.to_csv(tmp_path / "d.csv", index=False)
    read = pd.read_csv(tmp_path / "d.csv")
    prepared = prepare_data(spec(), read)
    assert list(prepared.X["date"]) == list(truth)  # 05/02/2024 is 5 February, not 2 May
    assert read_dates(read["date"], "date").order == "day-first"
    month_first = read_dates(truth.dt.strftime("%m.%d.%y"), "date")
    assert month_first.order == "month-first" and list(month_first.values) == list(truth)


def test_a_column_mixing_day_first_and_month_first_names_rows():
    data = frame(40)
    text = data["date"].dt.strftime("%d/%m/%Y").copy()
    text.iloc[20:] = data["date"].iloc[20:].dt.strftime("%m/%d/%Y")
    with pytest.raises(DataError, match=r"mixes day-first dates \(rows \[2, 3, 4\] \('15/01/2024'"):
        prepare_data(spec(), data.assign(date=text))
    with pytest.raises(DataError, match=r"and month-first dates \(rows \[20, 21, 24\]"):
        prepare_data(spec(), data.assign(date=text))


def test_unparseable_dates_name_rows_and_values():
    data = frame(40).astype({"date": str})
    data.loc[[4, 9], "date"] = ["2024-13-45", "soon"]
    with pytest.raises(
        DataError,
        match=r"Column `date` has values that are not dates in rows \[4, 9\] "
        r"\('2024-13-45', 'soon'\); write dates as YYYY-MM-DD",
    ):
        prepare_data(spec(), data)
    parsed = read_dates(data["date"], "date")
    assert parsed.bad_rows == (4, 9) and parsed.values[:4].notna().all()


# ---------------------------------------------------------------- the grid
def test_five_missing_weeks_are_named():
    data = frame(40).drop(index=range(10, 15))
    with pytest.raises(DataError) as err:
        prepare_data(spec(), data)
    assert str(err.value).startswith(
        "5 date(s) are missing from the weekly grid: 2024-03-11, 2024-03-18, 2024-03-25, "
        "2024-04-01, 2024-04-08; fill the gaps (zero spend is a value)"
    )


def test_dates_shifted_from_row_30_are_off_the_grid():
    data = frame(40)
    data.loc[30:, "date"] += pd.Timedelta(days=3)
    with pytest.raises(
        DataError,
        match=r"Dates from row 30 \(2024-08-01\) are 3 days off the weekly grid starting "
        r"2024-01-01 \(10 row\(s\) off it\)",
    ):
        prepare_data(spec(), data)


def test_daily_and_monthly_grids_are_accepted():
    assert len(prepare_data(spec(), frame(30, freq="D")).X) == 30
    assert len(prepare_data(spec(), frame(24, freq="MS")).X) == 24  # 28- to 31-day gaps


def test_a_geo_missing_a_date_is_named():
    data = frame(20, geos=["a", "b", "c"])
    data = data.drop(index=data.index[(data["geo"] == "b") & (data["date"] == "2024-02-05")])
    with pytest.raises(
        DataError, match=r"Geo 'b' lacks 1 of the 20 dates: 2024-02-05; every geo needs a row"
    ):
        prepare_data(spec(geo_column="geo"), data)


def test_a_single_row_is_refused():
    with pytest.raises(DataError, match=r"The data has 1 date\(s\) in `date`"):
        prepare_data(spec(), frame(1))


# ---------------------------------------------------------------- the target and length
def test_constant_and_all_zero_targets_are_refused():
    with pytest.raises(DataError, match=r"Column `sales` \(the target\) is 100 in every row"):
        prepare_data(spec(), frame().assign(sales=100.0))
    with pytest.raises(DataError, match=r"Column `sales` \(the target\) is 0 in every row"):
        prepare_data(spec(), frame().assign(sales=0.0))


def test_negative_target_is_refused_where_the_likelihood_cannot_take_it():
    data = frame()
    data.loc[[3, 7], "sales"] = [-5.0, -1.5]
    gamma = {"likelihood": {"distribution": "Gamma", "sigma": 1}}
    with pytest.raises(
        DataError,
        match=r"Column `sales` \(the target\) has non-positive values in rows \[3, 7\] "
        r"\(-5, -1.5\), outside the support of the Gamma likelihood",
    ):
        prepare_data(spec(priors=gamma), data)
    # The default Normal likelihood takes any value (simulated geo data dip below 0).
    assert isinstance(prepare_data(spec(), data), ModelData)


def test_numbers_written_as_text_are_named_with_the_fix():
    data = frame(12).assign(tv=lambda d: d["tv"].map(lambda v: f"{1000 + v:,.0f}"))
    with pytest.raises(DataError, match=r"\(e.g. '1,0\d\d'.*thousands separators.*plain numbers"):
        prepare_data(spec(), data)
    data["social"] = data["social"].astype(object)
    data.loc[2, "social"] = "n/a"
    with pytest.raises(DataError, match=r"`social` .* rows \[2\] \(e.g. 'n/a'\); pymc-marketing"):
        prepare_data(spec(), data.assign(tv=1.0))


def test_too_few_dates_for_l_max_or_the_coefficients():
    with pytest.raises(
        DataError,
        match=r"The data has 8 dates but adstock.l_max is 8: the carryover window needs more "
        r"than 8 dates. Lower adstock.l_max \(below 8\) or give more dates",
    ):
        prepare_data(spec(adstock={"l_max": 8}), frame(8))
    seasonal = spec(adstock={"l_max": 2}, yearly_seasonality=4)
    assert dates_needed(seasonal) == (3, 13)
    with pytest.raises(
        DataError, match=r"The data has 10 dates, too few for the model's 11 coefficients"
    ) as err:
        prepare_data(seasonal, frame(10))
    assert "it needs at least 13. Lower yearly_seasonality" in str(err.value)
    assert isinstance(prepare_data(seasonal, frame(13)), ModelData)


# ---------------------------------------------------------------- names
def test_a_slash_in_a_channel_name_is_refused_with_why():
    with pytest.raises(ModelSpecError) as err:
        spec(channel_columns=["tv/web", "search"])
    assert "channel_columns" in str(err.value)
    assert "the column name 'tv/web' has a `/`, which cannot be saved in the fit's netCDF file" in (
        str(err.value)
    )
    assert "e.g. 'tv_web'" in str(err.value)


@pytest.mark.parametrize(
    "field, name, words",
    [
        ("channel_columns", [" tv"], "starts or ends with whitespace; write it as 'tv'"),
        ("control_columns", ["price\t"], "starts or ends with whitespace"),
        ("target_column", "", "a column name is empty"),
        ("date_column", "da\x01te", "control character(s)"),
        ("geo_column", "region/x", "has a `/`"),
    ],
)
def test_bad_column_names_name_the_field(field, name, words):
    with pytest.raises(ModelSpecError) as err:
        spec(**{field: name})
    assert f"  - {field}" in str(err.value) and words in str(err.value)


def test_the_y_rule_and_one_role_per_column_stay():
    with pytest.raises(ModelSpecError, match="may not be called 'y'"):
        spec(channel_columns=["y"])
    with pytest.raises(ModelSpecError, match=r"columns used twice .*\['date'\]"):
        spec(channel_columns=["date", "tv"])


# ---------------------------------------------------------------- priors
def _build(priors, data=None, **changes):
    return CalibratedMMM(spec(priors=priors, **changes)).build(frame() if data is None else data)


def test_a_prior_of_the_wrong_length_is_refused_before_building():
    bad = {"saturation_beta": {"distribution": "HalfNormal", "sigma": [1, 2], "dims": "channel"}}
    model = CalibratedMMM(spec(priors=bad))
    start = time.perf_counter()
    with pytest.raises(PriorError) as err:
        model.build(frame())
    assert str(err.value) == (
        "The prior `saturation_beta` parameter `sigma` has 2 values but dims `channel` has 3 "
        "(tv, social, search); give one value or one per entry."
    )
    assert not hasattr(model, "mmm_") and time.perf_counter() - start < 2


@pytest.mark.parametrize(
    "priors, words",
    [
        (
            {"saturation_beta": {"distribution": "HalfNormal", "sigma": -1, "dims": "channel"}},
            "The prior `saturation_beta` parameter `sigma` must be > 0; it is -1.0.",
        ),
        (
            {"saturation_lam": {"distribution": "Gamma", "alpha": 0, "beta": 1}},
            "The prior `saturation_lam` parameter `alpha` must be > 0; it is 0.0.",
        ),
        (
            {
                "adstock_alpha": {
                    "distribution": "Beta",
                    "alpha": {"distribution": "HalfNormal", "sigma": -2},
                    "beta": 3,
                }
            },
            "The prior `adstock_alpha.alpha` parameter `sigma` must be > 0; it is -2.0.",
        ),
        (
            {"likelihood": {"distribution": "StudentT", "nu": 0, "sigma": 1}},
            "The prior `likelihood` parameter `nu` must be > 0; it is 0.0.",
        ),
    ],
)
def test_a_prior_outside_its_domain_names_the_parameter(priors, words):
    with pytest.raises(PriorError) as err:
        _build(priors)
    assert str(err.value) == words


def test_a_prior_with_unknown_or_foreign_dims_is_refused():
    bad = {"saturation_beta": {"distribution": "HalfNormal", "sigma": 1, "dims": "market"}}
    with pytest.raises(
        PriorError,
        match=r"The prior `saturation_beta` has dims \['market'\], which this model does not "
        r"have \(it has channel, date\); use dims among \['channel'\] or none",
    ):
        _build(bad)
    with pytest.raises(PriorError, match=r"`intercept` cannot have dims \['channel'\]; give it"):
        _build({"intercept": {"distribution": "Normal", "sigma": 1, "dims": "channel"}})
    per_geo = {
        "saturation_beta": {
            "distribution": "HalfNormal",
            "sigma": [1, 2],
            "dims": ["geo", "channel"],
        }
    }
    with pytest.raises(PriorError, match=r"dims `geo, channel` have shape \(2, 3\)"):
        _build(per_geo, frame(20, geos=["a", "b"]), geo_column="geo")


def test_valid_priors_pass_and_the_check_is_cheap():
    priors = {
        "saturation_beta": {"distribution": "HalfNormal", "sigma": [1, 2, 3], "dims": "channel"},
        "adstock_alpha": {"distribution": "Beta", "alpha": 1, "beta": 3, "dims": "channel"},
        "intercept": {"distribution": "Normal", "mu": 0, "sigma": 2},
        "likelihood": {
            "distribution": "Normal",
            "sigma": {"distribution": "HalfNormal", "sigma": 2},
            "dims": "date",
        },
    }
    s = spec(priors=priors)
    coords = model_coords(s, frame()["date"])
    check_priors(s, coords)  # warm
    start = time.perf_counter()
    check_priors(s, coords)
    assert time.perf_counter() - start < 1.0


# ---------------------------------------------------------------- the command line
def _fit_cli(tmp_path, data, spec_dict):
    data.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "m.yaml").write_text(ModelSpec.model_validate(spec_dict).to_yaml())
    out = tmp_path / "fit"
    args = ["fit", "--data", str(tmp_path / "d.csv"), "--model", str(tmp_path / "m.yaml")]
    start = time.perf_counter()
    result = runner.invoke(app, [*args, "--out", str(out), "--fast"])
    seconds = time.perf_counter() - start
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "Error: " in result.output
    assert not out.exists() and seconds < 5
    return result.output


def _unwrapped(text):
    return " ".join(text.split())


def test_cli_refuses_ambiguous_dates(tmp_path):
    data = frame(12, freq="MS").assign(date=lambda d: d["date"].dt.strftime("03/%m/%Y"))
    assert "read as either 3 January or 1 March" in _unwrapped(_fit_cli(tmp_path, data, SPEC))


def test_cli_refuses_missing_weeks(tmp_path):
    output = _unwrapped(_fit_cli(tmp_path, frame(40).drop(index=range(10, 15)), SPEC))
    assert "5 date(s) are missing from the weekly grid: 2024-03-11" in output


def test_cli_refuses_a_prior_of_the_wrong_length(tmp_path):
    bad = {"saturation_beta": {"distribution": "HalfNormal", "sigma": [1, 2], "dims": "channel"}}
    output = _unwrapped(_fit_cli(tmp_path, frame(), {**SPEC, "priors": bad}))
    assert "parameter `sigma` has 2 values but dims `channel` has 3 (tv, social, search)" in output


def test_cli_refuses_a_slash_in_a_channel_name(tmp_path):
    (tmp_path / "m.yaml").write_text("channel_columns: [tv/web]\n")
    frame().to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "fit"
    args = ["fit", "--data", str(tmp_path / "d.csv"), "--model", str(tmp_path / "m.yaml")]
    result = runner.invoke(app, [*args, "--out", str(out), "--fast"])
    assert result.exit_code == 1 and not out.exists()
    assert "cannot be saved in the fit's netCDF file" in _unwrapped(result.output)


# ---------------------------------------------------------------- properties
NAMES = [*CHANNELS, "sales", "date", "geo"]


def _names_a_place(message: str) -> bool:
    return any(f"`{n}`" in message or repr(n) in message for n in NAMES) or any(
        word in message for word in ("row", "date", "geo", "column")
    )


@st.composite
def malformed_frames(draw):
    geos = draw(st.sampled_from([None, ["a", "b"]]))
    data = frame(draw(st.integers(1, 30)), geos=geos, seed=draw(st.integers(0, 3)))
    rows = st.integers(0, len(data) - 1)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(
            st.sampled_from(
                ["drop_col", "nan", "text", "negative", "dup", "shuffle", "shift", "hole", "fmt"]
            )
        )
        col = draw(st.sampled_from([c for c in NAMES if c in data]))
        r = draw(rows)
        if kind == "drop_col":
            data = data.drop(columns=col)
        elif kind == "nan" and len(data):
            data.loc[data.index[r % len(data)], col] = np.nan
        elif kind == "text" and len(data):
            data[col] = data[col].astype(object)
            data.loc[data.index[r % len(data)], col] = draw(st.text(max_size=5))
        elif kind == "negative" and col in ("sales", *CHANNELS):
            data[col] = pd.to_numeric(data[col], errors="coerce") * draw(st.sampled_from([-1, 0]))
        elif kind == "dup" and len(data):
            data = pd.concat([data, data.iloc[[r % len(data)]]])
        elif kind == "shuffle":
            data = data.sample(frac=1, random_state=r)
        elif (
            kind == "shift"
            and len(data)
            and "date" in data
            and pd.api.types.is_datetime64_any_dtype(data["date"])
        ):
            days = draw(st.integers(-10, 10))
            data.loc[data.index[r % len(data) :], "date"] += pd.Timedelta(days=days)
        elif kind == "hole" and len(data) > 1:
            data = data.drop(index=data.index[r % len(data)])
        elif (
            kind == "fmt" and "date" in data and pd.api.types.is_datetime64_any_dtype(data["date"])
        ):
            fmt = draw(st.sampled_from(["%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%d.%m.%y"]))
            data["date"] = data["date"].dt.strftime(fmt)
    return data, geos


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(malformed_frames())
def test_any_frame_gives_model_data_or_a_data_error_naming_the_place(case):
    data, geos = case
    s = spec(geo_column="geo" if geos else None, adstock={"l_max": 2})
    try:
        prepared = prepare_data(s, data)
    except DataError as err:
        assert _names_a_place(str(err)), str(err)
        return
    assert isinstance(prepared, ModelData)
    assert prepared.X["date"].is_monotonic_increasing and np.isfinite(prepared.y).all()


JUNK = st.one_of(
    st.none(), st.integers(-3, 200), st.floats(allow_nan=True), st.text(max_size=6), st.booleans()
)
COLUMN = st.one_of(
    st.sampled_from(["tv", " tv", "tv/web", "", "y", "date", "sales", "a\x00b", "geo"]),
    st.text(max_size=6),
    JUNK,
)
PRIOR = st.fixed_dictionaries(
    {
        "distribution": st.sampled_from(["HalfNormal", "Gamma", "Beta", "Normal", "Nope", 3]),
    },
    optional={
        "sigma": st.one_of(JUNK, st.lists(st.floats(-2, 3), max_size=4)),
        "alpha": JUNK,
        "beta": JUNK,
        "mu": JUNK,
        "dims": st.one_of(st.sampled_from(["channel", "geo", "market", ["geo", "channel"]]), JUNK),
        "centered": JUNK,
        "wrong": JUNK,
    },
)
PRIOR_NAMES = st.sampled_from(
    ["saturation_beta", "saturation_lam", "adstock_alpha", "intercept", "likelihood", "nope"]
)
FIELDS = {
    "channel_columns": st.one_of(st.lists(COLUMN, max_size=4), JUNK),
    "date_column": COLUMN,
    "target_column": COLUMN,
    "control_columns": st.one_of(st.lists(COLUMN, max_size=2), JUNK),
    "geo_column": COLUMN,
    "adstock": st.one_of(
        st.fixed_dictionaries(
            {}, optional={"family": st.sampled_from(["geometric", "geo", 1]), "l_max": JUNK}
        ),
        JUNK,
    ),
    "saturation": st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "family": st.sampled_from(["logistic", "hill", "tanh"]),
                "parametrization": st.sampled_from(["auto", "slope", "bad"]),
            },
        ),
        JUNK,
    ),
    "yearly_seasonality": JUNK,
    "priors": st.one_of(st.dictionaries(PRIOR_NAMES, PRIOR, max_size=2), JUNK),
    "unknown_field": JUNK,
}


@st.composite
def spec_dicts(draw):
    """A valid spec with 0-2 fields replaced by anything (wrong types, bad names, bad priors)."""
    data = {**SPEC, "control_columns": ["price"]}
    for field in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=2, unique=True)):
        data[field] = draw(FIELDS[field])
    return data


SPEC_DICT = spec_dicts()


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPEC_DICT)
def test_any_spec_dict_gives_a_spec_or_an_error_naming_the_field(data):
    try:
        result = ModelSpec.from_dict(data)
    except ModelSpecError as err:
        message = str(err)
        assert message.startswith("Invalid model spec:") and "\n  - " in message, message
        return
    assert isinstance(result, ModelSpec)


VALID_PRIOR = st.fixed_dictionaries(
    {
        "distribution": st.sampled_from(["HalfNormal", "Gamma", "Normal"]),
        "sigma": st.one_of(
            st.floats(-2, 3, allow_nan=False), st.lists(st.floats(-2, 3), min_size=1, max_size=4)
        ),
    },
    optional={"dims": st.sampled_from(["channel", "date", "geo", "market"])},
)


# Each example builds a small PyMC model (tens of milliseconds), so fewer examples here.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["saturation_beta", "intercept"]), VALID_PRIOR, max_size=2))
def test_any_prior_passes_or_gives_a_prior_error_naming_it(priors):
    try:
        s = spec(priors=priors)
    except ModelSpecError:
        return
    try:
        check_priors(s, model_coords(s, frame(10)["date"]))
    except PriorError as err:
        assert any(f"The prior `{name}" in str(err) for name in priors), str(err)
