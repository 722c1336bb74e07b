// The template editor: language tabs, problems that jump to their line, and the preview frame
// following the details the live preview (htmx) brings. Without this file every language
// shows at once and "Refresh preview" posts the draft straight into the frame.
(function () {
  "use strict";

  function tabs() {
    var list = document.querySelector(".lang-tabs");
    if (!list) return;
    var buttons = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
    function show(chosen) {
      buttons.forEach(function (b) {
        var on = b === chosen;
        b.setAttribute("aria-selected", on ? "true" : "false");
        b.tabIndex = on ? 0 : -1;
        document.getElementById(b.getAttribute("aria-controls")).hidden = !on;
      });
    }
    buttons.forEach(function (b, i) {
      b.addEventListener("click", function () { show(b); });
      b.addEventListener("keydown", function (e) {
        var step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        var next = buttons[(i + step + buttons.length) % buttons.length];
        show(next);
        next.focus();
        e.preventDefault();
      });
    });
    list.hidden = false;
    show(list.querySelector(".has-problems") || buttons[0]);
  }

  function reveal(field) {
    var panel = field.closest("[role=tabpanel]");
    if (panel && panel.hidden) {
      var tab = document.getElementById(panel.getAttribute("aria-labelledby"));
      if (tab) tab.click();
    }
  }

  function goToLine(field, line) {
    reveal(field);
    field.focus();
    if (!line || typeof field.setSelectionRange !== "function") return;
    var lines = field.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    var end = start + (lines[line - 1] || "").length;
    field.setSelectionRange(start, end);
    var height = field.scrollHeight / Math.max(lines.length, 1);
    field.scrollTop = Math.max(0, (line - 3) * height);
  }

  function problems() {
    document.addEventListener("click", function (e) {
      var link = e.target.closest ? e.target.closest("a.goto") : null;
      if (!link) return;
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      e.preventDefault();
      goToLine(field, parseInt(link.getAttribute("data-line"), 10) || 0);
    });
  }

  function frame() {
    var editor = document.getElementById("editor");
    var submit = document.getElementById("frame-submit");
    if (!editor || !submit || !document.getElementById("preview-frame")) return;
    document.body.addEventListener("htmx:afterSwap", function (e) {
      if (e.detail && e.detail.target && e.detail.target.id === "preview-details") {
        editor.requestSubmit(submit);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tabs();
    problems();
    frame();
  });
})();
