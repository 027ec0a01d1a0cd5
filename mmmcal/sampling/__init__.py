"""Sampling with nutpie: compiled models re-used within a process and stored on disk.

``sampler`` (``sample_nutpie``) · ``compile_cache`` (the store of compiled models).
"""
