/*! Lealta web push service worker (Apache-2.0): shows Lealta's notifications, opens their link. */
/* A site on another origin registers its own /lealta-sw.js containing one line:
 *   importScripts("https://LEALTA_HOST/sw.js");
 * The push payload (decrypted by the browser) is JSON:
 *   {title, body, icon, image, badge, tag, url, data}
 * `url` is a tracked link: opening it records the click. */
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function lealtaMessage(event) {
  if (!event.data) return {};
  try {
    var parsed = event.data.json();
    return parsed && typeof parsed === "object" ? parsed : { body: String(parsed) };
  } catch (e) {
    return { body: event.data.text() };
  }
}

function lealtaSafeUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    var parsed = new URL(url, self.location.href);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch (e) {
    return null;
  }
}

self.addEventListener("push", function (event) {
  var message = lealtaMessage(event);
  var options = {
    body: message.body ? String(message.body) : "",
    data: { lealta: true, url: lealtaSafeUrl(message.url), data: message.data || {} }
  };
  ["icon", "image", "badge", "tag"].forEach(function (name) {
    if (message[name]) options[name] = String(message[name]);
  });
  event.waitUntil(self.registration.showNotification(String(message.title || ""), options));
});

self.addEventListener("notificationclick", function (event) {
  var data = event.notification.data || {};
  if (!data.lealta) return;
  event.notification.close();
  if (data.url) event.waitUntil(self.clients.openWindow(data.url));
});
