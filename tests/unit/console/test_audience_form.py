"""The audience builder's form read back into the rule tree: the kinds only audiences have,
fields left over from a kind chosen before, rules added and removed, problems placed on their
fields."""

from __future__ import annotations

import json

import pytest

from lealta.audiences.definition import load_condition
from lealta.conditions import BoughtCondition, NextBestCondition, RfmCondition
from lealta.console import audience_form as form
from lealta.console.audiences_page import check_rules, read_draft, touched_of


def test_bought_and_rfm_rules_read_back_into_valid_conditions() -> None:
    posted = {
        "c.kind": "all",
        "c.0.kind": "bought",
        "c.0.measure": "quantity",
        "c.0.category": "shoes",
        "c.0.gte": "2",
        "c.0.within_days": "60",
        "c.0.product": "",
        "c.1.kind": "rfm",
        "c.1.r_gte": "4",
        "c.1.m_lte": "2",
    }
    base = {"kind": "all", "conditions": [{"kind": "bought"}, {"kind": "rfm", "r": {"gte": 1}}]}
    read = load_condition(form.read(posted, base))
    bought, rfm = read.conditions
    assert isinstance(bought, BoughtCondition)
    assert isinstance(rfm, RfmCondition)
    assert (bought.measure, bought.category, bought.gte, bought.within_days) == (
        "quantity", "shoes", 2, 60,
    )  # fmt: skip
    assert bought.product is None
    assert (rfm.r and rfm.r.gte, rfm.m and rfm.m.lte, rfm.f) == (4, 2, None)


def test_fields_of_the_kind_chosen_before_are_dropped() -> None:
    posted = {"c.kind": "tag", "c.tag": "vip", "c.name": "city", "c.op": "equals"}
    base = {"kind": "attribute", "name": "city", "op": "equals", "value": "x"}
    assert form.read(posted, base) == {"kind": "tag", "tag": "vip"}


def test_a_kind_that_does_not_exist_keeps_the_draft_kind() -> None:
    assert form.read({"c.kind": "drop table"}, {"kind": "tag", "tag": "a"})["kind"] == "tag"


def test_adding_to_a_single_rule_makes_a_group_and_removing_takes_one_out() -> None:
    one = {"kind": "tag", "tag": "vip"}
    two = form.add_rule(one, "c.")
    assert two == {"kind": "all", "conditions": [one, form.NEW_RULE]}
    three = form.add_rule(two, "c.")
    assert len(three["conditions"]) == 3
    assert form.remove_rule(three, "c.0.")["conditions"] == [form.NEW_RULE, form.NEW_RULE]
    assert form.remove_rule(three, "c.") == three  # the root is not inside a group


def test_problem_places_become_form_fields() -> None:
    assert form.field_of("condition.conditions.1.gte") == "c.1.gte"
    assert form.field_of("condition.condition.within_days") == "c.x.within_days"
    assert form.field_of("condition.conditions.0.r.gte") == "c.0.r_gte"
    assert form.field_of("list") == "list"
    assert [form.rule_label(p) for p in ("c.", "c.1.", "c.2.x.0.")] == [
        "The rules", "Rule 2", "Rule 3.1",
    ]  # fmt: skip


def test_each_bad_rule_gets_its_own_problem_and_good_ones_their_words() -> None:
    condition = {
        "kind": "all",
        "conditions": [
            {"kind": "tag", "tag": "vip"},
            {"kind": "event_count", "event": "Viewed", "gte": 3, "lte": 1},
            {"kind": "not", "condition": {"kind": "score", "gte": 5, "lte": 1}},
        ],
    }
    draft = read_draft({"draft": json.dumps({"name": "x", "condition": condition})})
    words, problems = check_rules(draft)
    assert words["c.0."] == "has the tag 'vip'"
    assert "c." not in words
    assert sorted(p.field.rsplit(".", 1)[0] for p in problems) == ["c.1", "c.2.x"]
    assert all(not p.message.startswith(("invalid", "event_count:")) for p in problems)


def test_a_message_rule_offers_the_email_templates_and_a_window_but_no_run_entry() -> None:
    shown = form.fields(
        {"kind": "message", "template": "", "action": "opened"}, [], templates=["welcome"]
    )
    by_name = {f["name"]: f for f in shown["fields"]}
    assert ("welcome", "welcome") in by_name["c.template"]["options"]
    # none is chosen yet, and none looks chosen: the first option asks for one
    assert by_name["c.template"]["options"][0] == ("", "Choose a message")
    assert by_name["c.template"]["value"] == ""
    assert "c.within_days" in by_name
    event = form.fields({"kind": "event_count", "event": "Viewed", "gte": 1}, [])
    assert not any(f["name"].endswith("since_entered") for f in event["fields"])
    posted = {
        "c.kind": "message",
        "c.template": "welcome",
        "c.action": "opened",
        "c.within_days": "30",
    }
    read = form.read(posted, {"kind": "message", "template": "", "action": "clicked"})
    assert read == {
        "kind": "message",
        "template": "welcome",
        "action": "opened",
        "within_days": "30",
    }


def test_an_event_rule_edits_its_first_property_test_and_keeps_the_others() -> None:
    base = {
        "kind": "event_count",
        "event": "Product Viewed",
        "gte": 3,
        "where": [
            {"property": "category", "op": "equals", "value": "boots"},
            {"property": "price", "op": "gt", "value": 50},
        ],
    }
    shown = {f["name"]: f for f in form.fields(base, [])["fields"] if f["name"]}
    assert shown["c.where_property"]["value"] == "category"
    posted = {
        "c.kind": "event_count",
        "c.event": "Product Viewed",
        "c.gte": "3",
        "c.where_property": "category",
        "c.where_op": "equals",
        "c.where_value": "shoes",
    }
    read = load_condition(form.read(posted, base))
    assert [(t.property, t.value) for t in read.where] == [("category", "shoes"), ("price", 50)]
    cleared = form.read({**posted, "c.where_property": ""}, base)
    assert cleared["where"] == [{"property": "price", "op": "gt", "value": 50}]


def test_an_estimate_from_a_slice_shows_its_margin_and_asks_for_the_exact_count() -> None:
    from lealta.audiences.counting import Estimate
    from lealta.console.rendering import _env

    html = _env.get_template("_audience_preview.html").render(
        problem="", estimate=Estimate(41_200, 950, 10_012, 1_000_000, exact=False)
    )
    assert "<strong>41,200</strong>" in html
    assert "± 950" in html
    assert "Estimated from 10,012 of 1,000,000 contacts" in html
    assert 'hx-post="/audiences/preview/exact" hx-trigger="load"' in html


def test_a_next_best_rule_reads_back_and_shows_its_fields() -> None:
    posted = {"c.kind": "next_best", "c.category": " shoes ", "c.product": "", "c.top": "3"}
    read = load_condition(form.read(posted, {"kind": "next_best", "category": "", "top": 1}))
    assert isinstance(read, NextBestCondition)
    assert (read.category, read.product, read.top) == ("shoes", None, 3)
    shown = form.fields({"kind": "next_best", "product": "p1"}, [])
    assert [f["name"] for f in shown["fields"]] == ["c.category", "c.product", "c.top"]
    assert "next_best" in shown["kinds"]


def test_a_field_of_the_kind_before_is_not_read_into_the_new_kind_of_the_same_name() -> None:
    posted = {"c.kind": "consent", "c.list": "news", "c.status": "subscribed"}
    base = {"kind": "list", "list": "news", "status": "subscribed"}
    assert form.read(posted, base) == {"kind": "consent", "channel": "email"}
    load_condition(form.read(posted, base))  # a list's status is no consent decision


def test_all_and_any_swap_and_keep_their_rules() -> None:
    rules = [{"kind": "tag", "tag": "vip"}, {"kind": "tag", "tag": "new"}]
    posted = {"c.kind": "any", "c.0.kind": "tag", "c.0.tag": "vip", "c.1.kind": "tag",
              "c.1.tag": "new"}  # fmt: skip
    assert form.read(posted, {"kind": "all", "conditions": rules}) == {
        "kind": "any", "conditions": rules,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        ({"kind": "tag", "tag": ""}, "c.tag", "Fill in the tag"),
        ({"kind": "list", "list": ""}, "c.list", "Fill in the list"),
        ({"kind": "attribute", "name": "", "op": "equals", "value": "x"}, "c.name",
         "Fill in the attribute"),
        ({"kind": "event_count", "event": "", "gte": 1}, "c.event", "Fill in the event"),
        ({"kind": "stage", "in": []}, "c.in", "Fill in at least one lifecycle stage"),
        ({"kind": "segment", "in": []}, "c.in", "Fill in at least one RFM segment"),
        ({"kind": "cluster", "in": []}, "c.in", "Fill in at least one cluster"),
        ({"kind": "audience", "audience": ""}, "c.audience", "Choose the audience"),
        ({"kind": "message", "template": "", "action": "clicked"}, "c.template",
         "Choose the e-mail"),
        ({"kind": "loyalty_points", "gte": -1}, "c.gte", "“At least (points)” must be 0 or more"),
        ({"kind": "bought", "measure": "orders", "gte": "many"}, "c.gte",
         "“At least” must be a number"),
        ({"kind": "event_count", "event": "Viewed", "gte": 1,
          "where": [{"property": "", "op": "equals", "value": "x"}]}, "c.where_property",
         "Fill in the property"),
        ({"kind": "next_best", "top": 1}, "c.kind",
         "Give “Category” or “Product id” (one of them)"),
        ({"kind": "score", "gte": 9, "lte": 2}, "c.kind", "“At least” 9 is above “At most” 2"),
    ],
)  # fmt: skip
def test_each_rule_kind_names_its_empty_or_wrong_field_in_the_builders_words(
    rule: dict[str, object], field: str, message: str
) -> None:
    _, problems = check_rules({"condition": rule})
    assert [(p.field, p.message) for p in problems] == [(field, message)]


def test_the_fields_left_forget_those_of_a_rule_whose_kind_changed() -> None:
    before = {"condition": {"kind": "all", "conditions": [
        {"kind": "tag", "tag": ""}, {"kind": "list", "list": ""}]}}  # fmt: skip
    posted = {"draft": json.dumps(before), "touched": "c.0.tag c.1.list c.1.status",
              "c.kind": "all", "c.0.kind": "tag", "c.0.tag": "", "c.1.kind": "consent"}  # fmt: skip
    draft = read_draft(posted)
    assert touched_of(posted, draft) == {"c.0.tag"}
