/*! lealta onsite.js: fills [data-lealta-slot] elements (Apache-2.0). */
(function (w, d) {
  "use strict";
  var el = d.currentScript || d.querySelector("script[src*='onsite.js']");
  if (!el || w.lealtaOnsite) return;
  var tracker = d.querySelector("script[data-key][src*='/t.js']"), FILLED = "data-lealta-filled";
  function attr(node, names) {
    for (var i = 0; node && i < names.length; i++) { var v = node.getAttribute(names[i]); if (v) return v; }
    return null;
  }
  var key = attr(el, ["data-key", "data-lealta-key"]) || attr(tracker, ["data-key"]);
  var api = (attr(el, ["data-api", "data-lealta-host"]) || attr(tracker, ["data-api"]) ||
    new URL(el.src, location.href).origin).replace(/\/$/, "");

  function cookie(name) {
    var m = d.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : null;
  }
  function stored(name) {
    try { return cookie(name) || localStorage.getItem(name); } catch (e) { return cookie(name); }
  }
  function each(l, f) { Array.prototype.forEach.call(l, f); }
  function report(url) {
    // text/plain: a CORS "simple request", no preflight
    fetch(url, { method: "POST", body: JSON.stringify({ writeKey: key, url: location.href }),
      headers: { "Content-Type": "text/plain" }, keepalive: true, mode: "no-cors", credentials: "omit" })
      .catch(function () {});
  }
  function watch(node, url) {
    if (!w.IntersectionObserver) return report(url);
    var seen = new IntersectionObserver(function (es) {
      if (es.some(function (e) { return e.isIntersecting; })) { seen.disconnect(); report(url); }
    }, { threshold: 0.5 });
    seen.observe(node);
  }
  function fill(nodes, slot) {
    nodes.forEach(function (node, i) {
      // inside the slot only; scripts never run
      var t = d.createElement("template");
      t.innerHTML = slot.html;
      each(t.content.querySelectorAll("script"), function (s) { s.remove(); });
      node.textContent = "";
      node.appendChild(t.content);
      node.setAttribute(FILLED, slot.placement || "message:" + slot.message);
      node.dispatchEvent(new CustomEvent("lealta:slot", { bubbles: true, detail: slot }));
      if (!i && slot.impression_url) watch(node, slot.impression_url);
    });
  }
  function load() {
    var by = {};
    each(d.querySelectorAll("[data-lealta-slot]:not([" + FILLED + "])"), function (node) {
      var name = node.getAttribute("data-lealta-slot");
      if (name) { node.setAttribute(FILLED, "pending"); (by[name] = by[name] || []).push(node); }
    });
    var names = Object.keys(by);
    if (!names.length || !key) return Promise.resolve({});
    var q = new URLSearchParams({ slots: names.join(","), writeKey: key, url: location.href });
    // only ids the tracker stored (none without consent)
    if (cookie("lealta_consent") !== "denied") {
      [["anonymousId", "aid"], ["userId", "uid"]].forEach(function (p) { var v = stored("lealta_" + p[1]); if (v) q.set(p[0], v); });
    }
    return fetch(api + "/v1/onsite/slots?" + q, { credentials: "omit" })
      .then(function (r) { if (!r.ok) throw r.status; return r.json(); })
      .then(function (answer) {
        names.forEach(function (name) {
          var slot = answer.slots[name];
          slot ? fill(by[name], slot) : by[name].forEach(function (n) { n.setAttribute(FILLED, "none"); });
        });
        return answer.slots;
      }, function () {
        each(d.querySelectorAll("[" + FILLED + "=pending]"), function (n) { n.removeAttribute(FILLED); });
        return {};
      });
  }

  var started = false;
  function start() { if (!started) { started = true; load(); } }
  function ready() {
    // the tracker sets the id on a first visit: let it run first
    if (tracker && !(w.lealta && w.lealta.version) && d.readyState !== "complete") {
      tracker.addEventListener("load", start);
      w.addEventListener("load", start);
    } else start();
  }
  w.lealtaOnsite = { load: load };
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", ready); else ready();
})(window, document);
