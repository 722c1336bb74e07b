"""The message editor's view model: problems placed on their field, the form turned back into
a template body (languages added, removed, kept), and links decoded as they will be tracked."""

from __future__ import annotations

from lealta.console.messages_page import (
    body_from_form,
    default_language,
    languages,
    posted_languages,
    where,
)
from lealta.console.messages_preview import decode_link, tracked_links
from lealta.links import Links
from lealta.messages.problems import Problem


def test_a_problem_names_the_language_and_field_it_is_on() -> None:
    assert where("subject") == ("default", "subject")
    assert where("variants.pt-BR.html") == ("pt-BR", "markup")
    assert where("mjml") == ("default", "markup")
    assert where("body.items[0]") == ("default", "body")


def test_problems_are_shown_on_their_field_of_their_language() -> None:
    body = {"subject": "Hi", "html": "<p>x</p>", "variants": {"it": {"subject": "Ciao"}}}
    problem = Problem("error", "variants.it.subject", "unknown variable", 2)
    tabs = languages("email", body, [problem])
    assert [t.code for t in tabs] == ["default", "it"]
    assert not tabs[0].has_problems
    subject = next(f for f in tabs[1].fields if f.part.name == "subject")
    assert subject.problems == [problem]
    assert subject.value == "Ciao"
    assert next(f for f in tabs[0].fields if f.part.name == "markup").value == "<p>x</p>"


def test_the_form_becomes_a_body_keeping_what_the_editor_does_not_show() -> None:
    stored = {"title": "Old", "data": {"sku": "1"}, "variants": {"it": {"data": {"k": "v"}}}}
    form = {
        "part:default:title": "New",
        "part:default:body": "Come back",
        "part:default:url": "  ",
        "part:it:title": "Nuovo",
    }
    body = body_from_form("push", form, ["it"], stored)
    assert body == {
        "title": "New",
        "body": "Come back",
        "data": {"sku": "1"},
        "variants": {"it": {"title": "Nuovo", "data": {"k": "v"}}},
    }


def test_an_email_body_goes_to_html_or_mjml_as_chosen_and_empty_languages_drop() -> None:
    form = {
        "part:default:subject": "Hi",
        "part:default:markup": "<mjml></mjml>",
        "format:default": "mjml",
        "track_links": "1",
    }
    body = body_from_form("email", form, ["de"], {"html": "<p>old</p>"})
    assert body == {"subject": "Hi", "mjml": "<mjml></mjml>", "track_links": True}


def test_languages_are_added_once_and_removed() -> None:
    assert posted_languages({"action": "add", "new_language": "pt-BR"}, ["it"]) == (
        ["it", "pt-BR"],
        None,
    )
    codes, problem = posted_languages({"action": "add", "new_language": "IT"}, ["it"])
    assert codes == ["it"]
    assert problem == "there is already a IT version"
    assert posted_languages({"action": "add", "new_language": "1x"}, [])[1] is not None
    assert posted_languages({"action": "remove:it"}, ["it", "de"]) == (["de"], None)


def test_the_default_language_option_never_picks_a_variant() -> None:
    assert default_language(["it"]) == "en"
    assert default_language(["en-GB", "it"]) == "und"


def test_links_are_decoded_as_they_will_be_tracked() -> None:
    links = Links("secret", "https://lealta.example")
    click = links.click(0, "https://shop.example/new", utm={"source": "lealta"})
    html = (
        f'<a href="{click}">See <b>new</b></a> <a href="mailto:a@b.example">Mail</a> '
        f'<a href="{links.unsubscribe(0)}">Unsubscribe</a>'
    )
    found = tracked_links(links, {"html": html, "text": "Visit https://shop.example/x."})
    assert [(f["text"], f["kind"]) for f in found] == [
        ("See new", "tracked"),
        ("Mail", "not tracked"),
        ("Unsubscribe", "unsubscribe"),
        ("https://shop.example/x", "not tracked"),
    ]
    assert found[0]["target"] == "https://shop.example/new?utm_source=lealta"
    forged = decode_link(links, "https://lealta.example/l/c/forged.token")
    assert forged["kind"] == "not tracked"
