"""Budget decisions: allocations a fitted model recommends, scored against the truth."""
