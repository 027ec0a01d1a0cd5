"""What a fitted model recovered, against the truth, and whether to trust it.

``scorecard`` (shares and ROAS against the truth, interval coverage) · ``checks``
(plain-language sampler and search checks: PASS / REVIEW / FAIL) · ``intervals`` (HDIs and
central intervals of draws).
"""
