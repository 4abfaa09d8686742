// The results map: markers from the page's JSON; the list stays the primary content, and
// the map still shows its markers when the tile server cannot be reached.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var dataEl = document.getElementById("map-data");
  if (!el || !dataEl || typeof L === "undefined") { return; }
  var points = [];
  try { points = JSON.parse(dataEl.textContent || "[]"); } catch (e) { points = []; }
  var map = L.map(el, { scrollWheelZoom: false }).setView([52.2, 5.3], 7);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 18, attribution: el.getAttribute("data-attribution") || "" })
      .on("tileerror", function () {
        el.classList.add("tiles-failed");
        var note = document.getElementById("map-no-tiles");
        if (note) { note.hidden = false; }
      })
      .addTo(map);
  }
  var prefix = el.getAttribute("data-prefix") || "";
  var bounds = [];
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
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length === 1) { map.setView(bounds[0], 11); }
  else if (bounds.length > 1) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 12 }); }
  el.setAttribute("data-markers", String(bounds.length));
})();
