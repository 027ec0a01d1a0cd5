"""The ``mmmcal`` command line: a thin layer over the Python API.

Modules: ``app`` (the Typer app, ``--debug``, readable errors), ``choices`` (option values
built from the API's own lists), ``views`` (consoles and rich tables), and the commands by
stage: ``world`` (scenarios, simulate, lift-test, geolift), ``lift`` (ingest, check-lift),
``models`` (fit, score, report, demo, cache) and ``study`` (study run, study summarize).

This package init imports ``app`` because it is the entry point (``mmmcal = "mmmcal.cli:app"``
in pyproject.toml); the other package inits are docstrings only.
"""

from mmmcal.cli.app import app

__all__ = ["app"]
