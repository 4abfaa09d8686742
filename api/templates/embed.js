// Overstap Agenda widget: <script src=".../embed.js" data-region="twente" data-sector="po"></script>
// renders the list right after the script element (data-region="all": every region), inside
// a custom element with a shadow root, so the host's styles and the widget's styles do not
// mix. Data comes from /api/events (CORS on). Themes: data-color and data-background (hex),
// data-compact="1". Without data-region the script only defines <overstap-agenda> for pages
// that place the element themselves (data-auto of older snippets still renders).
(function () {
  "use strict";
  var STRINGS = {{ strings | safe }};
  var script = document.currentScript;
  var BASE = script && script.src ? new URL(script.src, location.href).origin : "";
  var CSS = [
    ":host{display:block;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;line-height:1.45}",
    ".box{border:1px solid #c9d2dc;border-radius:6px;padding:.75rem 1rem;background:var(--oa-bg,#fff);color:var(--oa-ink,#1b1b1b)}",
    "h2{font-size:1.1rem;margin:0 0 .5rem;color:var(--oa-accent,#0b5394)}",
    "ul{list-style:none;margin:0;padding:0}",
    "li{padding:.45rem 0;border-top:1px solid #e3e8ee}",
    "li:first-child{border-top:0}",
    ".when{display:block;font-size:.88rem;color:var(--oa-muted,#4a4a4a)}",
    "a{color:var(--oa-accent,#0b5394);font-weight:600}",
    "a:focus-visible{outline:3px solid #b45309;outline-offset:2px}",
    ".more{display:block;margin-top:.5rem;font-size:.9rem}",
    ".cancelled a{text-decoration:line-through}",
    ".compact .box,.box.compact{padding:.4rem .6rem;font-size:.92rem}",
    ".compact li{padding:.25rem 0}",
    ".compact .when{display:inline;margin-left:.4rem}"
  ].join("\n");
  var HEX = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i;

  function hex(value) {
    var m = HEX.exec((value || "").trim());
    if (!m) { return null; }
    var d = m[1].toLowerCase();
    if (d.length === 3) { d = d.split("").map(function (c) { return c + c; }).join(""); }
    return "#" + d;
  }
  function luminance(h) {
    var c = [1, 3, 5].map(function (i) {
      var v = parseInt(h.slice(i, i + 2), 16) / 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function contrast(a, b) {
    var x = luminance(a), y = luminance(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  // the theme as custom properties; a link colour without AA contrast keeps the default
  function theme(el) {
    var bg = hex(el.getAttribute("background")) || "#ffffff";
    var accent = hex(el.getAttribute("color")) || "#0b5394";
    var dark = contrast("#1b1b1b", bg) >= contrast("#ffffff", bg);
    if (contrast(accent, bg) < 4.5) { accent = dark ? "#0b5394" : "#ffffff"; }
    el.style.setProperty("--oa-bg", bg);
    el.style.setProperty("--oa-accent", accent);
    el.style.setProperty("--oa-ink", dark ? "#1b1b1b" : "#ffffff");
    el.style.setProperty("--oa-muted", dark ? "#4a4a4a" : "#e6e6e6");
  }

  function text(lang, key) { return (STRINGS[key] || {})[lang] || key; }

  function formatWhen(item, lang) {
    var locale = lang === "en" ? "en-GB" : "nl-NL";
    var dayOpts = { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "Europe/Amsterdam" };
    if (item.all_day) {
      return new Date(item.start + "T12:00:00Z").toLocaleDateString(locale, dayOpts);
    }
    var start = new Date(item.start);
    var out = start.toLocaleDateString(locale, dayOpts) + ", " +
      start.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Amsterdam" });
    if (item.end) {
      out += " – " + new Date(item.end).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Amsterdam" });
    }
    return out;
  }

  class OverstapAgenda extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) { return; }
      var root = this.attachShadow({ mode: "open" });
      var style = document.createElement("style");
      style.textContent = CSS;
      root.appendChild(style);
      this.box = document.createElement("section");
      this.box.className = "box" + (this.getAttribute("compact") === "1" ? " compact" : "");
      theme(this);
      root.appendChild(this.box);
      this.load();
    }

    load() {
      var lang = this.getAttribute("lang") === "en" ? "en" : "nl";
      var base = this.getAttribute("api") || BASE;
      var limit = Math.max(1, Math.min(parseInt(this.getAttribute("limit") || "10", 10) || 10, 50));
      var region = this.getAttribute("region") || "";
      if (region === "all") { region = ""; }
      var sector = this.getAttribute("sector") || "";
      var type = this.getAttribute("type") || "";
      var heading = document.createElement("h2");
      heading.textContent = this.getAttribute("heading") || text(lang, "embed_heading");
      var status = document.createElement("p");
      status.setAttribute("role", "status");
      status.textContent = text(lang, "embed_loading");
      this.box.replaceChildren(heading, status);
      var today = new Date().toISOString().slice(0, 10);
      var params = new URLSearchParams({ from: today, per_page: String(limit), sort: "date" });
      if (region) { params.set("region", region); }
      if (sector) { params.set("sector", sector); }
      if (type) { params.set("type", type); }
      var self = this;
      fetch(base + "/api/events?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (data) {
          var items = data.items;
          self.render(items, { lang: lang, base: base, region: region, sector: sector });
          self.setAttribute("data-count", String(items.length));
        })
        .catch(function () {
          status.textContent = text(lang, "embed_error");
          self.setAttribute("data-count", "error");
        });
    }

    render(items, opts) {
      var prefix = opts.base + (opts.lang === "en" ? "/en" : "");
      var nodes = [this.box.firstChild];
      if (!items.length) {
        var none = document.createElement("p");
        none.textContent = text(opts.lang, "embed_none");
        nodes.push(none);
      } else {
        var list = document.createElement("ul");
        items.forEach(function (item) {
          var li = document.createElement("li");
          if (item.status === "cancelled") { li.className = "cancelled"; }
          var a = document.createElement("a");
          a.href = prefix + "/events/" + encodeURIComponent(item.id);
          a.textContent = item.title;
          var when = document.createElement("span");
          when.className = "when";
          var place = item.attendance === "online" ? "Online" : ((item.location && (item.location.city || item.location.name)) || "");
          when.textContent = formatWhen(item, opts.lang) + (place ? " · " + place : "");
          li.append(a, when);
          list.appendChild(li);
        });
        nodes.push(list);
      }
      var more = document.createElement("a");
      more.className = "more";
      var query = new URLSearchParams();
      if (opts.region) { query.set("region", opts.region); }
      if (opts.sector) { query.set("sector", opts.sector); }
      more.href = prefix + "/" + (query.toString() ? "?" + query.toString() : "");
      more.textContent = text(opts.lang, "embed_more");
      nodes.push(more);
      this.box.replaceChildren.apply(this.box, nodes);
    }
  }

  if (!customElements.get("overstap-agenda")) {
    customElements.define("overstap-agenda", OverstapAgenda);
  }
  if (script && (script.dataset.region !== undefined || script.dataset.sector !== undefined || script.dataset.auto !== undefined)) {
    var el = document.createElement("overstap-agenda");
    ["region", "sector", "type", "limit", "lang", "heading", "color", "background", "compact"].forEach(function (name) {
      if (script.dataset[name]) { el.setAttribute(name, script.dataset[name]); }
    });
    el.setAttribute("api", BASE);
    script.insertAdjacentElement("afterend", el);
  }
})();
