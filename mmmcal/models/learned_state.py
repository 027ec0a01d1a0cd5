"""An estimator's learned state: its attributes ending in ``_``, set by ``fit``.

Every engine forgets its learned state at the start of ``fit`` (a failed fit leaves an
unfitted estimator, never a mix of two fits) and checks it before returning results.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_fitted", "forget_learned_state", "learned_attributes"]


def learned_attributes(estimator: Any) -> list[str]:
    """Names of the instance attributes ending in ``_`` (dunder names excluded)."""
    return [k for k in vars(estimator) if k.endswith("_") and not k.startswith("__")]


def forget_learned_state(estimator: Any) -> None:
    """Delete every learned attribute of ``estimator``."""
    for name in learned_attributes(estimator):
        delattr(estimator, name)


def check_fitted(estimator: Any, attribute: str) -> None:
    """Raise ``RuntimeError`` when ``estimator`` lacks the learned ``attribute``."""
    if not hasattr(estimator, attribute):
        raise RuntimeError(f"Model {estimator.name!r} is not fitted yet: call .fit(data) first.")
