"""Progress bars (rich) for long loops: a search's evaluations, a study's cells."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["progress_steps"]


@contextmanager
def progress_steps(
    show: bool, label: str, total: int, *, completed: int = 0, transient: bool = True
) -> Iterator[Callable[..., None]]:
    """A progress bar over ``total`` steps (``completed`` done already) when ``show``.

    Yields ``step(description=None)``: one step done, with a new description if given.
    """
    if not show:
        yield lambda description=None: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), transient=transient) as bar:
        task = bar.add_task(label, total=total, completed=completed)

        def step(description: str | None = None) -> None:
            bar.update(task, advance=1, description=description)

        yield step
