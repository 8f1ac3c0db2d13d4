// A case's place on a small map.
(function () {
  var el = document.getElementById("pin");
  if (!el || !window.L) return;
  var ll = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
  var map = L.map(el, { maxZoom: 19 }).setView(ll, 16);
  if (el.dataset.tiles) L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
  L.circleMarker(ll, { radius: 9, color: "#fff", weight: 2, fillColor: "#d62728", fillOpacity: 0.9 }).addTo(map);
})();
