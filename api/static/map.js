// The results map: markers from the page's JSON, Dutch or English control labels. The
// list stays the primary content; when the tile server cannot be reached (or none is
// set) the map hides itself and a note says why, instead of showing an empty grey box.
// Leaflet loads only after the page has loaded and when the map comes near the screen (on
// a phone it is below the results), so it costs the first screen nothing.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var dataEl = document.getElementById("map-data");
  if (!el || !dataEl) { return; }
  var started = false;
  // Leaflet's stylesheet and script come together, after the page has loaded: neither
  // blocks the first paint, and the page's own work comes first.
  var load = function () {
    if (started) { return; }
    started = true;
    var waiting = 2;
    var ready = function () { waiting -= 1; if (waiting === 0) { draw(); } };
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = el.getAttribute("data-leaflet-css") || "/static/vendor/leaflet/leaflet.css";
    css.onload = ready;
    css.onerror = ready;
    // before the site's stylesheet, whose corrections of Leaflet's styles must win
    document.head.insertBefore(css, document.querySelector("link[rel=stylesheet]"));
    if (typeof L !== "undefined") { ready(); return; }
    var script = document.createElement("script");
    script.src = el.getAttribute("data-leaflet") || "/static/vendor/leaflet/leaflet.js";
    script.onload = ready;
    document.body.appendChild(script);
  };
  var watch = function () {
    if (!("IntersectionObserver" in window)) { load(); return; }
    var watcher = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) {
        watcher.disconnect();
        load();
      }
    }, { rootMargin: "400px" });
    watcher.observe(el);
  };
  if (document.readyState === "complete") { watch(); }
  else { window.addEventListener("load", watch); }

  function draw() {
  var note = document.getElementById("map-no-tiles");
  var points = [];
  try { points = JSON.parse(dataEl.textContent || "[]"); } catch (e) { points = []; }
  var hide = function () {
    if (el.hidden) { return; }
    el.hidden = true;
    el.classList.add("tiles-failed");
    var hint = el.parentNode.querySelector(".map-hint");
    if (hint) { hint.hidden = true; }
    if (note) { note.hidden = false; }
  };
  el.setAttribute("role", "region");
  el.setAttribute("aria-label", el.getAttribute("data-label") || "Kaart");
  var map = L.map(el, { scrollWheelZoom: false, zoomControl: false });
  // the view first, then the tiles: no tiles of a whole-country view fetched in vain
  var bounds = points.map(function (p) { return [p.lat, p.lon]; });
  if (bounds.length === 1) { map.setView(bounds[0], 11); }
  else if (bounds.length > 1) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 12 }); }
  else { map.setView([52.2, 5.3], 7); }
  L.control.zoom({
    zoomInTitle: el.getAttribute("data-zoom-in") || "Inzoomen",
    zoomOutTitle: el.getAttribute("data-zoom-out") || "Uitzoomen"
  }).addTo(map);
  map.attributionControl.setPrefix(false);
  var tiles = el.getAttribute("data-tiles");
  var loaded = false;
  if (tiles) {
    L.tileLayer(tiles, {
      maxZoom: 18, detectRetina: true, attribution: el.getAttribute("data-attribution") || ""
    })
      .on("tileload", function () { loaded = true; })
      .on("tileerror", function () { if (!loaded) { hide(); } })
      .addTo(map);
  } else {
    hide();
  }
  var prefix = el.getAttribute("data-prefix") || "";
  points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lon], { radius: 7, color: "#0b5394", weight: 2, fillOpacity: 0.7 });
    var link = document.createElement("a");
    link.href = prefix + "/events/" + encodeURIComponent(p.id);
    link.textContent = p.title;
    var box = document.createElement("div");
    box.appendChild(link);
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(p.when));
    marker.bindPopup(box);
    marker.addTo(map);
  });
  el.setAttribute("data-markers", String(bounds.length));
  }
})();
