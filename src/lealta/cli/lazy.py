"""A command group that imports a sub-command's module only when that sub-command runs.

Importing every sub-command (and what they import: rich, yaml, the state store...) cost every
``lealta`` start about 0.14 CPU s. The group knows each sub-command by name, module, attribute
and one-line help, so ``lealta --help`` lists them all without importing any, and
``lealta X ...`` imports X's module alone.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer import _click as click  # typer ships its own click; its groups are built on it
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """Where a sub-command lives: ``module.attribute`` is a Typer app or a command function."""

    module: str
    attribute: str
    summary: str  # the first paragraph of its help, as ``lealta --help`` lists it


def load_command(name: str, spec: LazyCommand) -> click.Command:
    """Import ``spec`` and build its click command exactly as registering it eagerly would."""
    target = getattr(importlib.import_module(spec.module), spec.attribute)
    holder = typer.Typer()
    holder.callback()(_nothing)  # a callback makes the holder a group whatever it holds
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    command = group.commands[name]
    from lealta.cli.coercion import defer_adapters

    defer_adapters(command)
    return command


def _nothing() -> None:
    """Placeholder callback."""


class LazyGroup(TyperGroup):
    """A :class:`TyperGroup` whose sub-commands (``lazy``) are imported on first use."""

    lazy: ClassVar[dict[str, LazyCommand]] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._listing = False
        from lealta.cli.coercion import defer_adapters

        defer_adapters(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in self.lazy if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None or cmd_name not in self.lazy:
            return command
        spec = self.lazy[cmd_name]
        if self._listing:  # the help page only needs the name and the one-line help
            return TyperCommand(name=cmd_name, help=spec.summary)
        command = load_command(cmd_name, spec)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except UsageError as error:
            # TyperGroup suggests from the commands loaded so far; suggest from all of them.
            if "Did you mean" not in error.message and self.suggest_commands and args:
                from difflib import get_close_matches

                matches = get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    suggestions = ", ".join(f"{m!r}" for m in matches)
                    error.message = f"{error.message.rstrip('.')}. Did you mean {suggestions}?"
            raise
