"""Which test next: candidates checked by row and field, the preposterior update against the
conjugate answer, advice on stored fits, the command, and the advice study's metrics."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mmmcal.advise.advice import advise
from mmmcal.advise.candidates import (
    Candidate,
    CandidateError,
    check_candidates,
    default_candidates,
    parse_candidates,
)
from mmmcal.advise.preposterior import MIN_ESS, interval_widths, preposterior
from mmmcal.cli.app import app
from mmmcal.experiments.conversion_lift import LiftTestDesign, planned_row
from mmmcal.models.engines import load_fit
from mmmcal.study.advice import advice_metrics, world_advice
from mmmcal.study.spec import Study, StudyError

FITS = Path(__file__).parent / "data" / "fits"
CHANNELS = ["tv", "social", "search"]


@pytest.fixture(scope="module")
def uncalibrated():
    return load_fit(FITS / "uncalibrated")


@pytest.fixture(scope="module")
def calibrated():
    return load_fit(FITS / "calibrated")


# ---------------------------------------------------------------- candidates
def test_candidate_errors_name_each_row_and_field():
    with pytest.raises(CandidateError) as err:
        parse_candidates(
            [
                {"channel": "tv", "design": "go-dark", "spend_change": 0.5},
                {"channel": "tv", "weeks": 0},
                {"chanel": "tv"},
            ]
        )
    text = str(err.value)
    assert "row 1: a go-dark cannot have spend_change 0.5" in text
    assert "row 2, field `weeks`" in text
    assert "row 3, field `chanel`: unknown field" in text and "row 3, field `channel`" in text


def test_candidates_that_cannot_run_on_the_fit_are_refused_by_row():
    cands = parse_candidates(
        [
            {"channel": "tvv"},
            {"channel": "social", "design": "go-dark"},
            {"channel": "search", "weeks": 80},
            {"channel": "search", "weeks": 80},
        ]
    )
    with pytest.raises(CandidateError) as err:
        check_candidates(cands, CHANNELS, np.array([1.0, 0.0, 1.0]), 60)
    text = str(err.value)
    assert "row 1, field `channel`: 'tvv' is not a channel of the fit (did you mean 'tv'?)" in text
    assert "row 2, field `design`: 'social' has no spend to go-dark; use design: switch-on" in text
    assert "row 3, field `weeks`: 80 is more than the 60 periods" in text
    assert "row 4: 'search heavy-up +50% 80w' repeats" in text


def test_a_candidate_runs_in_the_simulator_as_the_design_it_names():
    dates = pd.date_range("2024-01-01", periods=20, freq="W-MON")
    for c, (x, dx) in [
        (Candidate(channel="tv", design="go-dark", weeks=4), (100.0, -100.0)),
        (Candidate(channel="tv", design="pull-back", spend_change=-0.25), (100.0, -25.0)),
        (Candidate(channel="tv", design="switch-on", spend_change=2), (0.0, 200.0)),
        (Candidate(channel="tv"), (100.0, 50.0)),
    ]:
        design = c.design_for_simulator()
        row = planned_row(design, dates, mean_spend=100.0)
        assert (row["x"], row["delta_x"]) == pytest.approx((x, dx))
        assert row["date_end"] == "2024-05-13" and row["n_periods"] == c.weeks
        assert Candidate.from_design(design).change == pytest.approx(c.change)
    with pytest.raises(ValueError, match="not both"):
        LiftTestDesign(channel="tv", delta_x=10, spend_change=0.5)
    with pytest.raises(ValueError, match="as `spend_change`"):
        Candidate.from_design(LiftTestDesign(channel="tv", delta_x=10))


# ---------------------------------------------------------------- preposterior
def _conjugate_world(sd_theta=0.5, n=2000, seed=0):
    rng = np.random.default_rng(seed)
    theta = rng.normal(1.0, sd_theta, n)
    other = 0.5 * theta + rng.normal(0, 0.2, n)  # learns through its correlation with theta
    return theta, np.column_stack([theta, other])


@pytest.mark.parametrize("sigma", [5.0, 0.5, 0.05])
def test_preposterior_widths_match_the_conjugate_normal_update(sigma):
    # lift = 10 theta, theta ~ N(1, 0.5): after y ~ N(lift, sigma) theta's sd is known exactly.
    theta, q = _conjugate_world()
    pre = preposterior(
        10 * theta, sigma, q, np.zeros((len(theta), 2, 3)), np.array([1, 1]),
        n_outcomes=64, rng=np.random.default_rng(1),
    )  # fmt: skip
    exact = 2 * 1.6449 * np.sqrt(1 / (1 / 0.25 + 100 / sigma**2))
    assert pre.widths[:, 0].mean() == pytest.approx(exact, rel=0.12)
    assert pre.widths[:, 1].mean() < interval_widths(q)[1]
    # a precise test leaves few draws with weight: the linear update takes over
    assert pre.linear.mean() == (1.0 if sigma < 0.1 else pytest.approx(0.0, abs=0.2))
    assert (pre.ess[pre.linear] < MIN_ESS).all() or (pre.pareto_k[pre.linear] > 0.7).all()


def test_decision_gain_is_zero_when_no_outcome_can_change_the_best_split():
    theta, q = _conjugate_world(n=500)
    curves = np.zeros((500, 2, 5))
    curves[:, 0] = np.linspace(0, 1, 5)  # channel 0 always best: every draw agrees
    pre = preposterior(
        10 * theta, 1.0, q, curves, np.array([4, 0]), n_outcomes=16, rng=np.random.default_rng(0)
    )
    assert np.allclose(pre.decision_gain, 0)
    # a channel whose value depends on theta's sign: learning it can change the split
    curves[:, 1] = np.linspace(0, 1, 5)[None] * (theta[:, None] - 1) * 4
    pre = preposterior(
        10 * theta, 1.0, q, curves, np.array([4, 0]), n_outcomes=64, rng=np.random.default_rng(0)
    )
    assert pre.decision_gain.mean() > 0.1


def test_interval_widths_without_weights_are_the_central_interval():
    q = np.random.default_rng(0).normal(size=(4000, 2))
    want = np.quantile(q, 0.95, axis=0) - np.quantile(q, 0.05, axis=0)
    assert interval_widths(q) == pytest.approx(want, rel=0.01)


# ---------------------------------------------------------------- advice on fits
def test_advice_ranks_candidates_and_knows_a_tested_channel_has_little_left_to_teach(
    uncalibrated, calibrated
):
    plain = advise(uncalibrated, n_draws=100, n_outcomes=32)
    table = plain.table
    assert list(table["rank"]) == list(range(1, 7))
    assert table["value_share"].is_monotonic_decreasing
    assert set(table["candidate"]) == {c.label for c in default_candidates(CHANNELS)}
    assert table["power"].between(0, 1).all() and (table["mde"] > 0).all()
    go_dark = table[table["design"] == "go-dark"]
    assert (go_dark["extra_spend"] < 0).all() and (go_dark["expected_target_change"] < 0).all()
    assert plain.best == table["candidate"].iloc[0] and table["reason"].str.contains("power").all()
    # the calibrated fit has had its TV test: TV candidates now teach the least
    after = advise(calibrated, n_draws=100, n_outcomes=32).table.set_index("candidate")
    before = table.set_index("candidate")
    for c in ("tv go-dark 8w", "tv heavy-up +50% 8w"):
        assert after.loc[c, "narrowing_share_tv"] < before.loc[c, "narrowing_share_tv"] - 0.2
    assert after["value_share"].idxmax().split()[0] != "tv"


def test_advice_sigma_follows_the_candidate_precision(uncalibrated):
    cands = [
        Candidate(channel="tv", precision=0.1),
        Candidate(channel="tv", weeks=4, sigma=7.0),
        Candidate(channel="social"),
    ]
    table = advise(uncalibrated, cands, n_draws=100, n_outcomes=16).table.set_index("candidate")
    first = table.loc["tv heavy-up +50% 8w"]
    assert first["sigma"] == pytest.approx(0.1 * abs(first["expected_lift"]))
    assert table.loc["tv heavy-up +50% 4w", "sigma"] == 7.0
    assert table.loc["tv heavy-up +50% 4w", "mde"] == pytest.approx(2.8016 * 7.0, rel=1e-3)


def test_advice_refuses_bad_candidates_before_computing(uncalibrated):
    with pytest.raises(CandidateError, match="row 1, field `channel`"):
        advise(uncalibrated, [Candidate(channel="radio")])
    with pytest.raises(ValueError, match="rank_by"):
        advise(uncalibrated, rank_by="luck")


def test_advise_command_writes_the_ranked_table_and_names_bad_rows(tmp_path):
    good = tmp_path / "candidates.yaml"
    good.write_text(
        "candidates:\n  - {channel: tv, design: go-dark, weeks: 6}\n"
        "  - {channel: search, spend_change: 1.0}\n"
    )
    out = tmp_path / "advice.csv"
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["advise", "--fit", str(FITS / "uncalibrated"), "--candidates", str(good),
         "--draws", "100", "--outcomes", "16", "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert list(table["rank"]) == [1, 2] and "Advised:" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {channel: tv, design: go-dark}\n- {channel: tv, weeks: 500}\n")
    res = runner.invoke(
        app, ["advise", "--fit", str(FITS / "uncalibrated"), "--candidates", str(bad)]
    )
    assert res.exit_code == 1 and "row 2, field `weeks`" in res.output


# ---------------------------------------------------------------- the advice study
def _study(arms):
    return Study.from_dict(
        {
            "name": "a",
            "scenarios": ["reference"],
            "seeds": [0],
            "advise": {"n_draws": 100},
            "arms": [{"name": "uncalibrated"}, *arms],
        }
    )


def test_an_advice_study_needs_one_plain_candidate_test_per_arm():
    ok = _study([{"name": "tv", "tests": [{"channel": "tv", "spend_change": -1}]}])
    assert [a.name for a in ok.candidate_arms] == ["tv"]
    with pytest.raises(StudyError, match="one conversion-lift test"):
        _study([{"name": "two", "tests": [{"channel": "tv", "spend_change": 0.5}] * 2}])
    with pytest.raises(StudyError, match="as `spend_change`"):
        _study([{"name": "abs", "tests": [{"channel": "tv", "delta_x": 100}]}])


def _cells(values, share_errors, spend, spread, advised):
    """A world's cells: uncalibrated with its advice, and one fit per candidate.

    Every fit's share intervals are 0.2 wide (uncalibrated) or 0.1 (after a test), and the
    advice predicted a narrowing of 0.3 on every channel.
    """
    doc = {
        "rank_by": "share",
        "advised": advised,
        "candidates": {
            a: {
                "channel": a.split("_")[0],
                "value_share": v,
                "narrowing": dict.fromkeys(spend, 0.3),
            }
            for a, v in values.items()
        },
        "spend": spend,
        "roas_spread": spread,
    }
    rows = []
    for arm, err in share_errors.items():
        for channel in spend:
            rows.append(
                {
                    "scenario": "s",
                    "seed": 0,
                    "arm": arm,
                    "channel": channel,
                    "share_abs_error": err,
                    "roas_rel_error": err,
                    "share_lo": 0.0,
                    "share_hi": 0.2 if arm == "uncalibrated" else 0.1,
                    "regret": 0.1,
                    "advice": json.dumps(doc) if arm == "uncalibrated" else None,
                }
            )
    return pd.DataFrame(rows)


def test_advice_metrics_compare_the_advised_test_with_the_oracle_and_the_heuristics():
    cells = _cells(
        values={"tv_a": 0.3, "social_a": 0.2, "search_a": 0.1},
        share_errors={"uncalibrated": 0.20, "tv_a": 0.05, "social_a": 0.10, "search_a": 0.02},
        spend={"tv": 1.0, "social": 3.0, "search": 2.0},
        spread={"tv": 0.1, "social": 0.1, "search": 0.5},
        advised="tv_a",
    )
    w = world_advice(cells).iloc[0]
    assert w["advised_improvement"] == pytest.approx(0.15)
    assert w["advised_over_best"] == pytest.approx(0.15 / 0.18)
    assert w["beats_random"] == 1.0  # 0.15 against a mean of (0.15 + 0.10 + 0.18) / 3
    assert w["beats_biggest_spender"] == 1.0  # social: 0.10
    assert w["beats_channel_score"] == 0.0  # search has the widest ROAS: 0.18
    assert w["rank_correlation"] == pytest.approx(-0.5)  # ranks (3, 2, 1) against (2, 1, 3)
    assert w["narrowing_realised"] == pytest.approx(0.5) and w["narrowing_gap"] == pytest.approx(
        -0.2
    )
    summary = advice_metrics(cells, n_boot=50).set_index("metric")
    assert summary.loc["advised_over_best", "estimate"] == pytest.approx(0.15 / 0.18)
    assert set(summary["arm"]) == {"advice"} and summary.loc["beats_random", "n"] == 1


@pytest.mark.slow
def test_refit_replaces_degenerate_weights_and_agrees_with_the_linear_update(uncalibrated):
    # A 1%-precision test leaves no draw with weight: the linear update, then a refit, answer.
    precise = [Candidate(channel="search", design="go-dark", precision=0.01)]
    linear = advise(uncalibrated, precise, n_draws=100, n_outcomes=16).table.iloc[0]
    refit = advise(uncalibrated, precise, n_draws=100, n_outcomes=16, refit=True).table.iloc[0]
    assert linear["update"] == "linear" and refit["update"] == "refit"
    assert refit["narrowing_share_search"] > 0.7
    assert refit["narrowing_share_search"] == pytest.approx(
        linear["narrowing_share_search"], abs=0.1
    )


def test_the_report_shows_what_to_test_next(uncalibrated, tmp_path):
    from mmmcal.report.page import write_report

    advice = advise(uncalibrated, n_draws=100, n_outcomes=16)
    html = write_report([uncalibrated], tmp_path / "r.html", advice=[advice]).read_text()
    assert "What to test next" in html and f"advised <b>{advice.best}</b>" in html
    assert html.count("<tr><td>") >= len(advice.table)
    plain = write_report([uncalibrated], tmp_path / "p.html").read_text()
    assert "What to test next" not in plain
