"""Template bodies as typed data: the parts each channel has, and per-language variants. Pure.

A body is what ``message_templates.body`` stores. Its parts are Jinja2 sources rendered for
each person (see :mod:`lealta.messages.render`):

=============  ==========================================================================
channel        parts
=============  ==========================================================================
``email``      ``subject`` (required), ``html`` or ``mjml`` (MJML source, turned into
               responsive HTML), ``text`` (made from the HTML when absent), ``preheader``
``sms``        ``text`` (required)
``push``       ``title``, ``body`` (one of them required), ``url``, ``icon``, ``data``
``web_push``   as ``push``
``onsite``     ``html`` (required)
``webhook``    ``url`` (required), ``body``: any JSON whose strings are templates
=============  ==========================================================================

``variants`` maps language codes (``pt-BR``, ``pt``, ``de``) to the same parts: the variant
for the contact's ``language`` is laid over the default parts (exact code first, then the
primary language, then none). A variant that has any of ``html``, ``mjml`` or ``text`` brings
its own content: the default's content parts are then not used, so a Portuguese HTML part
never travels with an English plain-text part. ``track_links: true`` also turns bare URLs in
plain-text parts (SMS, the e-mail ``text``) into tracked links; links in HTML are always
tracked when a message is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from lealta.errors import InvalidInput

CHANNELS = ("email", "sms", "push", "web_push", "onsite", "webhook")
CHANNEL_ALIASES = {"webpush": "web_push", "web-push": "web_push", "on_site": "onsite"}
# Parts that belong together as "the content": a variant with one of them replaces all.
CONTENT_PARTS = ("html", "mjml", "text")
HTML_PARTS = frozenset({"html", "mjml"})
MAX_SOURCE = 200_000  # characters of template source in one part
MAX_VARIANTS = 50
TEMPLATE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$"
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")

Source = Annotated[str, Field(max_length=MAX_SOURCE)]


class _Parts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmailParts(_Parts):
    """The parts of an e-mail."""

    subject: Source | None = Field(None, description="The subject line.")
    preheader: Source | None = Field(
        None, description="Preview text inboxes show after the subject (hidden in the body)."
    )
    html: Source | None = Field(None, description="The HTML body (values are HTML-escaped).")
    mjml: Source | None = Field(None, description="MJML source turned into the HTML body.")
    text: Source | None = Field(None, description="Plain text; made from the HTML when absent.")

    @model_validator(mode="after")
    def _one_html(self) -> EmailParts:
        if self.html is not None and self.mjml is not None:
            raise ValueError("give either html or mjml, not both")
        return self


class SmsParts(_Parts):
    """The parts of a text message."""

    text: Source | None = Field(None, description="The message text.")


class PushParts(_Parts):
    """The parts of a mobile or browser push notification."""

    title: Source | None = None
    body: Source | None = None
    url: Source | None = Field(None, description="Opened when the notification is tapped.")
    icon: Source | None = None
    data: dict[str, Source] = Field(
        default_factory=dict, description="Extra key/value strings for the app."
    )


class OnsiteParts(_Parts):
    """The part of an on-site message (a banner or block placed on the shop's pages)."""

    html: Source | None = None


class WebhookParts(_Parts):
    """The parts of a webhook call."""

    url: Source | None = Field(None, description="Where to POST (a template too).")
    body: JsonValue = Field(
        None,
        description='JSON sent; its strings are templates, and a string that is one "{{ … }}" '
        "expression keeps the value's type (a list stays a list).",
    )


def _check_languages(cls: type, variants: dict[str, Any]) -> dict[str, Any]:
    if len(variants) > MAX_VARIANTS:
        raise ValueError(f"at most {MAX_VARIANTS} variants")
    seen: set[str] = set()
    for code in variants:
        if not _LANGUAGE.match(code):
            raise ValueError(f"{code!r} is not a language code such as 'pt-BR' or 'de'")
        key = normalize_language(code)
        if key in seen:
            raise ValueError(f"two variants for language {code!r}")
        seen.add(key)
    return variants


class EmailBody(EmailParts):
    """An e-mail template."""

    variants: dict[str, EmailParts] = Field(default_factory=dict)
    track_links: bool = False
    _languages = field_validator("variants")(_check_languages)

    @model_validator(mode="after")
    def _complete(self) -> EmailBody:
        if not self.subject:
            raise ValueError("an e-mail needs a subject")
        if not (self.html or self.mjml or self.text):
            raise ValueError("an e-mail needs html, mjml or text")
        return self


class SmsBody(SmsParts):
    """A text-message template."""

    variants: dict[str, SmsParts] = Field(default_factory=dict)
    track_links: bool = False
    _languages = field_validator("variants")(_check_languages)

    @model_validator(mode="after")
    def _complete(self) -> SmsBody:
        if not self.text:
            raise ValueError("a text message needs text")
        return self


class PushBody(PushParts):
    """A push-notification template (mobile or browser)."""

    variants: dict[str, PushParts] = Field(default_factory=dict)
    track_links: bool = False
    _languages = field_validator("variants")(_check_languages)

    @model_validator(mode="after")
    def _complete(self) -> PushBody:
        if not (self.title or self.body):
            raise ValueError("a push notification needs a title or a body")
        return self


class OnsiteBody(OnsiteParts):
    """An on-site message template."""

    variants: dict[str, OnsiteParts] = Field(default_factory=dict)
    track_links: bool = False
    _languages = field_validator("variants")(_check_languages)

    @model_validator(mode="after")
    def _complete(self) -> OnsiteBody:
        if not self.html:
            raise ValueError("an on-site message needs html")
        return self


class WebhookBody(WebhookParts):
    """A webhook template."""

    variants: dict[str, WebhookParts] = Field(default_factory=dict)
    track_links: bool = False
    _languages = field_validator("variants")(_check_languages)

    @model_validator(mode="after")
    def _complete(self) -> WebhookBody:
        if not self.url:
            raise ValueError("a webhook needs a url")
        return self


BODIES: dict[str, type[BaseModel]] = {
    "email": EmailBody,
    "sms": SmsBody,
    "push": PushBody,
    "web_push": PushBody,
    "onsite": OnsiteBody,
    "webhook": WebhookBody,
}


def normalize_channel(channel: str) -> str:
    """The channel's canonical name (``webpush`` → ``web_push``); InvalidInput if unknown."""
    name = CHANNEL_ALIASES.get(channel.strip().lower(), channel.strip().lower())
    if name not in BODIES:
        raise InvalidInput(
            f"unknown channel {channel!r}; choose from {', '.join(CHANNELS)}", field="channel"
        )
    return name


def normalize_language(code: str) -> str:
    """A language code to compare by: lower case, ``-`` between subtags (``pt_BR`` → ``pt-br``)."""
    return code.strip().replace("_", "-").casefold()


def parse_body(channel: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` checked against ``channel``'s model, as stored (unset parts left out).

    Raises
    ------
    InvalidInput
        Naming the offending part (``field``), e.g. ``variants.de.subject``.
    """
    model = BODIES[normalize_channel(channel)]
    try:
        parsed = model.model_validate(dict(body))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        message = first["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"{where}: {message}", field=where) from None
    dumped: dict[str, Any] = parsed.model_dump(mode="json", exclude_defaults=True)
    return dumped


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=TEMPLATE_ID, description="The name workflows' send steps use.")
    description: str = Field("", max_length=500)


class EmailTemplate(_Document):
    """A stored e-mail template."""

    channel: Literal["email"]
    body: EmailBody


class SmsTemplate(_Document):
    """A stored SMS template."""

    channel: Literal["sms"]
    body: SmsBody


class PushTemplate(_Document):
    """A stored push template."""

    channel: Literal["push", "web_push"]
    body: PushBody


class OnsiteTemplate(_Document):
    """A stored on-site template."""

    channel: Literal["onsite"]
    body: OnsiteBody


class WebhookTemplate(_Document):
    """A stored webhook template."""

    channel: Literal["webhook"]
    body: WebhookBody


TemplateDocument = Annotated[
    EmailTemplate | SmsTemplate | PushTemplate | OnsiteTemplate | WebhookTemplate,
    Field(discriminator="channel"),
]
_DOCUMENT: TypeAdapter[Any] = TypeAdapter(TemplateDocument)


def documents(data: Any) -> list[dict[str, Any]]:
    """The template documents in a file's parsed content: one document, a list of them, or
    ``{"templates": [...]}``. Each has ``id``, ``channel`` and ``body`` (``description``
    optional); bodies are checked when saved.

    Raises
    ------
    InvalidInput
        When the shape is wrong, naming the document (``templates[2].id``).
    """
    found = data.get("templates") if isinstance(data, Mapping) and "templates" in data else data
    items = found if isinstance(found, list) else [found]
    if not items:
        raise InvalidInput("no templates in the file", field="templates")
    out: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        where = f"templates[{index}]" if len(items) > 1 else "template"
        if not isinstance(item, Mapping):
            raise InvalidInput(
                f"{where}: expected a mapping with id, channel and body", field=where
            )
        unknown = set(item) - {"id", "channel", "description", "body"}
        if unknown:
            raise InvalidInput(f"{where}: unknown keys {sorted(unknown)}", field=where)
        for key in ("id", "channel", "body"):
            if key not in item:
                raise InvalidInput(f"{where}: {key} is missing", field=f"{where}.{key}")
        if not isinstance(item["id"], str) or not re.match(TEMPLATE_ID, item["id"]):
            raise InvalidInput(f"{where}.id: {item['id']!r} is not a template id", field="id")
        if not isinstance(item["body"], Mapping):
            raise InvalidInput(f"{where}.body: expected a mapping of parts", field="body")
        out.append(
            {
                "id": item["id"],
                "channel": normalize_channel(str(item["channel"])),
                "description": str(item.get("description") or ""),
                "body": dict(item["body"]),
            }
        )
    return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a template document (``id``, ``channel``, ``description``, ``body``)."""
    schema: dict[str, Any] = _DOCUMENT.json_schema()
    schema["title"] = "Lealta message template"
    return schema
