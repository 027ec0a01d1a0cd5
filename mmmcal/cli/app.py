"""The ``mmmcal`` Typer app: its commands, the ``--debug`` switch, and readable errors.

Every command runs inside :func:`friendly`: an error (a bad spec, a missing file) prints one
message as plain text and exits 1, Ctrl-C exits 130 with "Interrupted"; ``--debug`` (or
``MMMCAL_DEBUG``) shows the traceback instead.
Bad option values (an unknown ``--engine``) are typer's: exit 2 with the allowed values.
"""

from __future__ import annotations

import functools
import os
from typing import Annotated

import typer
from rich.text import Text

from mmmcal.cli import advise, decide, lift, models, study, world
from mmmcal.cli.views import err_console

__all__ = ["app", "friendly", "print_error", "study_app"]

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


# Errors of the user's input or environment, as one message; any other exception is a bug.
_EXPECTED = (ValueError, KeyError, OSError, TypeError, RuntimeError)


def friendly(func):
    """Turn errors into one readable message: exit 1, or 130 on Ctrl-C.

    The message is printed as plain text (a channel called ``[red]tv`` stays as it is);
    ``--debug`` re-raises instead, for the traceback.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            if _state["debug"]:
                raise
            err_console.print(
                "Interrupted: stopped before finishing; a fit directory being written keeps "
                "its previous contents.",
                style="bold red",
                markup=False,
                highlight=False,
            )
            raise typer.Exit(130) from None
        except Exception as err:
            if _state["debug"]:
                raise
            print_error(err)
            raise typer.Exit(1) from None

    return wrapper


def print_error(err: BaseException) -> None:
    """Print ``err`` as ``Error: <message>`` (user strings never read as markup)."""
    message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    if not isinstance(err, _EXPECTED):
        message = (
            f"unexpected {type(err).__name__}: {message}. This is a bug in mmmcal; please "
            "report it with the output of the same command run with --debug."
        )
    text = Text("Error: ", style="bold red")
    text.append(str(message))
    err_console.print(text, highlight=False)
    err_console.print("(run with --debug for the traceback)", style="dim", markup=False)


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
    decide.optimize,
    advise.advise,
    models.report,
    models.demo,
    models.cache,
):
    app.command()(friendly(command))
study_app.command("run")(friendly(study.study_run))
study_app.command("summarize")(friendly(study.study_summarize))
