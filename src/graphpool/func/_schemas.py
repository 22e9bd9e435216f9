"""An entrypoint's types, from its function's signature, as LangGraph reads them.

The input type is the first parameter's annotation; the output and the saved
value's types come from the return annotation (``entrypoint.final[R, S]`` names
both). ``Any`` where there is no annotation. The JSON schemas are those of a
pydantic root model named ``LangGraphInput`` / ``LangGraphOutput``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_args, get_origin

__all__ = ["io_types", "root_model"]


def io_types(func: Callable[..., Any], final: Any) -> tuple[Any, Any]:
    """``(input type, output type)`` of an entrypoint function."""
    try:  # string annotations (``from __future__ import annotations``) resolved
        sig = inspect.signature(func, eval_str=True)
    except Exception:  # a name only the function's caller knows: leave them as written
        sig = inspect.signature(func)
    first = next(iter(sig.parameters.values()))
    input_type = Any if first.annotation is inspect.Signature.empty else first.annotation
    returns = sig.return_annotation
    if returns is inspect.Signature.empty or returns is final:
        return input_type, Any
    if get_origin(returns) is final:
        args = get_args(returns)
        return input_type, args[0] if args else Any
    return input_type, returns


def root_model(name: str, typ: Any) -> Any:
    """A pydantic model named ``name`` whose root is ``typ``."""
    import pydantic

    return pydantic.create_model(name, __base__=pydantic.RootModel[typ])
