"""Render a deployment template: the subset of Terraform's template syntax the templates use.

The same files are rendered by Terraform's `templatefile()`, so they use nothing else:

- `${name}`: the value of a plain variable (a string or number; a bool renders `true`/`false`,
  as in Terraform). Spaces inside the braces are allowed. No functions, attributes or
  expressions, and no other `$` anywhere (no `$${` escapes either).
- `%{ if name }` ... `%{ else }` ... `%{ endif }` on a bool variable. `else` is optional and ifs
  may nest. No other directive (`for`), no strip markers (`%{~ ... ~}`), no other `%{`.
- Each directive stands alone on its line (spaces around it allowed). Here the whole line is
  removed; Terraform removes only the directive and keeps the line's spaces and newline. The
  templates put their directives where that leaves a blank line in the YAML, so both renderers
  give the same documents (`keep_directive_lines=True` reproduces Terraform's text exactly).

As in Terraform, every variable the template references must be given, even one only used in a
branch that is not taken; values it does not reference are ignored. Anything else raises
`TemplateError` naming the template and the line.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

TEMPLATES_DIR = Path(__file__).parent / "templates"

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_INTERPOLATION = re.compile(r"\$\{\s*(" + _NAME + r")\s*\}")
_DIRECTIVE = re.compile(r"^(?P<before>[ \t]*)%\{(?P<body>[^}]*)\}(?P<after>[ \t]*\r?\n?)$")
_DIRECTIVE_BODY = re.compile(
    r"^\s*(?:(?P<if>if)\s+(?P<name>" + _NAME + r")|(?P<word>else|endif))\s*$"
)

Value = str | int | float | bool


class TemplateError(ValueError):
    """The template uses syntax outside the subset, or a variable is missing or of a wrong type."""


@dataclass(frozen=True)
class _Line:
    """One line of the template: text to interpolate, or a directive (`if`, `else`, `endif`)."""

    number: int
    text: str
    directive: str | None = None
    condition: str | None = None  # the variable of an `if`
    before: str = ""  # a directive line's spaces before and after the directive
    after: str = ""


def render(
    template_path: str | Path, values: Mapping[str, Value], *, keep_directive_lines: bool = False
) -> str:
    """Render the template file with these variables (see the module docstring)."""
    path = Path(template_path)
    text = path.read_text(encoding="utf-8")
    return render_text(text, values, source=str(path), keep_directive_lines=keep_directive_lines)


def render_text(
    text: str,
    values: Mapping[str, Value],
    *,
    source: str = "<template>",
    keep_directive_lines: bool = False,
) -> str:
    """Render template text; `keep_directive_lines` keeps Terraform's whitespace exactly."""
    lines = _parse(text, source)
    missing = sorted(_variables_of(lines) - values.keys())
    if missing:
        raise TemplateError(f"{source}: missing template variables: {', '.join(missing)}")
    return "".join(_evaluate(lines, values, source, keep_directive_lines))


def template_variables(template_path: str | Path) -> set[str]:
    """The names of the variables a template file references (interpolations and conditions)."""
    path = Path(template_path)
    return _variables_of(_parse(path.read_text(encoding="utf-8"), str(path)))


def _variables_of(lines: list[_Line]) -> set[str]:
    """The variables referenced by parsed lines."""
    names = {line.condition for line in lines if line.condition}
    for line in lines:
        if line.directive is None:
            names.update(_INTERPOLATION.findall(line.text))
    return names


def _parse(text: str, source: str) -> list[_Line]:
    """Split into lines, check the syntax and that every if is closed."""
    lines: list[_Line] = []
    open_ifs: list[tuple[int, bool]] = []  # (line of the if, whether its else was seen)
    for number, text_line in enumerate(text.splitlines(keepends=True), start=1):
        where = f"{source}:{number}"
        line = _parse_line(number, text_line, where)
        if line.directive == "if":
            open_ifs.append((number, False))
        elif line.directive == "else":
            if not open_ifs or open_ifs[-1][1]:
                raise TemplateError(f"{where}: %{{ else }} without an open %{{ if }}")
            open_ifs[-1] = (open_ifs[-1][0], True)
        elif line.directive == "endif":
            if not open_ifs:
                raise TemplateError(f"{where}: %{{ endif }} without an open %{{ if }}")
            open_ifs.pop()
        lines.append(line)
    if open_ifs:
        opened = open_ifs[-1][0]
        raise TemplateError(f"{source}:{opened}: %{{ if }} is never closed by %{{ endif }}")
    return lines


def _parse_line(number: int, text: str, where: str) -> _Line:
    if "%{" not in text:
        _check_interpolations(text, where)
        return _Line(number, text)
    directive = _DIRECTIVE.match(text)
    if directive is None:
        raise TemplateError(f"{where}: a %{{ ... }} directive must stand alone on its line")
    body = _DIRECTIVE_BODY.match(directive["body"])
    if body is None:
        raise TemplateError(
            f"{where}: unsupported directive %{{{directive['body']}}}; only "
            "%{ if <bool variable> }, %{ else } and %{ endif } are supported"
        )
    return _Line(
        number,
        text,
        directive=body["if"] or body["word"],
        condition=body["name"],
        before=directive["before"],
        after=directive["after"],
    )


def _check_interpolations(text: str, where: str) -> None:
    """Every `$` must open a `${name}`."""
    plain = _INTERPOLATION.sub("", text)
    if "$" in plain:
        column = plain.index("$")
        raise TemplateError(
            f"{where}: unsupported use of '$' near {plain[column : column + 20]!r}; only "
            "${name} interpolation of a plain variable is supported"
        )


def _evaluate(
    lines: list[_Line], values: Mapping[str, Value], source: str, keep_directive_lines: bool
) -> Iterator[str]:
    # One entry per open if: whether its current branch is rendered.
    active: list[bool] = [True]
    conditions: list[bool] = []
    for line in lines:
        where = f"{source}:{line.number}"
        if line.directive is None:
            if active[-1]:
                yield _interpolate(line.text, values, where)
            continue
        # Terraform keeps the spaces before a directive in the branch they were in, and the
        # rest of the line in the branch the directive opens.
        if keep_directive_lines and active[-1]:
            yield line.before
        _apply(line, values, where, active, conditions)
        if keep_directive_lines and active[-1]:
            yield line.after


def _apply(
    line: _Line, values: Mapping[str, Value], where: str, active: list[bool], conditions: list[bool]
) -> None:
    """Update the branch state for one directive."""
    if line.directive == "if":
        condition = values[line.condition or ""]
        if not isinstance(condition, bool):
            raise TemplateError(
                f"{where}: %{{ if {line.condition} }} needs a bool, got {condition!r}"
            )
        conditions.append(condition)
        active.append(active[-1] and condition)
    elif line.directive == "else":
        active[-1] = active[-2] and not conditions[-1]
    else:
        conditions.pop()
        active.pop()


def _interpolate(text: str, values: Mapping[str, Value], where: str) -> str:
    def value_of(match: re.Match[str]) -> str:
        value = values[match[1]]
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        raise TemplateError(f"{where}: ${{{match[1]}}} must be a string or number, got {value!r}")

    return _INTERPOLATION.sub(value_of, text)
