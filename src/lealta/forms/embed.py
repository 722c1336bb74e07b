"""The ready-to-paste HTML of a sign-up form (plain HTML: works without JavaScript). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

CHANNEL_LABELS = {
    "email": "I agree to receive e-mails",
    "sms": "I agree to receive text messages (SMS)",
    "push": "I agree to receive push notifications",
    "web_push": "I agree to receive browser notifications",
    "ads": "I agree that my e-mail and phone, encrypted, are used to show me ads",
}
KEY_PLACEHOLDER = "YOUR_WRITE_KEY"


def form_html(
    *,
    action: str,
    slug: str,
    name: str,
    consent_channels: Sequence[str],
    write_key: str | None = None,
) -> str:
    """A ``<form>`` posting to ``action``: e-mail, first name, consent boxes and a honeypot.

    ``write_key`` must be a *track* key (it is public in the page); without one a placeholder
    stands in its place.
    """
    title = name or slug
    boxes = "".join(
        f'  <label><input type="checkbox" name="consent_{escape(channel)}"> '
        f"{escape(CHANNEL_LABELS.get(channel, channel))}</label>\n"
        for channel in consent_channels
    )
    return (
        f'<form class="lealta-form" method="post" action="{escape(action)}" '
        f'aria-label="{escape(title)}">\n'
        f'  <input type="hidden" name="_key" value="{escape(write_key or KEY_PLACEHOLDER)}">\n'
        '  <label>E-mail <input type="email" name="email" required autocomplete="email">'
        "</label>\n"
        '  <label>First name <input type="text" name="first_name" autocomplete="given-name">'
        "</label>\n"
        f"{boxes}"
        '  <div aria-hidden="true" style="position:absolute;left:-10000px">'
        '<input type="text" name="_hp" tabindex="-1" autocomplete="off"></div>\n'
        '  <button type="submit">Sign up</button>\n'
        "</form>\n"
    )
