"""The tracker served at ``/t.js``: the packaged ``t.js`` with the server's defaults filled in.

Embed it with::

    <script src="https://HOST/t.js" data-key="WRITE_KEY" async></script>

Calls made before it loads are queued by :data:`STUB` and replayed once it runs.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

MARKER = "{} /* lealta:defaults */"

STUB = (
    "<script>window.lealta=window.lealta||[];"
    '["identify","track","page","consent","reset"].forEach(function(m){'
    "lealta[m]=lealta[m]||function(){lealta.push([m].concat([].slice.call(arguments)))}});"
    "</script>"
)
"""One line placed before the ``<script src=…/t.js>`` tag: ``lealta.track(…)`` works at once."""


@dataclass(frozen=True)
class Script:
    """The tracker's source and its entity tag (for ``If-None-Match``)."""

    source: str
    etag: str


@lru_cache(maxsize=4)
def render(*, version: str, respect_do_not_track: bool) -> Script:
    """The tracker with this server's defaults (``version``, Do Not Track policy) baked in."""
    template = resources.files("lealta.snippet").joinpath("t.js").read_text(encoding="utf-8")
    if MARKER not in template:
        raise RuntimeError("t.js lost its defaults marker")
    defaults = json.dumps({"version": version, "respectDnt": respect_do_not_track})
    source = template.replace(MARKER, defaults, 1)
    return Script(source, '"' + hashlib.sha256(source.encode()).hexdigest()[:32] + '"')


def embed_tag(api: str, write_key: str) -> str:
    """The ``<script>`` tag (with the queueing stub) a site pastes into its pages."""
    src = html.escape(api.rstrip("/") + "/t.js")
    return f'{STUB}\n<script src="{src}" data-key="{html.escape(write_key)}" async></script>'
