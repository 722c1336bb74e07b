"""The loyalty editor's pure parts: problems with their place and line, the programme as YAML,
what changed between versions, and benefits and rules in words."""

from __future__ import annotations

from pathlib import Path

from lealta.console import loyalty_words as words
from lealta.console.loyalty_card import move_words
from lealta.console.loyalty_diff import changes, unified
from lealta.console.loyalty_yaml import check, line_of, to_yaml
from lealta.loyalty.program import load_program

GENIUS = (
    Path(__file__).resolve().parents[3] / "src/lealta/loyalty/examples/genius.yaml"
).read_text()


def test_the_example_checks_and_reads_back_from_its_yaml() -> None:
    program, problems = check(GENIUS)
    assert problems == []
    assert program is not None
    text = to_yaml(program)
    assert "description: ''" not in text
    assert check(text)[0] == program


def test_a_problem_names_its_place_and_line() -> None:
    bad = GENIUS.replace("- {score_sum: 12}", "- {score_sum: 40}")
    program, problems = check(bad)
    assert program is None
    [problem] = problems
    assert problem.place == "tiers[Gold].qualify.any[1].score_sum"
    assert "40 is outside 3..15" in problem.message
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if "score_sum: 40" in text)
    assert problem.line == line


def test_unreadable_yaml_and_a_list_are_refused_with_a_line() -> None:
    _, [broken] = check("name: x\ntiers: [\n")
    assert broken.place == ""
    assert "not valid YAML" in broken.message
    assert broken.line is not None
    _, [listed] = check("- a\n- b\n")
    assert listed.message == "a loyalty programme must be a mapping, not list"


def test_a_place_missing_from_the_text_falls_back_to_the_nearest_line() -> None:
    text = "name: x\ntiers:\n  - name: Member\n  - name: Gold\n"
    assert line_of(text, "tiers[Gold].qualify") == 4
    assert line_of(text, "tiers[1].name") == 4
    assert line_of(text, "status.grace_days") == 1
    assert line_of("a: [", "a") is None


def test_changes_between_versions_in_sentences_and_lines() -> None:
    older = load_program(GENIUS)
    newer = load_program(
        GENIUS.replace("qualify: {orders: 2}", "qualify: {orders: 3}")
        .replace("{type: percent_discount, code: GENIUS10, percent: 10}",
                 "{type: percent_discount, code: GENIUS12, percent: 12}")
        .replace("grace_days: 30", "grace_days: 60")
    )  # fmt: skip
    said = changes(older, newer)
    assert (
        "Tier Silver: rule changed from “at least 2 orders in 730 days” to “at least 3 orders "
        "in 730 days”"
    ) in said
    assert "Tier Silver: benefits added GENIUS12 and removed GENIUS10" in said
    assert any(s.startswith("Status rules changed:") and "60 more days" in s for s in said)
    diff = unified(older, newer, "version 1", "version 2")
    assert "-    orders: 2\n" in diff
    assert "+    orders: 3\n" in diff
    assert changes(older, older) == []
    assert unified(older, older, "a", "b") == ""


def test_benefits_rules_and_moves_in_words() -> None:
    program = load_program(GENIUS)
    gold = program.tier("Gold")
    assert words.qualify(program.tiers[0], program) == "every eligible customer"
    assert words.qualify(gold, program).startswith("at least 5 orders in 730 days or")
    said = [words.benefit(b, "EUR") for b in program.benefits_of("Silver")]
    assert said == [
        "Free shipping on orders of €50 or more",
        "Birthday gift (€5 voucher)",
        "10 % off every order",
    ]
    assert words.status(program.status)[0] == (
        "A tier reached is kept until the end of the following year."
    )
    names = program.tier_names()
    assert move_words(None, "Member", names) == "Joined Member"
    assert move_words("Silver", "Gold", names) == "Moved up from Silver to Gold"
    assert move_words("Gold", "Silver", names) == "Moved down from Gold to Silver"
    assert move_words("Member", None, names) == "Left Member (no tier any more)"
