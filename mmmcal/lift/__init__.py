"""Lift tables: the contract every experiment result meets before a model uses it.

``table`` (the contract and the validated ``LiftTable``) · ``checks`` (the checks of rows,
windows, repeats) · ``problems`` (row-level errors) · ``windows`` (what a row measured) ·
``ingest`` (results of other tools into lift tables) · ``ingest_rows`` · ``formats``.
"""
