"""User YAML is read with one loader that refuses alias bombs, deep nesting and cycles."""

from __future__ import annotations

import time

import pytest

from lealta.errors import InvalidInput
from lealta.yaml_input import MAX_ALIASES, MAX_DEPTH, load_yaml

# 390 bytes that expand to 9**9 strings: "billion laughs".
BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]"
            for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


def test_plain_yaml_and_json_and_a_few_aliases_are_read() -> None:
    assert load_yaml("a: 1\nb: [x, y]") == {"a": 1, "b": ["x", "y"]}
    assert load_yaml('{"a": {"b": [1, 2]}}') == {"a": {"b": [1, 2]}}
    assert load_yaml("base: &base {x: 1}\nother: *base") == {"base": {"x": 1}, "other": {"x": 1}}
    assert load_yaml("") is None


def test_an_alias_bomb_is_refused_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(InvalidInput, match="expands to more than") as refused:
        load_yaml(BOMB, field="body")
    assert time.monotonic() - started < 1
    assert refused.value.field == "body"
    assert refused.value.line is not None


def test_too_many_aliases_are_refused() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]"
    with pytest.raises(InvalidInput, match=f"more than {MAX_ALIASES} aliases"):
        load_yaml(text)


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 500, 50_000])
def test_deep_nesting_is_refused_not_a_recursion_error(levels: int) -> None:
    with pytest.raises(InvalidInput):
        load_yaml("[" * levels + "]" * levels)
    with pytest.raises(InvalidInput):
        load_yaml("".join(f"{'  ' * i}k:\n" for i in range(min(levels, 2000))))
    assert load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


def test_a_document_that_contains_itself_is_refused() -> None:
    with pytest.raises(InvalidInput, match="refers to itself"):
        load_yaml("&a [1, *a]")
