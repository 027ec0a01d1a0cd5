"""Sampling with nutpie: compiled models re-used within a process and stored on disk.

``sampler`` (``sample_nutpie``) · ``compile`` (mmmcal's fast build, or nutpie's public one
as the fallback) · ``store`` (the store of compiled models on disk) · ``fingerprint`` (what
a stored model is keyed by) · ``fast_compile`` (mmmcal's build) · ``verify`` (a loaded model
checked against the model in hand) · ``numba_patches`` (the version-gated numba patches).
"""
