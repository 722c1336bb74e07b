"""Option values turned into Python values without building a pydantic adapter per option.

Typer (0.2x) coerces every option's value, given or not, through a pydantic ``TypeAdapter``
that it builds on first use: for ``lealta rfm``'s forty options that is about 0.07 CPU s, and
importing pydantic for it another 0.08, on every run. Most values need no work: a default is
already what the command declared (``5``, ``"utf-8"``, an enum member, no repeats), and a
path is a :class:`~pathlib.Path` of the text given. Those are answered here, with typer's own path
checks; anything else goes to typer's adapter as before, so errors read the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_origin


def defer_adapters(command: Any) -> None:
    """Let ``command``'s parameters coerce plain values without pydantic (no-op on a typer
    that has no per-parameter runtime coercion)."""
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import coerce_cli_path
    except ImportError:  # pragma: no cover - another typer generation
        return

    @dataclass(frozen=True)
    class Deferred(RuntimeParam):
        """Plain values directly; any other value through typer's own coercion."""

        descriptor: Any
        built: list[Any]

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            annotation, info = self.annotation, self.parameter_info
            if _is_list(annotation) and isinstance(value, list | tuple) and not value:
                return []  # a repeatable option not given
            if isinstance(annotation, type) and info.parser is None:
                if value is param.default and isinstance(value, annotation):
                    return value
                plain_path = not (info.path_type or info.resolve_path or info.allow_dash)
                if issubclass(annotation, Path) and plain_path and isinstance(value, str) and value:
                    path = annotation(value)
                    return coerce_cli_path(path, info, path_type=annotation, param=param, ctx=ctx)
            if not self.built:
                self.built.append(build_runtime_param(self.descriptor))
            return self.built[0]._coerce_value(value, param=param, ctx=ctx)

    def defer(param: Any) -> None:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", False) is not None:
            return
        if descriptor.file_annotation is not None:
            return
        param._runtime_param = Deferred(
            annotation=descriptor.annotation,
            parameter_info=descriptor.parameter_info,
            descriptor=descriptor,
            built=[],
        )

    for param in command.params:
        defer(param)
    # The --help option is made (once) when the command first parses its arguments.
    made_help_option = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = made_help_option(ctx)
        if option is not None:
            defer(option)
        return option

    command.get_help_option = get_help_option


def _is_list(annotation: Any) -> bool:
    return bool(get_origin(annotation) is list)
