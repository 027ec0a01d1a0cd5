"""The validation report: content, no-truth mode, and a real browser rendering it.

The fits are small stored posteriors (``tests/data/fits/``, written by
``tests/data/make_report_fits.py``), so these tests sample nothing.
"""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from mmmcal import load_fit
from mmmcal.evaluate.checks import diagnostic_checks
from mmmcal.models.bayes import Diagnostics
from mmmcal.report.page import write_report
from mmmcal.report.posterior import implied_lift_draws

FITS = Path(__file__).parent / "data" / "fits"
REGENERATE = "run `.venv/bin/python tests/data/make_report_fits.py` to write them again"


def load_stored_fit(name):
    """A stored fit; a clear failure when the libraries or the simulator changed since."""
    try:
        return load_fit(FITS / name)
    except Exception as e:
        pytest.fail(
            f"The stored fit tests/data/fits/{name} no longer loads ({type(e).__name__}: {e}); "
            f"a library it depends on has probably changed: {REGENERATE}.",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def stored_fits(small_world):
    """(uncalibrated, calibrated, lift table) as stored, fitted on ``small_world``'s data."""
    uncal, cal = load_stored_fit("uncalibrated"), load_stored_fit("calibrated")
    for model in (uncal, cal):
        if not np.allclose(model.data_.y, small_world.data["sales"]):
            pytest.fail(
                f"The stored fit {model.name!r} was fitted on other data than the 60-week "
                f"reference world (the simulator changed): {REGENERATE}.",
                pytrace=False,
            )
    return uncal, cal, cal.lift


@pytest.fixture(scope="module")
def reports(stored_fits, small_world, tmp_path_factory):
    uncal, cal, _ = stored_fits
    out = tmp_path_factory.mktemp("report")
    with_truth = write_report([uncal, cal], out / "truth.html", truth=small_world.truth_dict())
    without = write_report([uncal, cal], out / "plain.html")
    return with_truth, without


@pytest.mark.slow
def test_report_has_every_section(reports):
    page = reports[0].read_text()
    for title in (
        "Scorecard",
        "What to trust",
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
    assert "Budget decision" not in page  # only with decisions
    assert "true share" in page and "stars mark the truth" in page
    assert page.index("<h2>What to trust</h2>") < page.index("<h2>Sampler checks</h2>")
    assert "over-credits tv" in page and "confounding" in page
    assert "<th>true mROAS</th>" in page and "<th>calibrated (FAIL): mROAS</th>" in page


@pytest.mark.slow
def test_report_without_truth_drops_markers(reports):
    page = reports[1].read_text()
    assert "true share" not in page and "stars mark the truth" not in page
    assert "no ground truth given" in page and "true mROAS" not in page
    assert "<th>calibrated (FAIL): mROAS</th>" in page  # the fit's own, no truth needed
    assert "<h2>What to trust</h2>" in page  # read from the fits alone
    assert "<h2>Lift fit</h2>" in page  # the fits' own lift table is shown


@pytest.mark.slow
def test_model_implied_lift_matches_window_deterministic(stored_fits):
    cal, lift = stored_fits[1], stored_fits[2]
    draws = implied_lift_draws(cal, lift)
    recorded = cal.idata_.posterior["lift_window_model_lift"].mean().item()
    assert draws.mean() == pytest.approx(recorded, rel=0.05)


def test_checks_speak_plainly(stored_fits):
    model = stored_fits[0]
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


@pytest.mark.slow
def test_report_escapes_model_names(tmp_path):
    model = load_stored_fit("uncalibrated")
    model.name = "<b>x</b>"
    page = write_report([model], tmp_path / "escaped.html").read_text()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


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
