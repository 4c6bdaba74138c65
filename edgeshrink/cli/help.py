"""Help screens without a `<bool>` type beside flags: a flag takes no value, so it shows none."""

from __future__ import annotations

import typer
from typer.core import TyperCommand, TyperGroup


def _quiet_flags(params: list) -> list:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # typer shows the metavar instead of the type when there is one
    return params


class Command(TyperCommand):
    def get_params(self, ctx):
        return _quiet_flags(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx):
        return _quiet_flags(super().get_params(ctx))


def quiet(app: typer.Typer) -> typer.Typer:
    """Give `app`, its commands and its sub-apps the flag-quiet help screens; returns `app`."""
    app.info.cls = Group
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = Command
    for group in app.registered_groups:
        quiet(group.typer_instance)
    return app
