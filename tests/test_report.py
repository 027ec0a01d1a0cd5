"""The validation report: content, no-truth mode, and a real browser rendering it."""

import re
import shutil

import pytest

from mmmcal.models.bayes import Diagnostics
from mmmcal.report.report import diagnostic_checks, implied_lift_draws, write_report


@pytest.fixture(scope="module")
def reports(fits, small_world, tmp_path_factory):
    uncal, cal, _ = fits
    out = tmp_path_factory.mktemp("report")
    with_truth = write_report([uncal, cal], out / "truth.html", truth=small_world.truth_dict())
    without = write_report([uncal, cal], out / "plain.html")
    return with_truth, without


@pytest.mark.slow
def test_report_has_every_section(reports):
    page = reports[0].read_text()
    for title in (
        "Scorecard",
        "Sampler checks",
        "Contribution shares and ROAS",
        "Response curves",
        "Lift fit",
        "Posterior predictive fit and residuals",
        "Contributions over time: calibrated",
        "Prior vs posterior of calibrated channels: calibrated",
    ):
        assert f"<h2>{title}</h2>" in page, title
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 7 and all(len(i) > 1000 for i in images)
    assert "http://" not in page and "https://" not in page  # self-contained
    assert "true share" in page and "stars mark the truth" in page


@pytest.mark.slow
def test_report_without_truth_drops_markers(reports):
    page = reports[1].read_text()
    assert "true share" not in page and "stars mark the truth" not in page
    assert "no ground truth given" in page
    assert "<h2>Lift fit</h2>" in page  # the fits' own lift table is shown


@pytest.mark.slow
def test_model_implied_lift_matches_window_deterministic(fits):
    cal, lift = fits[1], fits[2]
    draws = implied_lift_draws(cal, lift)
    recorded = cal.idata_.posterior["lift_window_model_lift"].mean().item()
    assert draws.mean() == pytest.approx(recorded, rel=0.05)


def test_checks_speak_plainly(fits):
    model = fits[0]
    bad = Diagnostics(
        divergences=3, max_rhat=1.2, min_ess_bulk=12, fit_seconds=1, draws=100, chains=2
    )
    original = model.diagnostics_
    model.diagnostics_ = bad
    try:
        checks = {c.name: c for c in diagnostic_checks(model)}
    finally:
        model.diagnostics_ = original
    assert checks["divergences"].status == "FAIL" and "3 divergent" in checks["divergences"].message
    assert checks["R-hat"].status == "FAIL" and "stuck" in checks["R-hat"].message
    assert checks["ESS"].status == "REVIEW" and checks["ESS"].recommendation


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: `make test` installs Debian's chromium (needs root)",
)
def test_report_renders_in_headless_chromium(reports):
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(reports[0].resolve().as_uri())
        page.wait_for_load_state("load")
        n_images = page.evaluate("document.images.length")
        loaded = page.evaluate(
            "Array.from(document.images).every(i => i.complete && i.naturalWidth > 100)"
        )
        browser.close()
    assert n_images >= 7
    assert loaded, "some figure did not load"
    assert errors == []
