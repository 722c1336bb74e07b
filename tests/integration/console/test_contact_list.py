"""The console's contact list through HTTP: the filter form's choices, chips, the count, a
bad value named, and pages."""

from __future__ import annotations

from lealta.storage.base import utcnow
from lealta.users.service import create_user
from tests.integration.conftest import Api
from tests.integration.console.test_console import PASSWORD, _sign_in
from tests.integration.contacts.helpers import create


def _signed_in(api: Api) -> None:
    with api.services.uow.transaction() as session:
        create_user(session, email="vi@example.com", role="viewer", password=PASSWORD, now=utcnow())
    assert _sign_in(api.client, "vi@example.com") == 303


def test_filters_show_as_chips_with_the_count(api: Api) -> None:
    for n in range(3):
        create(
            api,
            identifiers={"email": f"p{n}@shop.example"},
            attributes={"first_name": "Marta" if n else "Ana", "city": "Porto"},
            tags=["vip"],
        )
    _signed_in(api)
    page = api.client.get("/contacts", params={"q": "marta", "tag": "vip"})
    assert page.status_code == 200
    assert "<strong>2 contacts</strong>" in page.text
    assert '<option value="vip" selected>vip</option>' in page.text
    assert 'aria-label="Remove filter Tag: vip"' in page.text
    assert 'href="/contacts?q=marta"' in page.text  # the tag chip's remove link
    assert "p1@shop.example" in page.text
    assert "p0@shop.example" not in page.text


def test_a_bad_value_is_named_not_a_500(api: Api) -> None:
    _signed_in(api)
    page = api.client.get("/contacts", params={"score_min": "lots"})
    assert page.status_code == 200
    assert "Score at least: &#39;lots&#39; is not a number" in page.text
    assert 'id="f-score_min" name="score_min"' in page.text
    assert 'aria-invalid="true"' in page.text


def test_next_page_continues_where_the_first_ended(api: Api) -> None:
    for n in range(55):
        create(api, identifiers={"email": f"c{n:02d}@x.example"})
    _signed_in(api)
    first = api.client.get("/contacts")
    assert "More than" not in first.text
    assert "<strong>55 contacts</strong>" in first.text
    assert "c49@x.example" in first.text
    assert "c50@x.example" not in first.text
    start = first.text.index('class="button" href="') + len('class="button" href="')
    following = first.text[start : first.text.index('"', start)].replace("&amp;", "&")
    second = api.client.get(following)
    assert "c50@x.example" in second.text
    assert "c49@x.example" not in second.text
    assert "Next page" not in second.text
