"""The journey editor offers the loyalty points condition: a marketer turns a step's condition
into "Loyalty points balance is between", saves a new version holding
``{kind: loyalty_points, gte: 500}``, and the page shows it back in its fields and outline."""

from __future__ import annotations

from lealta.automations import service
from tests.integration.conftest import Api
from tests.integration.console.test_journey_edit import EDIT, JOURNEY, _fields, _sign_in


def test_a_marketer_branches_a_journey_on_the_points_balance(api: Api) -> None:
    client = _sign_in(api, "marketer")
    page = client.get(EDIT).text
    assert '<option value="loyalty_points">Loyalty points balance is between</option>' in page
    fields = _fields(page)
    assert fields["s.interacted.c.kind"] == "any"
    fields["s.interacted.c.kind"] = "loyalty_points"
    fields["s.interacted.c.gte"] = "500"
    fields["op"] = "save"
    saved = client.post(EDIT, data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    with api.services.uow.transaction() as session:
        step = service.definition(session, JOURNEY).step("interacted")
    assert step.condition.model_dump(exclude_none=True) == {  # type: ignore[union-attr]
        "kind": "loyalty_points",
        "gte": 500,
    }
    again = client.get(EDIT).text
    shown = _fields(again)
    assert (shown["s.interacted.c.gte"], shown["s.interacted.c.lte"]) == ("500", "")
    assert "loyalty points at least 500" in again

    shown["s.interacted.c.gte"] = "900"
    shown["s.interacted.c.lte"] = "100"
    shown["op"] = "save"
    refused = client.post(EDIT, data=shown, follow_redirects=False)
    assert refused.status_code == 422
    assert "gte 900 is above lte 100" in refused.text
