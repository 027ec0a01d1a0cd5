import numpy as np
import pandas as pd
import pytest
from pymc_extras.prior import Prior

from mmmcal.models.builder import build_mmm
from mmmcal.models.data import prepare_data
from mmmcal.models.priors import to_prior
from mmmcal.models.spec import ModelSpec, ModelSpecError

SPEC = {
    "target_column": "sales",
    "channel_columns": ["tv", "social", "search"],
    "control_columns": ["demand_proxy"],
}


def test_spec_round_trips_yaml(tmp_path):
    spec = ModelSpec.from_dict(
        {
            **SPEC,
            "priors": {
                "saturation_beta": {"distribution": "HalfNormal", "sigma": 1.5, "dims": "channel"}
            },
        }
    )
    assert ModelSpec.from_yaml(spec.to_yaml()) == spec
    path = tmp_path / "m.yaml"
    path.write_text(spec.to_yaml())
    assert ModelSpec.from_yaml(path) == spec


def test_default_priors_are_pymc_marketings():
    from pymc_marketing.mmm import GeometricAdstock, LogisticSaturation
    from pymc_marketing.mmm.multidimensional import MMM

    ours = build_mmm(ModelSpec.from_dict(SPEC))
    theirs = MMM(
        date_column="date",
        target_column="sales",
        channel_columns=["tv", "social", "search"],
        control_columns=["demand_proxy"],
        adstock=GeometricAdstock(l_max=8),
        saturation=LogisticSaturation(),
        yearly_seasonality=2,
    )
    assert ours.model_config == theirs.model_config
    assert ours.adstock.function_priors == theirs.adstock.function_priors
    assert ours.saturation.function_priors == theirs.saturation.function_priors


def test_prior_translation_including_hierarchy():
    p = to_prior("saturation_beta", {"distribution": "HalfNormal", "sigma": 2, "dims": "channel"})
    assert p == Prior("HalfNormal", sigma=2, dims="channel")
    h = to_prior(
        "intercept",
        {"distribution": "Normal", "mu": 0, "sigma": {"distribution": "HalfNormal", "sigma": 1}},
    )
    assert h == Prior("Normal", mu=0, sigma=Prior("HalfNormal", sigma=1))
    spec = ModelSpec.from_dict(
        {**SPEC, "priors": {"adstock_alpha": {"distribution": "Beta", "alpha": 2, "beta": 2}}}
    )
    mmm = build_mmm(spec)
    assert mmm.adstock.function_priors["alpha"].parameters == {"alpha": 2, "beta": 2}


@pytest.mark.parametrize(
    ("priors", "message"),
    [
        (
            {"saturation_lambda": {"distribution": "Gamma", "alpha": 3, "beta": 1}},
            "saturation_lambda' must be one of",
        ),
        (
            {"saturation_lam": {"distribution": "Gama", "alpha": 3, "beta": 1}},
            "distribution 'Gama' must be one of",
        ),
        (
            {"saturation_lam": {"distribution": "Poisson", "mu": 3}},
            "distribution 'Poisson' must be one of",
        ),
        ({"saturation_lam": {"distribution": "Gamma", "alpah": 3}}, "saturation_lam` is invalid"),
        ({"saturation_lam": 3}, "priors.saturation_lam: Input should be a valid dictionary"),
        ({"saturation_lam": {"alpha": 3}}, "`distribution` key"),
    ],
)
def test_bad_priors_fail_clearly(priors, message):
    with pytest.raises(ModelSpecError, match=message):
        ModelSpec.from_dict({**SPEC, "priors": priors})


def test_prior_names_follow_families():
    spec = ModelSpec.from_dict(
        {**SPEC, "adstock": {"family": "weibull_pdf"}, "saturation": {"family": "hill"}}
    )
    names = spec.prior_names()
    assert {
        "adstock_lam",
        "adstock_k",
        "saturation_slope",
        "saturation_kappa",
        "saturation_beta",
        "intercept",
    } <= set(names)
    assert "adstock_alpha" not in names


def test_unknown_family_names_allowed_values():
    with pytest.raises(
        ModelSpecError,
        match=r"The `adstock` family 'geometrc' must be one of \['delayed', 'geometric'",
    ):
        ModelSpec.from_dict({**SPEC, "adstock": {"family": "geometrc"}})
    with pytest.raises(ModelSpecError, match="saturation"):
        ModelSpec.from_dict({**SPEC, "saturation": {"family": "tanh"}})


def test_prepare_data_checks_and_scales_controls(reference_world):
    spec = ModelSpec.from_dict(SPEC)
    d = prepare_data(spec, reference_world.data)
    assert list(d.X.columns) == ["date", "tv", "social", "search", "demand_proxy"]
    assert d.X["demand_proxy"].abs().max() == pytest.approx(1.0)
    assert d.control_scale["demand_proxy"] == pytest.approx(
        reference_world.data["demand_proxy"].abs().max()
    )
    np.testing.assert_allclose(d.y.to_numpy(), reference_world.data["sales"].to_numpy())
    bad = reference_world.data.copy()
    bad.loc[5, "tv"] = np.nan
    with pytest.raises(
        ValueError, match=r"Column `tv` has missing or non-numeric values in rows \[5\]"
    ):
        prepare_data(spec, bad)
    with pytest.raises(ValueError, match="lacks column"):
        prepare_data(spec, reference_world.data.drop(columns="search"))
    dup = pd.concat([reference_world.data, reference_world.data.iloc[[3]]])
    with pytest.raises(ValueError, match="repeat a date"):
        prepare_data(spec, dup)


def test_slope_parametrization_resolves_per_family_and_prior():
    assert ModelSpec.from_dict(SPEC).slope_parametrized
    assert not ModelSpec.from_dict(
        {**SPEC, "saturation": {"family": "logistic", "parametrization": "native"}}
    ).slope_parametrized
    assert not ModelSpec.from_dict({**SPEC, "saturation": {"family": "hill"}}).slope_parametrized
    # with the spend factor, auto samples the native coordinates; `slope` still forces slope
    assert not ModelSpec.from_dict({**SPEC, "spend_factor": True}).slope_parametrized
    assert ModelSpec.from_dict({**SPEC, "spend_factor": "auto"}).slope_parametrized  # undecided
    forced = {"spend_factor": True, "saturation": {"parametrization": "slope"}}
    assert ModelSpec.from_dict({**SPEC, **forced}).slope_parametrized
    hierarchical = {
        "saturation_beta": {
            "distribution": "HalfNormal",
            "sigma": {"distribution": "HalfNormal", "sigma": 1},
            "dims": "channel",
        }
    }
    assert not ModelSpec.from_dict({**SPEC, "priors": hierarchical}).slope_parametrized
    for bad in (
        {"saturation": {"family": "hill", "parametrization": "slope"}},
        {"saturation": {"parametrization": "slope"}, "priors": hierarchical},
    ):
        with pytest.raises(ModelSpecError, match="parametrization 'slope' needs"):
            ModelSpec.from_dict({**SPEC, **bad})


def test_specs_saved_with_the_old_field_name_still_load():
    saved = ModelSpec.from_dict(
        {**SPEC, "saturation": {"family": "logistic", "parametrization": "native"}}
    ).to_yaml()
    assert "parametrization: native" in saved
    old = saved.replace("parametrization:", "parametrisation:")
    assert ModelSpec.from_yaml(old) == ModelSpec.from_yaml(saved)
    assert not ModelSpec.from_yaml(old).slope_parametrized
    both = {"family": "logistic", "parametrisation": "native", "parametrization": "slope"}
    with pytest.raises(ModelSpecError, match="give `parametrization` once"):
        ModelSpec.from_dict({**SPEC, "saturation": both})


@pytest.mark.parametrize(
    "family, prior",
    [
        ("logistic", {}),
        (
            "logistic",
            {
                "saturation_beta": {
                    "distribution": "Gamma",
                    "mu": 1.5,
                    "sigma": 1,
                    "dims": "channel",
                }
            },
        ),
        ("michaelis_menten", {}),
    ],
)
def test_slope_parametrization_keeps_the_native_prior(reference_world, family, prior):
    """Same joint prior of the saturation parameters in both coordinates (independent draws)."""
    import pymc as pm
    from scipy import stats

    draws = {}
    for i, par in enumerate(("native", "slope")):
        spec = ModelSpec.from_dict(
            {**SPEC, "saturation": {"family": family, "parametrization": par}, "priors": prior}
        )
        d = prepare_data(spec, reference_world.data)
        mmm = build_mmm(spec)
        mmm.build_model(d.X, d.y)
        free = {v.name for v in mmm.model.free_RVs}
        assert ("saturation_initial_slope" in free) == (par == "slope")
        names = list(mmm.saturation.variable_mapping.values())
        with mmm.model:
            prior_draws = pm.sample_prior_predictive(3000, random_seed=10 + i, var_names=names)
        draws[par] = prior_draws.prior
    for name in draws["native"].data_vars:
        for ch in draws["native"][name].channel.values:
            a = draws["native"][name].sel(channel=ch).values.ravel()
            b = draws["slope"][name].sel(channel=ch).values.ravel()
            assert stats.ks_2samp(a, b).pvalue > 1e-3, (name, ch)
    # lam and the scale stay independent a priori, as in the native model
    lam = np.log(draws["slope"]["saturation_lam"].values.ravel())
    scale = [n for n in draws["slope"].data_vars if n != "saturation_lam"][0]
    assert abs(np.corrcoef(lam, np.log(draws["slope"][scale].values.ravel()))[0, 1]) < 0.06


def test_baseline_options_default_off_validate_and_round_trip_yaml():
    spec = ModelSpec.from_dict(SPEC)
    assert spec.trend.kind == "none" and spec.time_varying_intercept is False
    both = ModelSpec.from_dict(
        {**SPEC, "trend": "linear", "time_varying_intercept": {"ls_mu": 20, "m": 30}}
    )
    assert both.trend.kind == "linear" and both.trend.n_changepoints == 8
    assert both.time_varying_intercept.ls_mu == 20  # type: ignore[union-attr]
    assert ModelSpec.from_yaml(both.to_yaml()) == both
    assert (
        ModelSpec.from_yaml(
            ModelSpec.from_dict({**SPEC, "time_varying_intercept": True}).to_yaml()
        ).time_varying_intercept
        is True
    )
    for bad, message in [
        ({"trend": "quadratic"}, "trend"),
        ({"trend": {"kind": "linear", "n_changepoints": 0}}, "n_changepoints"),
        ({"time_varying_intercept": {"ls_mu": -1}}, "ls_mu"),
        ({"time_varying_intercept": {"ls_lower": 4}}, "ls_lower"),
    ]:
        with pytest.raises(ModelSpecError, match=message):
            ModelSpec.from_dict({**SPEC, **bad})


@pytest.mark.parametrize(
    ("options", "extra", "absent"),
    [
        ({}, {"intercept_contribution"}, {"delta", "intercept_baseline"}),
        (
            {"trend": {"kind": "linear", "n_changepoints": 5}},
            {"delta", "trend_effect_contribution"},
            set(),
        ),
        (
            {"time_varying_intercept": {"m": 20}},
            {"intercept_baseline", "intercept_latent_process_raw_ls"},
            {"delta"},
        ),
    ],
)
def test_baseline_options_add_their_variables(reference_world, options, extra, absent):
    spec = ModelSpec.for_world(reference_world, **options)
    data = prepare_data(spec, reference_world.data)
    mmm = build_mmm(spec)
    mmm.build_model(data.X, data.y)
    names = set(mmm.model.named_vars)
    assert extra <= names and not absent & names
    if "trend" in options:
        assert mmm.model.coords["changepoint"] == tuple(range(5))
    if "time_varying_intercept" in options:
        assert mmm.model_config["intercept_tvp_config"].m == 20
