"""The service worker, run by Node with a stand-in for the browser's worker scope."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources
from typing import Any

import pytest

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js")

HARNESS = """
const calls = [];
const listeners = {};
const self = {
  location: { href: "https://shop.example/lealta-sw.js" },
  addEventListener: (name, fn) => { listeners[name] = fn; },
  skipWaiting: () => calls.push(["skipWaiting"]),
  clients: {
    claim: () => Promise.resolve(),
    openWindow: (url) => { calls.push(["openWindow", url]); return Promise.resolve(); },
  },
  registration: {
    showNotification: (title, options) => {
      calls.push(["showNotification", title, options]);
      return Promise.resolve();
    },
  },
};
globalThis.self = self;
SOURCE
const waits = [];
const event = (extra) => Object.assign({ waitUntil: (p) => waits.push(p) }, extra);
const pushed = (body) => event({ data: { json: () => JSON.parse(body), text: () => body } });
for (const body of BODIES) listeners.push(pushed(body));
listeners.push(event({ data: null }));
let closed = 0;
const note = (data) => ({ data, close: () => { closed += 1; } });
const ours = { lealta: true, url: "https://x.example/l/c/t" };
listeners.notificationclick(event({ notification: note(ours) }));
listeners.notificationclick(event({ notification: note({ other: "app" }) }));
Promise.all(waits).then(() => console.log(JSON.stringify({ calls, closed })));
"""


def _run(*bodies: str) -> dict[str, Any]:
    source = resources.files("lealta.channels").joinpath("browser", "sw.js").read_text("utf-8")
    script = HARNESS.replace("SOURCE", source).replace("BODIES", json.dumps(list(bodies)))
    done = subprocess.run(
        [str(NODE), "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_a_push_shows_the_notification_and_a_click_opens_its_link() -> None:
    message = {
        "title": "Sale",
        "body": "20 % off",
        "icon": "https://shop.example/i.png",
        "tag": "lealta-7",
        "url": "https://mail.shop.example/l/c/abc",
        "data": {"outbox_id": 7},
    }
    result = _run(json.dumps(message), json.dumps({"title": "Bad", "url": "javascript:alert(1)"}))
    shown = [c for c in result["calls"] if c[0] == "showNotification"]
    assert shown[0] == [
        "showNotification",
        "Sale",
        {
            "body": "20 % off",
            "data": {"lealta": True, "url": message["url"], "data": {"outbox_id": 7}},
            "icon": "https://shop.example/i.png",
            "tag": "lealta-7",
        },
    ]
    assert shown[1][2]["data"]["url"] is None  # only http(s) links are ever opened
    assert shown[2][1:] == ["", {"body": "", "data": {"lealta": True, "url": None, "data": {}}}]
    opened = [c for c in result["calls"] if c[0] == "openWindow"]
    assert opened == [["openWindow", "https://x.example/l/c/t"]]
    assert result["closed"] == 1  # another worker's notifications are left alone
