"""MMMs: specs, pymc-marketing models with lift likelihoods, and non-Bayesian baselines.

``spec`` · ``priors`` · ``data`` · ``components`` · ``builder`` (the only place that
constructs pymc-marketing MMMs) · ``lift_likelihood`` · ``bayes`` (``CalibratedMMM``) ·
``ridge_features`` · ``ridge_lift`` · ``search`` · ``ridge`` (``RidgeMMM``) · ``ridge_store`` ·
``bounded`` (``BoundedMMM``) · ``learned_state`` · ``fit_dir`` · ``engines`` (the estimator
contract, ``make_engine``, ``load_fit``).
"""
