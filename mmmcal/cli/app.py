"""The ``mmmcal`` Typer app: its commands, the ``--debug`` switch, and readable errors.

Every command runs inside :func:`friendly`: an expected error (a bad spec, a missing file)
prints one line and exits 1; ``--debug`` (or ``MMMCAL_DEBUG``) shows the traceback instead.
Bad option values (an unknown ``--engine``) are typer's: exit 2 with the allowed values.
"""

from __future__ import annotations

import functools
import os
from typing import Annotated

import typer

from mmmcal.cli import lift, models, study, world
from mmmcal.cli.views import err_console

__all__ = ["app", "friendly", "study_app"]

app = typer.Typer(
    name="mmmcal",
    help="Calibrate marketing mix models with experiments, and check them against ground truth.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
study_app = typer.Typer(
    help="Calibration studies: many worlds x calibration arms, locally or on a Dask cluster.",
    no_args_is_help=True,
)
app.add_typer(study_app, name="study")
_state = {"debug": False}


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug or bool(os.environ.get("MMMCAL_DEBUG"))


def friendly(func):
    """Turn expected errors into one readable message and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except (ValueError, KeyError, FileNotFoundError, TypeError, RuntimeError) as err:
            if _state["debug"]:
                raise
            message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
            err_console.print(f"[bold red]Error:[/] {message}", highlight=False, markup=True)
            err_console.print("(run with --debug for the traceback)", style="dim")
            raise typer.Exit(1) from None

    return wrapper


# In the order `mmmcal --help` lists them: the pipeline's, stage by stage.
for command in (
    world.scenarios,
    world.simulate,
    world.lift_test,
    world.geolift,
    lift.ingest,
    lift.check_lift,
    models.fit,
    models.score,
    models.report,
    models.demo,
    models.cache,
):
    app.command()(friendly(command))
study_app.command("run")(friendly(study.study_run))
study_app.command("summarize")(friendly(study.study_summarize))
