"""The user's input files read with errors that name the file, the place and the fix.

:func:`read_csv_file` and :func:`read_yaml_file` raise ``FileNotFoundError`` for a missing
path and :class:`InputFileError` (a ``ValueError``) for a file that is empty, a folder, or
not valid CSV / YAML, instead of the parser's own exception.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "InputFileError",
    "parse_yaml",
    "read_bounds_file",
    "read_csv_file",
    "read_truth_file",
    "read_yaml_file",
]


class InputFileError(ValueError):
    """A file the user gave could not be read; the message names the file and the fix."""


def _existing_file(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"The {what} {str(path)!r} does not exist.")
    if path.is_dir():
        raise InputFileError(f"The {what} {str(path)!r} is a folder; give the path of a file.")
    return path


def read_csv_file(path: str | Path, what: str, **read_options: Any) -> pd.DataFrame:
    """The CSV at ``path`` (``what``: e.g. ``"lift table"``, named in errors) as a DataFrame.

    ``read_options`` go to :func:`pandas.read_csv`. A file with a header and no rows is read
    as an empty frame (the caller decides whether that is allowed).
    """
    path = _existing_file(path, what)
    try:
        return pd.read_csv(path, **read_options)
    except pd.errors.EmptyDataError:
        raise InputFileError(
            f"The {what} {str(path)!r} is empty; it needs a header row naming its columns."
        ) from None
    except pd.errors.ParserError as err:
        detail = str(err).strip().rstrip(".")
        raise InputFileError(
            f"The {what} {str(path)!r} is not valid CSV ({detail}); check for an unclosed "
            "quote, a stray delimiter, or rows with more fields than the header."
        ) from None
    except UnicodeDecodeError as err:
        raise InputFileError(
            f"The {what} {str(path)!r} is not UTF-8 text (byte {err.start}); save it as UTF-8 CSV."
        ) from None


def read_yaml_file(path: str | Path, what: str) -> Any:
    """The YAML document at ``path`` (``what`` names it in errors); empty files are refused."""
    path = _existing_file(path, what)
    try:
        text = path.read_text()
    except UnicodeDecodeError as err:
        raise InputFileError(
            f"The {what} {str(path)!r} is not UTF-8 text (byte {err.start})."
        ) from None
    return parse_yaml(text, f"{what} {str(path)!r}")


def read_bounds_file(path: str | Path) -> dict[str, Any]:
    """``bounds.yaml``: channel -> {min, max} spend per period; errors name the file."""
    doc = read_yaml_file(path, "bounds file")
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise InputFileError(
            f"The bounds file {str(path)!r} must map each channel to {{min: ..., max: ...}} "
            "(spend per period), e.g. 'tv: {min: 1000, max: 6000}'."
        )
    return doc


def read_truth_file(path: str | Path) -> dict[str, Any]:
    """A simulated world's ``truth.json``; errors name the file and what it should be."""
    import json

    path = _existing_file(path, "truth file")
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputFileError(f"The truth file {str(path)!r} is not valid JSON ({err}).") from None
    if not isinstance(doc, dict) or "channels" not in doc:
        raise InputFileError(
            f"The truth file {str(path)!r} is not a world's truth.json (it has no `channels`); "
            "use the truth.json that `mmmcal simulate` writes."
        )
    return doc


def parse_yaml(text: str, what: str) -> Any:
    """``text`` parsed as YAML; ``InputFileError`` naming ``what``, line and column if not."""
    import yaml

    if not text.strip():
        raise InputFileError(f"The {what} is empty; it needs a YAML mapping of its fields.")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputFileError(
            f"The {what} is not valid YAML{where}: {problem}; check the indentation and that "
            "every `key: value` has its colon and a space."
        ) from None
