"""Ctrl-C and faults: a real SIGINT while sampling or saving leaves the previous fit as it was,
the command line exits 130 with "Interrupted", and nutpie's partial draws are never a fit."""

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pymc as pm
import pytest

from mmmcal.sampling.sampler import sample_nutpie

ROOT = Path(__file__).resolve().parents[1]
OLD_FIT = ROOT / "tests" / "data" / "fits" / "calibrated"


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


# A shell that starts a command in the background (`make test &`) has it ignore SIGINT, and
# children inherit that; these tests send real SIGINTs, so they restore Python's handler.
RESTORE_SIGINT = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"


def _start(script: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RESTORE_SIGINT + script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MMMCAL_DEBUG": ""},
    )


def _interrupt_when(proc: subprocess.Popen, marker: str) -> tuple[int, str]:
    """Send SIGINT once ``proc`` prints ``marker``; (exit code, stderr)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if marker in line:
            break
    else:
        pytest.fail(f"the process ended before {marker!r}: {proc.communicate()}")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


@pytest.fixture
def old_fit(tmp_path):
    import shutil

    out = tmp_path / "fit"
    shutil.copytree(OLD_FIT, out)
    return out


def test_ctrl_c_while_sampling_exits_130_and_keeps_the_previous_fit(old_fit, reference_world):
    data = old_fit.parent / "data.csv"
    reference_world.data.to_csv(data, index=False)
    before = _digest(old_fit)
    script = f"""
import time
import mmmcal.models.bayes as bayes
from mmmcal.cli import app

def sampling(*args, **kwargs):
    print("SAMPLING", flush=True)
    time.sleep(120)

bayes.sample_nutpie = sampling
app(["fit", "--data", {str(data)!r}, "--model", {str(old_fit / "spec.yaml")!r},
     "--out", {str(old_fit)!r}, "--overwrite", "--fast"])
"""
    code, err = _interrupt_when(_start(script), "SAMPLING")
    assert code == 130, err
    assert "Interrupted" in err and "Traceback" not in err
    assert _digest(old_fit) == before
    assert sorted(p.name for p in old_fit.parent.iterdir()) == ["data.csv", "fit"]


def test_ctrl_c_while_saving_leaves_the_previous_fit_and_no_partial_files(old_fit):
    before = _digest(old_fit)
    script = f"""
import time
from pathlib import Path
from mmmcal.models.fit_dir import write_fit_dir
from mmmcal.models.spec import ModelSpec

def half_written(path):
    path.write_bytes(b"CDF" + bytes(10_000))
    print("WRITING", flush=True)
    time.sleep(120)

write_fit_dir({str(old_fit)!r}, engine="bayes", name="new", meta={{}}, problems=[],
              spec=ModelSpec.from_yaml(Path({str(old_fit / "spec.yaml")!r})), lift=None,
              write_model=half_written)
"""
    code, err = _interrupt_when(_start(script), "WRITING")
    assert code != 0 and "KeyboardInterrupt" in err
    assert _digest(old_fit) == before
    assert [p.name for p in old_fit.parent.iterdir()] == ["fit"]  # no staging folder left


def _tiny_model():
    with pm.Model() as model:
        pm.Normal("x", 0, 1)
    return model


def test_an_interrupt_during_nutpie_sampling_is_raised_not_returned_as_draws():
    """nutpie's own blocking sample returns the draws so far on Ctrl-C; mmmcal's raises."""
    model = _tiny_model()
    options = {"tune": 50, "chains": 2, "target_accept": 0.9, "seed": 0}
    sample_nutpie(model, key="tiny-interrupt", draws=20, **options)  # compiled once, kept
    timer = threading.Timer(2.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # see RESTORE_SIGINT
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sample_nutpie(model, key="tiny-interrupt", draws=50_000_000, **options)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.perf_counter() - start < 30  # stopped, not sampled to the end


def test_a_run_that_ends_short_of_its_draws_is_an_error(monkeypatch):
    import nutpie

    model = _tiny_model()
    options = {"tune": 50, "chains": 2, "target_accept": 0.9, "seed": 0}
    idata, _ = sample_nutpie(model, key="tiny-short", draws=20, **options)

    class Stopped:
        def wait(self):
            return idata  # 20 draws, whatever was asked

        def cancel(self):
            pass

    monkeypatch.setattr(nutpie, "sample", lambda *a, **k: Stopped())
    with pytest.raises(RuntimeError, match="Sampling stopped after 20 of 200 draws"):
        sample_nutpie(model, key="tiny-short", draws=200, **options)
