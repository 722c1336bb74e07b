/*! lealta-push.js: subscribe this browser to Lealta's web push (Apache-2.0). No dependencies.
 *
 *   <script src="https://LEALTA_HOST/push.js" data-key="WRITE_KEY"
 *           data-worker="/lealta-sw.js"></script>
 *   button.onclick = function () {
 *     lealtaPush.subscribe({ userId: "u-42" }).then(function () { ... });
 *   };
 *
 * subscribe() must run from a click (browsers only ask for permission then). It registers the
 * service worker, asks for permission, subscribes with Lealta's VAPID key and registers the
 * subscription (with consent for web_push) for the user id given, or the tracking snippet's
 * anonymous id. unsubscribe() undoes it. Both return promises.
 */
(function (w, d, n) {
  "use strict";
  var el = d.currentScript;
  var attr = function (name) { return el ? el.getAttribute("data-" + name) : null; };
  var api = (attr("api") || (el ? new URL(el.src, location.href).origin : location.origin)).replace(/\/$/, "");
  var defaults = { key: attr("key"), worker: attr("worker") || "/lealta-sw.js" };

  function bytes(base64url) {
    var text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - base64url.length % 4) % 4));
    var out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  function send(method, key, body) {
    return fetch(api + "/v1/push/devices", {
      method: method,
      headers: { "Content-Type": "application/json", "Authorization": "Basic " + btoa(key + ":") },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (!r.ok) throw new Error("lealta push: the server answered " + r.status);
      return r.json();
    });
  }
  function supported() {
    return "serviceWorker" in n && "PushManager" in w && "Notification" in w;
  }
  function options(given) {
    var o = {}, k;
    for (k in defaults) o[k] = defaults[k];
    for (k in given || {}) o[k] = given[k];
    if (!o.anonymousId && w.lealta && typeof w.lealta.anonymousId === "function") o.anonymousId = w.lealta.anonymousId();
    return o;
  }

  w.lealtaPush = {
    supported: supported,
    subscribe: function (given) {
      var o = options(given);
      if (!supported()) return Promise.reject(new Error("lealta push: not supported by this browser"));
      if (!o.userId && !o.anonymousId) return Promise.reject(new Error("lealta push: a userId or anonymousId is needed"));
      return Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") throw new Error("lealta push: permission " + permission);
        return n.serviceWorker.register(o.worker);
      }).then(function () {
        return n.serviceWorker.ready;
      }).then(function (registration) {
        return fetch(api + "/v1/push/vapid-public-key").then(function (r) { return r.json(); }).then(function (found) {
          return registration.pushManager.getSubscription().then(function (existing) {
            return existing || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(found.publicKey) });
          });
        });
      }).then(function (subscription) {
        return send("POST", o.key, {
          kind: "webpush", subscription: subscription.toJSON(), userId: o.userId || undefined,
          anonymousId: o.anonymousId || undefined, consent: true
        }).then(function () { return subscription; });
      });
    },
    unsubscribe: function (given) {
      var o = options(given);
      if (!supported()) return Promise.resolve(false);
      return n.serviceWorker.getRegistration(o.worker).then(function (registration) {
        return registration ? registration.pushManager.getSubscription() : null;
      }).then(function (subscription) {
        if (!subscription) return false;
        return send("DELETE", o.key, { kind: "webpush", subscription: subscription.toJSON() }).then(function () {
          return subscription.unsubscribe();
        });
      });
    }
  };
})(window, document, navigator);
