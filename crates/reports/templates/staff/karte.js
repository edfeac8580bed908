// Staff maps of the Mängelmelder: the mini map of one report and the map of open reports.
// Progressive: the coordinates and the list are on the page without this script.
(function () {
  'use strict';

  // Leaflet inserts the attribution as HTML: the configured text is escaped first.
  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function tiles(el, map) {
    // No "Leaflet" link in the attribution line (a link only told apart by its colour).
    map.attributionControl.setPrefix(false);
    var url = el.getAttribute('data-tiles');
    if (url) {
      L.tileLayer(url, { attribution: escapeHtml(el.getAttribute('data-attribution') || ''), maxZoom: 19 }).addTo(map);
    }
  }

  function popupLink(p) {
    var a = document.createElement('a');
    a.href = p.url;
    a.textContent = p.reference + ' – ' + p.category + ' (' + p.status + ', ' + p.moderation + ')';
    return a;
  }

  function one(el) {
    el.style.height = '18rem';
    var lat = parseFloat(el.getAttribute('data-lat'));
    var lon = parseFloat(el.getAttribute('data-lon'));
    var map = L.map(el, { scrollWheelZoom: false }).setView([lat, lon], 17);
    tiles(el, map);
    L.circleMarker([lat, lon], { radius: 9 }).addTo(map);
  }

  function all(el) {
    el.style.height = '30rem';
    var lat = parseFloat(el.getAttribute('data-lat'));
    var lon = parseFloat(el.getAttribute('data-lon'));
    var zoom = parseInt(el.getAttribute('data-zoom'), 10) || 14;
    var map = L.map(el).setView([lat, lon], zoom);
    tiles(el, map);
    var layer = L.geoJSON(null, {
      pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 7 }); },
      onEachFeature: function (f, l) { l.bindPopup(popupLink(f.properties)); }
    }).addTo(map);
    var base = el.getAttribute('data-geojson');
    function load() {
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (x) {
        return Math.max(-180, Math.min(180, x)).toFixed(6);
      }).join(',');
      fetch(base + (base.indexOf('?') < 0 ? '?' : '&') + 'bbox=' + bbox, { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data) { layer.clearLayers(); layer.addData(data); }
        })
        .catch(function () {});
    }
    map.on('moveend', load);
    load();
  }

  function init() {
    if (typeof L === 'undefined') return;
    var a = document.getElementById('report-map');
    if (a) one(a);
    var b = document.getElementById('reports-map');
    if (b) all(b);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
