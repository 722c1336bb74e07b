"""What can be wrong with a template: problems found on save, errors met while rendering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lealta.errors import InvalidInput

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of :func:`lealta.messages.validate.check`.

    ``part`` names where it is (``subject``, ``html``, ``variants.pt-BR.text``, ``body.items``),
    ``line`` the line in that part (1-based) when known.
    """

    severity: Severity
    part: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.part} line {self.line}" if self.line else self.part
        return f"{where}: {self.message}"


class TemplateInvalid(InvalidInput):
    """A template has errors: ``problems`` lists them all (warnings included); the message,
    ``field`` and ``line`` describe the first error."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        first = errors[0] if errors else problems[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first}{more}", field=first.part, line=first.line)
        self.problems = list(problems)


class RenderError(InvalidInput):
    """A message could not be rendered.

    ``kind`` says why: ``missing_template``, ``no_contact``, ``syntax`` (the source does not
    parse), ``sandbox`` (it tried to reach something templates may not), ``limit`` (too much
    output or work), ``undefined`` (a strict preview met a missing value), ``mjml`` or
    ``render`` (anything else going wrong while rendering, e.g. a filter given bad input).
    ``field`` is the part and ``line`` the line in it, when known. None of these get better by
    retrying: the dispatcher should fail the message.
    """

    def __init__(
        self, message: str, *, kind: str, part: str | None = None, line: int | None = None
    ) -> None:
        where = ""
        if part:
            where = f"{part} line {line}: " if line else f"{part}: "
        super().__init__(f"{where}{message}", field=part, line=line)
        self.kind = kind
        self.part = part
