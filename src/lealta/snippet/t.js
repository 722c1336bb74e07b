/*! lealta.js: first-party tracking for Lealta (Apache-2.0). No dependencies. */
(function (w, d, n) {
  "use strict";
  var CONFIG = {} /* lealta:defaults */;
  var AID = "lealta_aid", UID = "lealta_uid", CONSENT = "lealta_consent", YEAR = 31536000;
  var SENSITIVE = /pass|card|cc-?(num|exp|csc)|cvc|cvv|iban|ssn|secret|token/i;
  var TRAITS = /^(e-?mail|phone|name|(first|last)_?name|company|city|country)$/i;
  var UTM = { source: "source", medium: "medium", campaign: "name", term: "term", content: "content" };
  var el = d.currentScript || d.querySelector("script[data-key][src*='t.js']");
  if (!el || (w.lealta && w.lealta.version)) return;
  var attr = function (name) { return el.getAttribute("data-" + name); };
  var key = attr("key"), api = (attr("api") || new URL(el.src, location.href).origin).replace(/\/$/, "");
  var requireConsent = attr("require-consent") === "true";
  var dntAttr = attr("respect-dnt"), respectDnt = dntAttr ? dntAttr === "true" : CONFIG.respectDnt !== false;
  var doNotTrack = n.doNotTrack === "1" || w.doNotTrack === "1" || n.globalPrivacyControl === true;
  var off = !key || (respectDnt && doNotTrack);
  var outbox = [], waiting = [], timer = null;

  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function cookie(name) {
    var m = d.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : null;
  }
  function setCookie(name, value, maxAge) {
    var domain = attr("cookie-domain");
    d.cookie = name + "=" + encodeURIComponent(value) + "; Max-Age=" + maxAge + "; Path=/; SameSite=Lax" +
      (domain ? "; Domain=" + domain : "") + (location.protocol === "https:" ? "; Secure" : "");
  }
  function stored(name) {
    try { return cookie(name) || localStorage.getItem(name); } catch (e) { return cookie(name); }
  }
  function consent() { return cookie(CONSENT); } // "granted", "denied" or null
  function mayStore() { return consent() === "granted" || (!requireConsent && consent() !== "denied"); }
  function persist() {
    if (!mayStore()) return;
    setCookie(AID, state.aid, YEAR);
    try {
      localStorage.setItem(AID, state.aid);
      if (state.uid) localStorage.setItem(UID, state.uid); else localStorage.removeItem(UID);
    } catch (e) { /* storage disabled: the cookie is enough */ }
  }
  function forget() {
    setCookie(AID, "", 0);
    try { localStorage.removeItem(AID); localStorage.removeItem(UID); } catch (e) { /* nothing stored */ }
  }
  var state = { aid: stored(AID) || uuid(), uid: stored(UID) };

  function pageInfo() {
    return { path: location.pathname, url: location.href, title: d.title, referrer: d.referrer, search: location.search };
  }
  function context() {
    var ctx = { page: pageInfo(), userAgent: n.userAgent, locale: n.language, library: { name: "lealta.js", version: CONFIG.version } };
    var q = new URLSearchParams(location.search), campaign = {}, any = false;
    for (var k in UTM) if (q.get("utm_" + k)) { campaign[UTM[k]] = q.get("utm_" + k); any = true; }
    if (any) ctx.campaign = campaign;
    return ctx;
  }
  function message(type, fields) {
    var m = { type: type, messageId: uuid(), timestamp: new Date().toISOString(), anonymousId: state.aid, context: context() };
    if (state.uid) m.userId = state.uid;
    for (var f in fields) if (fields[f] !== undefined) m[f] = fields[f];
    return m;
  }
  function enqueue(m) {
    if (off || consent() === "denied") return;
    if (requireConsent && consent() !== "granted") { waiting.push(m); return; }
    outbox.push(m);
    if (outbox.length >= 20) flush(); else if (!timer) timer = setTimeout(flush, 200);
  }
  function flush(beacon) {
    clearTimeout(timer); timer = null;
    if (!outbox.length) return;
    var batch = outbox.splice(0, 20);
    var body = JSON.stringify({ batch: batch, writeKey: key, sentAt: new Date().toISOString() });
    var url = api + "/v1/batch";
    if (!(beacon && n.sendBeacon && n.sendBeacon(url, body))) {
      // text/plain keeps this a CORS "simple request": no preflight.
      fetch(url, { method: "POST", body: body, headers: { "Content-Type": "text/plain" }, keepalive: true, mode: "no-cors", credentials: "omit" })
        .catch(function () { if (!batch.retried) { batch.retried = true; outbox = batch.concat(outbox); timer = setTimeout(flush, 2000); } });
    }
    if (outbox.length) flush(beacon);
  }
  function plain(value) { return value && typeof value === "object" ? value : {}; }

  var lealta = {
    version: CONFIG.version,
    identify: function (userId, traits) {
      if (typeof userId === "object" && userId) { traits = userId; userId = null; }
      if (userId) { state.uid = String(userId); persist(); }
      enqueue(message("identify", { traits: plain(traits) }));
    },
    track: function (event, properties) { if (event) enqueue(message("track", { event: String(event), properties: plain(properties) })); },
    page: function (name, properties) {
      if (typeof name === "object") { properties = name; name = undefined; }
      var props = pageInfo(), extra = plain(properties);
      for (var k in extra) props[k] = extra[k];
      enqueue(message("page", { name: name || undefined, properties: props }));
    },
    consent: function (granted) {
      setCookie(CONSENT, granted ? "granted" : "denied", YEAR);
      var held = waiting; waiting = [];
      if (!granted) { outbox = []; forget(); return; }
      persist();
      held.forEach(enqueue);
    },
    reset: function () { state.aid = uuid(); state.uid = null; persist(); },
    anonymousId: function () { return state.aid; },
    flush: function () { flush(false); }
  };

  function fields(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (f) {
      var name = f.name, type = (f.type || "").toLowerCase();
      if (!name || name.charAt(0) === "_" || type === "password" || type === "file" || SENSITIVE.test(name)) return;
      if ((type === "checkbox" || type === "radio") && !f.checked) return;
      if (/submit|button|reset/.test(type)) return;
      out[name] = f.value;
    });
    return out;
  }
  d.addEventListener("click", function (e) {
    var t = e.target && e.target.closest && e.target.closest("[data-lealta-track]");
    if (!t) return;
    var props = {};
    Array.prototype.forEach.call(t.attributes, function (a) {
      if (a.name.indexOf("data-lealta-prop-") === 0) {
        props[a.name.slice(17).replace(/-/g, "_")] = /^-?\d+(\.\d+)?$/.test(a.value) ? Number(a.value) : a.value;
      }
    });
    lealta.track(t.getAttribute("data-lealta-track"), props);
  }, true);
  d.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form || form.tagName !== "FORM") return;
    if (/\/v1\/forms\//.test(form.action || "") && mayStore() && !off) {
      // Lealta's own form endpoint links the sign-up to this browser's history.
      var aid = form.querySelector("input[name=_aid]") || form.appendChild(d.createElement("input"));
      aid.type = "hidden"; aid.name = "_aid"; aid.value = state.aid;
    }
    if (!form.hasAttribute("data-lealta-form")) return;
    var values = fields(form), traits = {}, email = null;
    for (var k in values) {
      if (TRAITS.test(k)) traits[k.replace(/^e-?mail$/i, "email")] = values[k];
    }
    var typed = form.querySelector("input[type=email]");
    email = traits.email || (typed && typed.value);
    if (email) { traits.email = email; lealta.identify(traits); }
    values.form = form.getAttribute("data-lealta-form") || form.id || form.getAttribute("name") || "form";
    lealta.track("Form Submitted", values);
  }, true);
  function leave() { flush(true); }
  w.addEventListener("pagehide", leave);
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") leave(); });

  var early = w.lealta;
  w.lealta = lealta;
  if (off) return;
  persist();
  lealta.page();
  if (early && early.length) {
    for (var i = 0; i < early.length; i++) {
      var call = early[i];
      if (call && lealta[call[0]]) lealta[call[0]].apply(lealta, Array.prototype.slice.call(call, 1));
    }
  }
})(window, document, navigator);
