// Inside the iframe list: tell the embedding page how tall the list is, so its resize
// script (embed-resize.js) can size the iframe; answer when it asks again.
(function () {
  "use strict";
  if (window.parent === window) { return; }
  var last = 0;
  function height() {
    return Math.ceil(document.documentElement.getBoundingClientRect().height);
  }
  function send(force) {
    var h = height();
    if (!force && h === last) { return; }
    last = h;
    window.parent.postMessage({ type: "overstap-agenda:height", height: h }, "*");
  }
  window.addEventListener("message", function (event) {
    if (event.source === window.parent && event.data && event.data.type === "overstap-agenda:measure") {
      send(true);
    }
  });
  if (window.ResizeObserver) {
    new ResizeObserver(function () { send(false); }).observe(document.documentElement);
  }
  window.addEventListener("load", function () { send(true); });
  send(true);
})();
