"""Calibration studies over many worlds and arms.

``spec`` (study files) · ``cell`` (one world x arm) · ``runner`` (local or Dask, resumable) ·
``summary`` (bootstrap summaries) · ``page`` (CSV, figures, HTML).
"""
