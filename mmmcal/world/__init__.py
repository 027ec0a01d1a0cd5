"""Simulated worlds with known ground truth.

``scenario`` (specs) · ``presets`` (built-in scenarios) · ``transforms`` (adstock and
saturation curves) · ``simulate`` (``simulate(scenario, seed) -> World``) · ``truth`` (true
contributions, shares, ROAS, curves) · ``oracle`` (exact lifts of interventions).
"""
