"""Lift tables: the contract every experiment result meets before a model uses it.

``table`` (the contract, its validation and row-level errors) · ``ingest`` (results of
other tools into lift tables).
"""
