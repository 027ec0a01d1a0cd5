"""Calibration studies over many worlds and arms (``study``)."""
