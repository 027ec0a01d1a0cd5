"""Virtual experiments in simulated worlds, reported as lift-table rows.

``conversion_lift`` (a channel's spend changed nationally) · ``geolift`` (treated geos,
analysed with CausalPy's synthetic control).
"""
