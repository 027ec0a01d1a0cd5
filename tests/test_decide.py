"""Budget decisions: the solver's optimum, the allocation a fit recommends, regret, bad input."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mmmcal.cli.app import app
from mmmcal.decide.allocate import optimize_budget, response_at, spend_bounds
from mmmcal.decide.regret import model_regret, regret_draws, true_regret
from mmmcal.decide.solver import SpendGrid, best_split
from mmmcal.models.engines import load_fit

FITS = Path(__file__).parent / "data" / "fits"


def _hill(x, half, k=3.0):
    return x**k / (x**k + half**k)


def test_best_split_finds_the_global_optimum_of_s_shaped_curves():
    # S-shaped curves (not concave: marginal returns rise, then fall); brute force over every
    # split is the truth.
    n = 30
    steps = np.arange(n + 1)
    values = np.stack([_hill(steps, 12.0), 0.8 * _hill(steps, 10.0), 0.6 * _hill(steps, 6.0)])
    best, split = best_split(values)
    brute = max(
        (values[0, a] + values[1, b] + values[2, n - a - b], (a, b, n - a - b))
        for a, b in itertools.product(steps, steps)
        if a + b <= n
    )
    assert split.sum() == n
    assert best == pytest.approx(brute[0])
    assert tuple(split) == brute[1]


def test_best_split_solves_a_batch_as_each_problem_alone():
    rng = np.random.default_rng(0)
    values = np.cumsum(rng.random((4, 3, 21)), axis=-1)
    values[1, 2, 15:] = -np.inf  # a step that is not allowed
    best, split = best_split(values)
    for i in range(4):
        alone = best_split(values[i])
        assert best[i] == pytest.approx(alone[0]) and (split[i] == alone[1]).all()
    assert split[1, 2] < 15


def test_grid_allocation_spends_the_budget_within_the_bounds():
    grid = SpendGrid(("a", "b", "c"), np.array([0.0, 10, 5]), np.array([7.3, 40, 9]), 50.0, 40)
    spend = grid.spend()
    assert spend.shape == (41, 3) and (spend <= grid.hi).all() and (spend >= grid.lo).all()
    for steps in ([0, 40, 0], [40, 0, 0], [13, 20, 7]):  # the first hits a's cap
        x = grid.allocation(np.array(steps))
        assert x.sum() == pytest.approx(50.0)
        assert (x <= grid.hi + 1e-9).all() and (x >= grid.lo - 1e-9).all()


@pytest.fixture(scope="module")
def fitted():
    return load_fit(FITS / "calibrated")


def test_the_recommendation_beats_every_other_split_the_model_can_see(fitted):
    allocation = optimize_budget(fitted)
    today = allocation.today
    x = allocation.recommended
    assert x.sum() == pytest.approx(today.sum())  # default budget: today's total
    assert (x >= allocation.lo - 1e-6).all() and (x <= allocation.hi + 1e-6).all()
    expected = response_at(fitted, x).mean(axis=0).sum()
    rng = np.random.default_rng(1)
    for _ in range(30):  # random feasible splits of the same budget
        w = rng.dirichlet(np.ones(len(x)))
        other = allocation.lo + w * (x.sum() - allocation.lo.sum())
        if (other <= allocation.hi).all():
            assert response_at(fitted, other).mean(axis=0).sum() <= expected + 1e-6
    table = allocation.table()
    assert list(table.channel) == list(fitted.spec.channel_columns)
    assert (table.response_change_lo <= table.response_change_hi).all()
    doc = allocation.to_dict()
    assert 0 <= doc["p_beats_today"] <= 1 and doc["objective"] == "expected total response"
    json.dumps(doc)


def test_regret_is_zero_at_the_best_split_and_one_at_today(fitted, small_world):
    truth = small_world.truth_dict()
    allocation = optimize_budget(fitted)
    scored = true_regret(allocation, truth)
    assert scored.response_best >= scored.response_recommended - 1e-9
    at_best = true_regret(_recommending(allocation, scored.best_spend, fitted), truth)
    assert at_best.regret == pytest.approx(0.0, abs=1e-6)
    at_today = true_regret(_recommending(allocation, allocation.today, fitted), truth)
    assert at_today.regret == pytest.approx(1.0)
    draws = regret_draws(allocation)
    assert draws.shape == (allocation.curves.shape[0],)
    assert (draws[np.isfinite(draws)] >= -1e-9).all()
    summary = model_regret(allocation)
    assert summary["interval"][0] <= summary["expected"] <= summary["interval"][1]


def _recommending(allocation, spend, model):
    """``allocation`` as if it had recommended ``spend``."""
    import dataclasses

    change = response_at(model, spend) - allocation.today_draws
    return dataclasses.replace(allocation, recommended=np.asarray(spend), change_draws=change)


def test_the_models_regret_does_not_depend_on_the_grid(fitted):
    fine = model_regret(optimize_budget(fitted, n_steps=1000))
    odd = model_regret(optimize_budget(fitted, n_steps=606))  # coarse grid: every 3rd step
    assert odd["expected"] == pytest.approx(fine["expected"], abs=0.01)


def test_a_risk_averse_split_scores_at_least_the_neutral_one_on_its_objective(fitted):
    def total(x):
        return response_at(fitted, x).sum(axis=1)

    def objective(x):  # mean - 10 sd of the total response over draws
        return total(x).mean() - 10.0 * total(x).std()

    neutral = optimize_budget(fitted)
    averse = optimize_budget(fitted, objective="mean_minus_sd", risk_aversion=10.0)
    assert "10 x its posterior sd" in averse.objective
    assert averse.recommended.sum() == pytest.approx(averse.today.sum())
    assert objective(averse.recommended) > objective(neutral.recommended)
    assert total(averse.recommended).std() < total(neutral.recommended).std()  # it paid in mean
    assert total(averse.recommended).mean() <= total(neutral.recommended).mean() + 1e-6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"budget": 0.0}, "must be a positive spend"),
        ({"budget": 1e9}, "cannot be split within the bounds"),
        ({"bounds": {"radio": {"max": 10}}}, "channel\\(s\\) \\['radio'\\]"),
        ({"bounds": {"tv": {"min": 5, "max": 1}}}, "bounds for 'tv'"),
        ({"bounds": {"tv": {"top": 5}}}, "use 'min' and 'max'"),
        ({"objective": "greedy"}, "objective 'greedy'"),
    ],
)
def test_bad_input_names_the_field(fitted, kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimize_budget(fitted, **kwargs)


def test_an_unfitted_model_is_refused(fitted):
    from mmmcal.models.bayes import CalibratedMMM

    with pytest.raises(RuntimeError, match="not fitted"):
        optimize_budget(CalibratedMMM(fitted.spec, None))


def test_spend_bounds_default_to_a_range_around_today():
    lo, hi = spend_bounds(["a", "b"], np.array([10.0, 4.0]), {"b": {"max": 9.0}})
    assert lo.tolist() == [5.0, 2.0] and hi.tolist() == [15.0, 9.0]


def test_optimize_cli_prints_and_writes_the_split(tmp_path, small_world):
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(small_world.truth_dict()))
    out = tmp_path / "allocation.json"
    args = ["optimize", "--fit", str(FITS / "calibrated"), "--truth", str(truth), "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "P(beats today)" in result.output and "true regret" in result.output
    doc = json.loads(out.read_text())
    assert set(doc) >= {"channels", "model_regret", "true", "p_beats_today"}
    bounds = tmp_path / "bounds.yaml"
    bounds.write_text("tv: 5\n")
    result = CliRunner().invoke(app, [*args[:3], "--bounds", str(bounds)])
    assert result.exit_code == 1 and "must map each channel" in result.output


def test_score_adds_each_fits_decision(tmp_path, small_world):
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(small_world.truth_dict()))
    out = tmp_path / "scorecard.json"
    fits = ["--fit", str(FITS / "uncalibrated"), "--fit", str(FITS / "calibrated")]
    args = ["score", *fits, "--truth", str(truth), "--out", str(out), "--allow-unhealthy"]
    result = CliRunner().invoke(app, [*args, "--decide"])
    assert result.exit_code == 0, result.output
    assert result.output.count("decision of") == 2
    doc = json.loads(out.read_text())["decision"]
    assert set(doc) == {"uncalibrated", "calibrated"}
    assert all(d["true"]["regret"] is not None for d in doc.values())


def test_report_shows_the_decisions(tmp_path, small_world):
    from mmmcal.decide.regret import decision
    from mmmcal.report.page import write_report

    truth = small_world.truth_dict()
    models = [load_fit(FITS / n) for n in ("uncalibrated", "calibrated")]
    decisions = {m.name: decision(m, truth=truth) for m in models}
    page = write_report(models, tmp_path / "r.html", truth=truth, decisions=decisions).read_text()
    assert "Budget decision" in page and page.count("true regret") == 2
