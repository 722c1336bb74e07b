"""``/push.js`` (``lealtaPush``), run by Node with stand-ins for the browser's push APIs."""

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
const fetched = [];
const state = { subscribed: null, unsubscribed: false, worker: null };
const subscription = {
  endpoint: "https://push.example/sub-1",
  toJSON() { return { endpoint: this.endpoint, keys: { p256dh: "BPk", auth: "YXV0aA" } }; },
  unsubscribe() { state.unsubscribed = true; return Promise.resolve(true); },
};
const registration = {
  pushManager: {
    getSubscription: () => Promise.resolve(state.subscribed ? subscription : null),
    subscribe: (options) => {
      state.subscribed = Array.from(options.applicationServerKey);
      state.userVisibleOnly = options.userVisibleOnly;
      return Promise.resolve(subscription);
    },
  },
};
globalThis.window = globalThis;
globalThis.location = { href: "https://shop.example/page", origin: "https://shop.example" };
globalThis.document = {
  currentScript: {
    src: "https://lealta.example/push.js",
    getAttribute: (name) => ({ "data-key": "WRITE", "data-worker": "/sw-lealta.js" })[name] || null,
  },
};
Object.defineProperty(globalThis, "navigator", { value: {
  serviceWorker: {
    register: (url) => { state.worker = url; return Promise.resolve(registration); },
    ready: Promise.resolve(registration),
    getRegistration: () => Promise.resolve(registration),
  },
}, configurable: true });
globalThis.PushManager = function () {};
globalThis.Notification = { requestPermission: () => Promise.resolve(PERMISSION) };
globalThis.lealta = { anonymousId: () => "anon-from-snippet" };
globalThis.fetch = (url, init) => {
  fetched.push({ url, method: (init && init.method) || "GET",
    auth: init && init.headers && init.headers.Authorization,
    body: init && init.body ? JSON.parse(init.body) : null });
  const body = url.endsWith("/vapid-public-key") ? { publicKey: "AQID" } : { kind: "webpush" };
  return Promise.resolve({ ok: true, status: 200, json: () => Promise.resolve(body) });
};
SOURCE
lealtaPush.subscribe({ userId: "u-1" })
  .then(() => lealtaPush.unsubscribe())
  .then(() => "ok", (e) => e.message)
  .then((outcome) => console.log(JSON.stringify({ outcome, fetched, state })));
"""


def _run(permission: str) -> dict[str, Any]:
    source = resources.files("lealta.channels").joinpath("browser", "push.js").read_text("utf-8")
    script = HARNESS.replace("SOURCE", source).replace("PERMISSION", json.dumps(permission))
    done = subprocess.run(
        [str(NODE), "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_subscribing_registers_the_browser_with_the_track_key_and_consent() -> None:
    result = _run("granted")
    assert result["outcome"] == "ok"
    assert result["state"]["worker"] == "/sw-lealta.js"
    assert result["state"]["subscribed"] == [1, 2, 3]  # the VAPID key, decoded
    assert result["state"]["userVisibleOnly"] is True
    key_request, register, unregister = result["fetched"]
    assert key_request["url"] == "https://lealta.example/v1/push/vapid-public-key"
    assert register["url"] == "https://lealta.example/v1/push/devices"
    assert (register["method"], register["auth"]) == ("POST", "Basic V1JJVEU6")  # "WRITE:"
    assert register["body"] == {
        "kind": "webpush",
        "subscription": {
            "endpoint": "https://push.example/sub-1",
            "keys": {"p256dh": "BPk", "auth": "YXV0aA"},
        },
        "userId": "u-1",
        "anonymousId": "anon-from-snippet",
        "consent": True,
    }
    assert unregister["method"] == "DELETE"
    assert unregister["body"]["subscription"]["endpoint"] == "https://push.example/sub-1"
    assert result["state"]["unsubscribed"] is True


def test_nothing_is_registered_when_the_person_declines() -> None:
    result = _run("denied")
    assert result["outcome"] == "lealta push: permission denied"
    assert result["fetched"] == []
