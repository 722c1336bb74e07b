"""The served tracker: defaults baked in, an embed tag that escapes its inputs."""

from __future__ import annotations

from lealta.snippet.script import STUB, embed_tag, render


def test_defaults_replace_the_marker_and_change_the_etag() -> None:
    on = render(version="9.9.9", respect_do_not_track=True)
    off = render(version="9.9.9", respect_do_not_track=False)
    assert 'var CONFIG = {"version": "9.9.9", "respectDnt": true};' in on.source
    assert '"respectDnt": false' in off.source
    assert on.etag != off.etag


def test_the_tracker_stays_small() -> None:
    assert len(render(version="1", respect_do_not_track=True).source.encode()) < 10_000


def test_the_embed_tag_carries_the_stub_and_escapes_the_key() -> None:
    tag = embed_tag("https://api.example/", 'k"x')
    assert tag.startswith(STUB)
    assert 'src="https://api.example/t.js" data-key="k&quot;x" async' in tag
