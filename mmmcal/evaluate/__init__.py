"""What a fitted model recovered, against the truth: ``scorecard``."""
