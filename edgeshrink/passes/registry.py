"""The explicit registry of passes: recipe step names map to passes here and nowhere else."""

from __future__ import annotations

from edgeshrink.errors import RecipeError
from edgeshrink.passes.base import PassSpec


class Registry:
    """Name -> PassSpec; a duplicate name is a programming error, an unknown one a user error."""

    def __init__(self, specs: list[PassSpec]):
        self._specs: dict[str, PassSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"pass {spec.name!r} registered twice")
            self._specs[spec.name] = spec

    def get(self, name: str) -> PassSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise RecipeError(f"unknown pass {name!r}; known passes: {', '.join(self._specs)}") from None

    def names(self) -> list[str]:
        return list(self._specs)

    def __iter__(self):
        return iter(self._specs.values())
