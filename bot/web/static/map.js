// The incidents of the chosen period as points and clusters, coloured by category. The
// points come as GeoJSON from the server; without tiles the map keeps a plain background.
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var COLOURS = {
    theft: "#d62728", drugs: "#9467bd", gambling: "#8c564b", disorder: "#ff7f0e",
    traffic: "#1f77b4", fire: "#e41a1c", dispute: "#2ca02c", domestic_violence: "#e377c2",
    loan_shark: "#7f7f7f", online_fraud: "#17becf", suspicious: "#bcbd22",
    mass_complaint: "#393b79", social_evil: "#637939", other: "#444444"
  };
  var map = L.map(el, { maxZoom: 19 }).setView([10.95, 106.82], 13);
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
  }
  function colour(c) { return COLOURS[c] || "#444444"; }
  var clusters = L.markerClusterGroup({
    iconCreateFunction: function (cluster) {
      var counts = {};
      cluster.getAllChildMarkers().forEach(function (m) {
        counts[m.options.category] = (counts[m.options.category] || 0) + 1;
      });
      var top = Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; })[0];
      return L.divIcon({
        html: '<div class="cluster cat-' + (COLOURS[top] ? top : "other") + '">' + cluster.getChildCount() + "</div>",
        className: "cluster-icon", iconSize: [36, 36]
      });
    }
  });
  fetch(el.dataset.source, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
    var bounds = [];
    data.features.forEach(function (f) {
      var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      var p = f.properties;
      var marker = L.circleMarker(ll, { radius: 8, color: "#fff", weight: 2, fillColor: colour(p.category), fillOpacity: 0.9, category: p.category });
      var link = document.createElement("a");
      link.href = "/cases/i/" + p.id;
      link.textContent = p.code + " · " + p.category_label + " · " + p.hamlet;
      marker.bindPopup(link);
      clusters.addLayer(marker);
      bounds.push(ll);
    });
    map.addLayer(clusters);
    if (bounds.length) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 });
    el.dataset.points = String(bounds.length);
  });
})();
