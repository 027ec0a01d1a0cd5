"""The validation report: self-contained HTML with figures (``report``)."""
