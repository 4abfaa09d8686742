// On a regional site, next to the iframe snippet: give each Overstap Agenda iframe the
// height its list reports (postMessage from embed-list.js). Only messages from the
// agenda's own origin count, and only for an iframe that shows that origin's list.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var origin = new URL(script.src, location.href).origin;
  var flag = "__overstapAgendaResize_" + origin;
  if (window[flag]) { return; }
  window[flag] = true;
  var MAX = 20000;

  function ours() {
    var frames = document.getElementsByTagName("iframe");
    var out = [];
    for (var i = 0; i < frames.length; i++) {
      var src = frames[i].getAttribute("src") || "";
      try {
        var url = new URL(src, location.href);
        if (url.origin === origin && url.pathname.replace(/^\/en\//, "/").indexOf("/embed/list") === 0) {
          out.push(frames[i]);
        }
      } catch (e) { /* not a URL: not ours */ }
    }
    return out;
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !event.data || event.data.type !== "overstap-agenda:height") { return; }
    var h = Number(event.data.height);
    if (!(h > 0 && h <= MAX)) { return; }
    ours().forEach(function (frame) {
      if (frame.contentWindow === event.source) {
        frame.style.height = Math.ceil(h) + "px";
        frame.setAttribute("data-resized", String(Math.ceil(h)));
      }
    });
  });

  function ask() {
    // a list that loaded before this script (it is async) reports again when asked
    ours().forEach(function (frame) {
      if (frame.contentWindow) {
        frame.contentWindow.postMessage({ type: "overstap-agenda:measure" }, origin);
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ask);
  } else {
    ask();
  }
})();
