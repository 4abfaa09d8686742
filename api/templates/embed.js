// Overstap Agenda widget: <script src=".../embed.js" data-region="twente" data-sector="po"></script>
// renders the list into the host page inside a custom element with a shadow root, so the
// host's styles and the widget's styles do not mix. Data comes from /api/events (CORS on).
(function () {
  "use strict";
  var STRINGS = {{ strings | safe }};
  var script = document.currentScript;
  var BASE = script && script.src ? new URL(script.src, location.href).origin : "";
  var CSS = [
    ":host{display:block;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1b1b1b;line-height:1.45}",
    ".box{border:1px solid #c9d2dc;border-radius:6px;padding:.75rem 1rem;background:#fff}",
    "h2{font-size:1.1rem;margin:0 0 .5rem;color:#0b5394}",
    "ul{list-style:none;margin:0;padding:0}",
    "li{padding:.45rem 0;border-top:1px solid #e3e8ee}",
    "li:first-child{border-top:0}",
    ".when{display:block;font-size:.88rem;color:#4a4a4a}",
    "a{color:#0b5394;font-weight:600}",
    "a:focus-visible{outline:3px solid #b45309;outline-offset:2px}",
    ".more{display:block;margin-top:.5rem;font-size:.9rem}",
    ".cancelled a{text-decoration:line-through}"
  ].join("\n");

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
      this.box.className = "box";
      root.appendChild(this.box);
      this.load();
    }

    load() {
      var lang = this.getAttribute("lang") === "en" ? "en" : "nl";
      var base = this.getAttribute("api") || BASE;
      var limit = Math.max(1, Math.min(parseInt(this.getAttribute("limit") || "10", 10) || 10, 50));
      var region = this.getAttribute("region") || "";
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
    ["region", "sector", "type", "limit", "lang", "heading"].forEach(function (name) {
      if (script.dataset[name]) { el.setAttribute(name, script.dataset[name]); }
    });
    el.setAttribute("api", BASE);
    script.insertAdjacentElement("afterend", el);
  }
})();
