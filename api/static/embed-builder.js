// The embed builder (/embed): as options change, update both snippets, the preview iframe
// and the widget preview; copy buttons put a snippet on the clipboard. The snippets are
// the same text the server writes (api/embed_snippets.py); the browser tests compare them.
(function () {
  "use strict";
  var form = document.getElementById("embed-builder");
  if (!form) { return; }
  var BASE = form.getAttribute("data-base-url");
  var TITLE = form.getAttribute("data-frame-title");
  var DEFAULT_COLOR = "#0b5394", DEFAULT_BACKGROUND = "#ffffff", MIN_CONTRAST = 4.5;
  var FRAME_HEIGHT = 480;
  var frame = document.getElementById("preview-frame");
  var widgetBox = document.getElementById("widget-preview");
  var colorError = document.getElementById("e-color-live");
  var timer = null;

  function value(id) { var el = document.getElementById(id); return el ? el.value.trim() : ""; }

  function luminance(hex) {
    var out = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * out[0] + 0.7152 * out[1] + 0.0722 * out[2];
  }
  function contrast(a, b) {
    var x = luminance(a), y = luminance(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function readOptions() {
    var limit = parseInt(value("limit"), 10);
    return {
      region: value("region"), sector: value("sector"), type: value("type"),
      limit: limit >= 1 && limit <= 50 ? limit : 10,
      lang: value("taal") === "en" ? "en" : "nl",
      color: (value("color") || DEFAULT_COLOR).toLowerCase(),
      background: (value("background") || DEFAULT_BACKGROUND).toLowerCase(),
      compact: document.getElementById("compact").checked
    };
  }

  // the same order and rules as EmbedOptions.query() and .data_attributes()
  function query(o) {
    var q = [];
    ["region", "sector", "type"].forEach(function (n) { if (o[n]) { q.push([n, o[n]]); } });
    q.push(["limit", String(o.limit)]);
    if (o.lang !== "nl") { q.push(["lang", o.lang]); }
    if (o.color !== DEFAULT_COLOR) { q.push(["color", o.color.slice(1)]); }
    if (o.background !== DEFAULT_BACKGROUND) { q.push(["background", o.background.slice(1)]); }
    if (o.compact) { q.push(["compact", "1"]); }
    return q.map(function (p) { return p[0] + "=" + encodeURIComponent(p[1]); }).join("&");
  }
  function dataAttributes(o) {
    var a = [["region", o.region || "all"]];
    ["sector", "type"].forEach(function (n) { if (o[n]) { a.push([n, o[n]]); } });
    a.push(["limit", String(o.limit)]);
    if (o.lang !== "nl") { a.push(["lang", o.lang]); }
    if (o.color !== DEFAULT_COLOR) { a.push(["color", o.color]); }
    if (o.background !== DEFAULT_BACKGROUND) { a.push(["background", o.background]); }
    if (o.compact) { a.push(["compact", "1"]); }
    return a;
  }
  function scriptSnippet(o) {
    return '<script src="' + BASE + '/embed.js"' + dataAttributes(o).map(function (p) {
      return " data-" + p[0] + '="' + escapeHtml(p[1]) + '"';
    }).join("") + "></" + "script>";
  }
  function iframeSnippet(o) {
    var src = escapeHtml(BASE + "/embed/list?" + query(o));
    return '<iframe src="' + src + '" title="' + escapeHtml(TITLE) + '" style="width:100%;height:' +
      FRAME_HEIGHT + 'px;border:0" loading="lazy"></iframe>\n<script src="' + BASE +
      '/static/embed-resize.js" async></' + "script>";
  }

  function renderWidget(o) {
    var el = document.createElement("overstap-agenda");
    dataAttributes(o).forEach(function (p) {
      if (!(p[0] === "region" && p[1] === "all")) { el.setAttribute(p[0], p[1]); }
    });
    widgetBox.replaceChildren(el);
  }

  function setCopyEnabled(enabled) {
    document.querySelectorAll(".copy-button").forEach(function (b) { b.disabled = !enabled; });
  }

  function update() {
    var o = readOptions();
    var ratio = contrast(o.color, o.background);
    var colorInput = document.getElementById("color");
    if (ratio < MIN_CONTRAST) {
      colorError.textContent = form.getAttribute("data-contrast-error").replace("{ratio}", ratio.toFixed(1));
      colorError.hidden = false;
      colorInput.setAttribute("aria-invalid", "true");
      setCopyEnabled(false);
      return;
    }
    colorError.hidden = true;
    colorError.textContent = "";
    colorInput.removeAttribute("aria-invalid");
    setCopyEnabled(true);
    document.getElementById("snippet-script").value = scriptSnippet(o);
    document.getElementById("snippet-iframe").value = iframeSnippet(o);
    var src = "/embed/list?" + query(o);
    if (frame.getAttribute("src") !== src) { frame.setAttribute("src", src); }
    renderWidget(o);
    if (window.history && history.replaceState) {
      var params = new URLSearchParams(query(o));
      if (params.has("lang")) { params.set("taal", params.get("lang")); params.delete("lang"); }
      history.replaceState(null, "", location.pathname + "?" + params.toString());
    }
  }
  function later() { clearTimeout(timer); timer = setTimeout(update, 250); }

  form.addEventListener("change", update);
  form.addEventListener("input", later);
  form.addEventListener("submit", function (event) { event.preventDefault(); update(); });

  function copied(button, ok) {
    var status = document.getElementById(button.id + "-status");
    status.textContent = form.getAttribute(ok ? "data-copied" : "data-copy-failed");
    button.setAttribute("data-copied", ok ? "yes" : "no");
  }
  document.querySelectorAll(".copy-button").forEach(function (button) {
    button.addEventListener("click", function () {
      var area = document.getElementById(button.getAttribute("data-copy"));
      function fallback() {
        area.focus();
        area.select();
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        copied(button, ok);
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(area.value).then(function () { copied(button, true); }, fallback);
      } else {
        fallback();
      }
    });
  });
  update();
})();
