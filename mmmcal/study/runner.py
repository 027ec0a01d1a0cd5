"""Running a study: every unfinished cell, in this process or on a Dask cluster, resumably.

:func:`run_study` writes each finished cell atomically to ``OUT/cells/<cell_id>.parquet``
and skips cells already there, so an interrupted study resumes without losing or
duplicating a cell; a cell that raises is recorded in ``OUT/failed/`` and retried next time.
"""

from __future__ import annotations

import os
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from mmmcal.progress import progress_steps
from mmmcal.study.cell import preflight, run_cell
from mmmcal.study.spec import Cell, Study, StudyError

__all__ = ["StudyRun", "run_study"]


@dataclass
class StudyRun:
    """What one call of :func:`run_study` did (seconds are wall-clock)."""

    out_dir: Path
    total: int
    already_done: int
    finished: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0


def _prepare_dir(study: Study, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "study.yaml"
    text = study.to_yaml()
    cells = out / "cells"
    if saved.exists() and any(cells.glob("*.parquet")):
        try:
            previous = Study.from_dict(yaml.safe_load(saved.read_text()))
        except StudyError:
            previous = None
        if previous is None or previous.to_yaml() != text:
            raise StudyError(
                f"{out} holds results of a different study ({saved} differs from this study "
                "file); resume only with the same study, or choose another --out."
            )
    saved.write_text(text)
    cells.mkdir(exist_ok=True)
    shutil.rmtree(out / "tmp", ignore_errors=True)  # half-written cells of an interrupted run
    (out / "tmp").mkdir()
    return cells


def _write_cell(out: Path, cell: Cell, frame: pd.DataFrame) -> None:
    tmp = out / "tmp" / f"{cell.id}.{os.getpid()}.parquet"
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, out / "cells" / f"{cell.id}.parquet")
    (out / "failed" / f"{cell.id}.txt").unlink(missing_ok=True)


def _record_failure(out: Path, cell: Cell, err: BaseException, run: StudyRun) -> None:
    (out / "failed").mkdir(exist_ok=True)
    text = "".join(traceback.format_exception(err))
    (out / "failed" / f"{cell.id}.txt").write_text(text)
    run.failed[cell.id] = f"{type(err).__name__}: {err}"


def _check_known(option: str, what: str, given: list[str] | None, known: list[str]) -> None:
    """Refuse names in ``given`` (an ``option`` of the run) that are not the study's."""
    unknown = sorted(set(given or ()) - set(known))
    if unknown:
        raise StudyError(
            f"{option} names {unknown}, which the study does not have; its {what} are {known}."
        )


def run_study(
    study: Study,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    first_seeds: int | None = None,
    only_scenarios: list[str] | None = None,
    only_arms: list[str] | None = None,
) -> StudyRun:
    """Run every unfinished cell of ``study`` into ``out_dir`` and return what happened.

    Execution: in this process, one cell after another (default); a Dask ``LocalCluster``
    of ``workers`` single-threaded processes; or the Dask cluster at ``scheduler``
    (``tcp://host:8786``; its workers need the same mmmcal installed). Workers stay alive
    across cells. Finished cells are written by this process, atomically, to
    ``out_dir/cells/<cell_id>.parquet``; cells already there are skipped. A cell that raises
    is recorded in ``out_dir/failed/<cell_id>.txt`` and retried by the next run. A directory
    holding finished cells of a different study is refused. Run one runner per directory at
    a time. ``first_seeds``: run only the cells of the study's first N seeds (a pilot);
    ``only_scenarios``, ``only_arms``: only the cells of these scenario labels and arms; the
    same directory resumes to the whole study later.
    """
    if first_seeds is not None and first_seeds < 1:
        raise StudyError(f"--seeds must be at least 1, got {first_seeds}.")
    if workers is not None and workers < 1:
        raise StudyError(f"--workers must be at least 1, got {workers}.")
    if workers is not None and scheduler is not None:
        raise StudyError("Give --workers (a local Dask cluster) or --scheduler, not both.")
    _check_known("--scenario", "scenarios", only_scenarios, study.scenario_labels)
    _check_known("--arm", "arms", only_arms, [a.name for a in study.arms])
    preflight(study)
    out = Path(out_dir)
    cells_dir = _prepare_dir(study, out)
    seeds = set(study.seed_list[:first_seeds])
    cells = [
        c
        for c in study.cells()
        if c.seed in seeds
        and (not only_scenarios or c.scenario in only_scenarios)
        and (not only_arms or c.arm in only_arms)
    ]
    todo = [c for c in cells if not (cells_dir / f"{c.id}.parquet").exists()]
    run = StudyRun(out, total=len(cells), already_done=len(cells) - len(todo))
    start = time.perf_counter()
    with progress_steps(
        progress, "cells", run.total, completed=run.already_done, transient=False
    ) as step:

        def advance(cell: Cell) -> None:
            step(f"{cell.id} {'failed' if cell.id in run.failed else 'done'}")

        if workers is None and scheduler is None:
            for cell in todo:
                try:
                    frame = run_cell(study, cell)
                except Exception as err:  # recorded; retried by the next run
                    _record_failure(out, cell, err, run)
                else:
                    _write_cell(out, cell, frame)
                    run.finished.append(cell.id)
                advance(cell)
        elif todo:
            _run_dask(study, todo, out, run, advance, workers=workers, scheduler=scheduler)
    shutil.rmtree(out / "tmp")
    run.wall_seconds = round(time.perf_counter() - start, 3)
    return run


def _run_dask(study, todo, out, run, advance, *, workers, scheduler) -> None:
    import logging

    from distributed import Client, LocalCluster, as_completed

    if scheduler is not None:
        client = Client(scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    try:
        futures = {
            client.submit(run_cell, study, cell, key=f"mmmcal-cell-{cell.id}", pure=False): cell
            for cell in todo
        }
        for future in as_completed(futures):
            cell = futures[future]
            try:
                frame = future.result()
            except Exception as err:  # recorded; retried by the next run
                _record_failure(out, cell, err, run)
            else:
                _write_cell(out, cell, frame)
                run.finished.append(cell.id)
            future.release()
            advance(cell)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
