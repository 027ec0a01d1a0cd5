from importlib.metadata import version


def test_decided_stack_imports_together():
    import causalpy  # noqa: F401
    import nutpie  # noqa: F401
    import pymc_marketing  # noqa: F401

    assert version("pymc-marketing").startswith("0.19.")
    assert version("causalpy").startswith("0.9.")
    assert version("pymc").startswith("5.")
    assert int(version("arviz").split(".")[0]) == 0
