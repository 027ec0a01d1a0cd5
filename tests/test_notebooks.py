"""The notebooks in notebooks/: stored without outputs, and each runs end to end (fast mode)."""

import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DATA = NOTEBOOKS / "data"
REPORTS = {
    "01_quickstart.ipynb": "quickstart_report.html",
    "02_geolift_to_calibration.ipynb": "geolift_report.html",
    "03_bring_your_own_data.ipynb": "byod_report.html",
    "04_which_test_next.ipynb": "which_test_next_report.html",
}


def test_every_notebook_is_covered():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(REPORTS)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_notebook_is_stored_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert dirty == [], f"{name}: clear the outputs of cells {dirty} before committing"


def test_kernel_runs_this_python():
    # The notebooks must run in this environment: jupyter_client launches a kernelspec whose
    # argv[0] is `python`/`python3` with sys.executable; anything else must be this python.
    argv0 = KernelSpecManager().get_kernel_spec("python3").argv[0]
    assert argv0 in ("python", "python3") or Path(argv0).resolve() == Path(sys.executable).resolve()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REPORTS))
def test_notebook_runs(name, tmp_path, monkeypatch):
    monkeypatch.setenv("MMMCAL_FAST", "1")
    monkeypatch.setenv("MMMCAL_NOTEBOOK_DATA", str(DATA))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError naming the failing cell
    report = tmp_path / REPORTS[name]
    assert report.is_file() and report.stat().st_size > 0
