"""Priors written as data (``{distribution: HalfNormal, sigma: 2, dims: channel}``).

:func:`to_prior` turns such a mapping into a :class:`pymc_extras.prior.Prior`;
:func:`prior_to_data` writes one back. Precedence: a prior given in the model spec replaces
pymc-marketing's default for that parameter; nothing else is changed.
"""

from __future__ import annotations

from typing import Any

from mmmcal.specs import SpecError

__all__ = ["ModelSpecError", "prior_to_data", "to_prior"]


class ModelSpecError(SpecError):
    """A model spec failed validation; the message names every bad field."""


def to_prior(name: str, spec: dict[str, Any] | Any):
    """Turn prior data (``{distribution, dims?, centered?, **params}``) into a ``Prior``.

    Parameters may themselves be prior data (hierarchical priors). Raises
    :class:`ModelSpecError` naming ``name`` for an unknown distribution or parameter.
    """
    import pymc as pm
    import pymc.dims as pmd
    from pymc_extras.prior import Prior

    if not isinstance(spec, dict) or "distribution" not in spec:
        raise ModelSpecError(
            f"The prior `{name}` must be a mapping with a `distribution` key, e.g. "
            f"{{distribution: HalfNormal, sigma: 2}}; got {spec!r}."
        )
    data = dict(spec)
    dist = data.pop("distribution")
    usable = sorted(n for n in dir(pmd) if n[:1].isupper() and hasattr(pm, n) and n != "Data")
    if not isinstance(dist, str) or not (hasattr(pm, dist) and hasattr(pmd, dist)):
        raise ModelSpecError(f"The prior `{name}` distribution {dist!r} must be one of {usable}.")
    dims = data.pop("dims", None)
    centered = data.pop("centered", True)
    params = {k: to_prior(f"{name}.{k}", v) if isinstance(v, dict) else v for k, v in data.items()}
    try:
        return Prior(dist, dims=dims, centered=centered, **params)
    except Exception as err:  # pymc_extras raises ValueError/TypeError with its own text
        raise ModelSpecError(f"The prior `{name}` is invalid: {err}") from None


def prior_to_data(prior) -> dict[str, Any]:
    """A ``Prior`` written back as data (the inverse of :func:`to_prior`)."""
    out: dict[str, Any] = {"distribution": prior.distribution}
    for k, v in prior.parameters.items():
        out[k] = prior_to_data(v) if hasattr(v, "distribution") else v
    if prior.dims:
        out["dims"] = list(prior.dims) if len(prior.dims) > 1 else prior.dims[0]
    return out
