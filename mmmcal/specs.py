"""What every spec (scenario, model, study, design) shares: a frozen pydantic base and errors.

Spec errors follow one shape: an ``Invalid <what>:`` line, then one line per bad field with
its dotted location, e.g. ``  - channels.0.adstock: The `adstock` family 'geometrc' must be
one of ['geometric', 'delayed', 'weibull']``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["FrozenSpec", "SpecError", "format_validation_error"]


class SpecError(ValueError):
    """A spec failed validation; the message names every bad field."""


class FrozenSpec(BaseModel):
    """Immutable, typed spec that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def format_validation_error(err: ValidationError, what: str) -> str:
    """One line per problem of a pydantic ``err``, headed ``Invalid {what}:``."""
    lines = [f"Invalid {what}:"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "union_tag_invalid":
            ctx = e.get("ctx", {})
            msg = (
                f"The `{loc.rsplit('.', 1)[-1]}` family {ctx.get('tag')!r} must be one of "
                f"[{ctx.get('expected_tags')}]"
            )
        elif e["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        lines.append(f"  - {loc}: {msg}")
    return "\n".join(lines)
