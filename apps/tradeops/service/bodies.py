"""The base of every request body: unknown keys refused, frozen, and only finite numbers.

JSON as Python reads it allows `NaN`, `Infinity` and `1e999`; a string such as "nan" becomes a float
in a float field. Either way a non-finite number would reach the engine or the gate's comparisons
(NaN compares false with everything, so `sharpe >= NaN` never fails). One validator on the base
refuses them wherever they sit: a float field, a nested model, a list, or a free-form `params` dict.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidatorFunctionWrapHandler, model_validator


class RequestBody(BaseModel):
    """A request body: every number it carries, at any depth, is finite (else 422 naming where)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="wrap")
    @classmethod
    def _finite_numbers(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        _refuse_non_finite(data, ())  # as sent: a float anywhere, `params` and lists included
        model = handler(data)
        _refuse_non_finite(model, ())  # as validated: strings a float field turned into NaN or inf
        return model


def _refuse_non_finite(value: Any, where: tuple[str, ...]) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{'.'.join(where) or 'body'}: {value} is not a finite number; NaN and infinities are refused")
    if isinstance(value, BaseModel):
        items: Any = ((name, getattr(value, name)) for name in type(value).model_fields)
    elif isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        _refuse_non_finite(item, (*where, str(key)))
