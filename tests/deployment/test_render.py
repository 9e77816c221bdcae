"""The template renderer: the subset of Terraform's template syntax, and its errors."""

import re

import pytest

from deployment.k8s.render import (
    TEMPLATES_DIR,
    TemplateError,
    Value,
    render,
    render_text,
    template_variables,
)
from tests.deployment.template_contract import CONTRACT

BRANCHES = "a: ${x}\n%{ if flag }\n  b: yes\n%{ else }\n  b: no\n%{ endif }\nc: ${ y }\n"


def test_interpolates_strings_numbers_and_bools_like_terraform() -> None:
    text = "${s} ${ n } ${f} ${t}/${u}\n"
    values: dict[str, Value] = {"s": "str", "n": 3, "f": 1.5, "t": True, "u": False}
    assert render_text(text, values) == "str 3 1.5 true/false\n"


def test_values_the_template_does_not_use_are_ignored() -> None:
    assert render_text("a: ${x}\n", {"x": 1, "unused": "y"}) == "a: 1\n"


@pytest.mark.parametrize(("flag", "expected"), [(True, "yes"), (False, "no")])
def test_if_else_renders_one_branch_and_removes_directive_lines(flag: bool, expected: str) -> None:
    rendered = render_text(BRANCHES, {"x": "X", "flag": flag, "y": "Y"})
    assert rendered == f"a: X\n  b: {expected}\nc: Y\n"


def test_terraform_whitespace_keeps_the_newline_of_each_directive() -> None:
    # What Terraform's templatefile() gives: the directive goes, its line's newline stays.
    rendered = render_text(BRANCHES, {"x": "X", "flag": False, "y": "Y"}, keep_directive_lines=True)
    assert rendered == "a: X\n\n  b: no\n\nc: Y\n"


def test_terraform_whitespace_keeps_indentation_in_the_branch_it_belongs_to() -> None:
    text = "  %{ if flag }\nin\n  %{ endif }\nout\n"
    assert render_text(text, {"flag": False}, keep_directive_lines=True) == "  \nout\n"
    assert render_text(text, {"flag": True}, keep_directive_lines=True) == "  \nin\n  \nout\n"


def test_else_is_optional_and_ifs_nest() -> None:
    text = "%{ if a }\nA\n%{ if b }\nAB\n%{ else }\nA-not-B\n%{ endif }\n%{ endif }\nend\n"
    assert render_text(text, {"a": True, "b": True}) == "A\nAB\nend\n"
    assert render_text(text, {"a": True, "b": False}) == "A\nA-not-B\nend\n"
    assert render_text(text, {"a": False, "b": False}) == "end\n"


def test_missing_variable_is_named() -> None:
    with pytest.raises(TemplateError, match="missing template variables: x, y"):
        render_text("a: ${x}\nb: ${y}\n", {})


def test_variable_only_in_a_branch_not_taken_is_still_required() -> None:
    # As Terraform's templatefile(): every referenced variable must be given.
    with pytest.raises(TemplateError, match="missing template variables: hidden"):
        render_text("%{ if flag }\n${hidden}\n%{ endif }\n", {"flag": False})


@pytest.mark.parametrize(
    "directive",
    ["%{ for x in xs }", "%{~ if flag ~}", "%{ if !flag }", "%{ if a == b }", "%{ elif flag }"],
)
def test_unsupported_directives_are_rejected(directive: str) -> None:
    with pytest.raises(TemplateError, match=re.escape("<template>:1: unsupported directive")):
        render_text(f"{directive}\n%{{ endif }}\n", {"flag": True, "xs": "", "a": 1, "b": 1})


def test_directive_must_stand_alone_on_its_line() -> None:
    with pytest.raises(TemplateError, match=re.escape(":2: a %{ ... } directive must stand alone")):
        render_text("a: 1\nb: %{ if flag }2%{ endif }\n", {"flag": True})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("%{ else }\n", ":1: %{ else } without an open %{ if }"),
        ("%{ endif }\n", ":1: %{ endif } without an open %{ if }"),
        ("%{ if f }\n%{ else }\n%{ else }\n%{ endif }\n", ":3: %{ else } without an open"),
        ("x\n%{ if f }\na\n", ":2: %{ if } is never closed"),
    ],
)
def test_unbalanced_ifs_are_rejected_with_their_line(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        render_text(text, {"f": True})


@pytest.mark.parametrize("text", ["${a.b}", "${upper(a)}", "$${a}", "cost: 5$", "${}", "${ a b }"])
def test_other_uses_of_dollar_are_rejected(text: str) -> None:
    with pytest.raises(TemplateError, match=re.escape("unsupported use of '$'")):
        render_text(text + "\n", {"a": "x"})


def test_a_condition_must_be_a_bool() -> None:
    with pytest.raises(TemplateError, match="needs a bool, got 'true'"):
        render_text("%{ if flag }\nx\n%{ endif }\n", {"flag": "true"})


@pytest.mark.parametrize("value", [None, ["a"], {"a": 1}])
def test_an_interpolated_value_must_be_a_string_or_number(value: object) -> None:
    with pytest.raises(TemplateError, match="must be a string or number"):
        render_text("a: ${x}\n", {"x": value})  # type: ignore[dict-item]


def test_errors_name_the_template_file(tmp_path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("ok: 1\n%{ endif }\n")
    with pytest.raises(TemplateError, match=re.escape(f"{path}:2:")):
        render(path, {})


@pytest.mark.parametrize("template", sorted(CONTRACT))
def test_templates_use_exactly_the_contract_variables(template: str) -> None:
    assert template_variables(TEMPLATES_DIR / template) == CONTRACT[template]
