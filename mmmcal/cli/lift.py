"""Commands of the lift-table contract: ``ingest`` results from elsewhere, ``check-lift``.

Both check a table as ``fit`` does when given the data and the model spec (``--data``,
``--model``): the model's channels, the data's dates, geos and scales as ``fit`` prepares
them. With ``--data`` alone, a channel must be a numeric column of the data, and lifts are
held to the target's scale when ``--target`` names its column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mmmcal.cli.choices import IngestFormat
from mmmcal.cli.views import print_row_report

__all__ = ["check_lift", "ingest"]

_DATA_HELP = "Model data CSV: the tests must match its dates, geos, channels and scale."
_MODEL_HELP = "Model spec YAML: its channels, and --data prepared as `fit` prepares it."
_CHANNELS_HELP = "Comma-separated model channels (without --model)."
_DATE_HELP = "Date column of --data (without --model; the spec names it)."
_TARGET_HELP = "Target column of --data (without --model): lifts are held to its scale."


def _checks(
    data: Path | None,
    model: Path | None,
    channels: str | None,
    date_column: str,
    target: str | None,
) -> dict[str, Any]:
    """The contract's arguments (channels, dates, geos, scales) the options give."""
    names = [c.strip() for c in channels.split(",")] if channels else None
    if model is not None and names is not None:
        raise ValueError("--channels and --model both name the channels; give one of them.")
    if model is not None and target is not None:
        raise ValueError("--target and --model both name the target; give one of them.")
    spec = None
    if model is not None:
        from mmmcal.models.spec import ModelSpec

        spec = ModelSpec.from_yaml(model)
        names = list(spec.channel_columns)
    if data is None:
        return {"channels": names}
    from mmmcal.files import read_csv_file
    from mmmcal.lift.data_checks import data_checks

    frame = read_csv_file(data, "data file")
    if spec is not None:
        from mmmcal.models.data import prepare_data
        from mmmcal.models.lift_data import model_lift_checks

        return dict(model_lift_checks(spec, prepare_data(spec, frame)))
    geo = "geo" if "geo" in frame else None
    return dict(
        data_checks(
            frame, date_column=date_column, channels=names, target_column=target, geo_column=geo
        )
    )


def ingest(
    file: Annotated[Path, typer.Argument(help="Results file (CSV).")],
    format: Annotated[
        IngestFormat,
        typer.Option("--format", help="The tool that wrote the file (pymc-marketing = mmmcal)."),
    ],
    out: Annotated[Path, typer.Option(help="Lift-table CSV to write (accepted rows).")] = Path(
        "lift.csv"
    ),
    data: Annotated[Path | None, typer.Option(help=_DATA_HELP)] = None,
    model: Annotated[Path | None, typer.Option(help=_MODEL_HELP)] = None,
    channels: Annotated[str | None, typer.Option(help=_CHANNELS_HELP)] = None,
    relative_se: Annotated[
        float | None, typer.Option(help="Robyn: standard error as a fraction of liftAbs.")
    ] = None,
    carryover_periods: Annotated[
        int | None, typer.Option(help="Robyn scope 'total': periods of carryover measured.")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Also write the row report CSV here.")] = None,
    date_column: Annotated[str, typer.Option(help=_DATE_HELP)] = "date",
    target: Annotated[str | None, typer.Option(help=_TARGET_HELP)] = None,
) -> None:
    """Convert experiment results from elsewhere into a validated lift table.

    Every input row is listed as accepted or rejected with its reason; any rejection exits 1
    (the accepted rows are still written).
    """
    from mmmcal.lift.ingest import ingest as run_ingest

    result = run_ingest(
        file,
        format.value,
        **_checks(data, model, channels, date_column, target),
        relative_se=relative_se,
        carryover_periods=carryover_periods,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(out, index=False)
    if report is not None:
        result.report.to_csv(report, index=False)
    print_row_report(result.report, f"-> {out}")
    if not result.ok:
        raise typer.Exit(1)


def check_lift(
    lift: Annotated[Path, typer.Argument(help="Lift-table CSV.")],
    data: Annotated[Path | None, typer.Option(help=_DATA_HELP)] = None,
    model: Annotated[Path | None, typer.Option(help=_MODEL_HELP)] = None,
    channels: Annotated[str | None, typer.Option(help=_CHANNELS_HELP)] = None,
    date_column: Annotated[str, typer.Option(help=_DATE_HELP)] = "date",
    target: Annotated[str | None, typer.Option(help=_TARGET_HELP)] = None,
) -> None:
    """Check a lift table against the contract; list every row as accepted or rejected.

    With --data and --model it runs exactly the checks `fit` runs before sampling.
    """
    from mmmcal.lift.table import check_lift_table, read_lift_table

    checks = _checks(data, model, channels, date_column, target)
    check = check_lift_table(read_lift_table(lift), **checks)
    print_row_report(check.report(), str(lift))
    if not check.ok:
        raise typer.Exit(1)
