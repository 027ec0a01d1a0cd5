"""MMMs: specs, pymc-marketing models with lift likelihoods, and non-Bayesian baselines.

``spec`` · ``priors`` · ``data`` · ``components`` · ``builder`` (the only place that
constructs pymc-marketing MMMs) · ``lift_likelihood`` · ``bayes`` (``CalibratedMMM``) ·
``baselines`` (ridge and bounded engines, the engine registry).
"""
