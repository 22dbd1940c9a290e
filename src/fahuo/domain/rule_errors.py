"""Errors of rules typed by a merchant that name the field at fault, so a settings form can
show each message beside its own input. Still a ``ValueError`` whose text joins them all."""

from __future__ import annotations


class FieldErrors(ValueError):
    """field name → what is wrong with it (Chinese). ``""`` names the whole rule."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("；".join(problems.values()))
        self.problems = problems


def field_problems(exc: ValueError) -> dict[str, str]:
    """The problems of an error, by field (``""`` when it names no field)."""
    return dict(exc.problems) if isinstance(exc, FieldErrors) else {"": str(exc)}
