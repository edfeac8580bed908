// Mängelmelder pages (crates/reports/templates/public): progressive enhancement only. Every
// page works without this script: the address field replaces the map, the list replaces the
// map of reports, the server shows reports nearby after the first submit.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// ---------------------------------------------------------------- elements for script users

for (const el of $$(".js-only:not([data-when-picked])")) el.hidden = false;

// ---------------------------------------------------------------- ALTCHA: same-origin worker

const widget = $("altcha-widget[data-worker]");
if (widget && globalThis.$altcha) {
  globalThis.$altcha.algorithms.set("SHA-256", () => new Worker(widget.dataset.worker));
}

// ---------------------------------------------------------------- map

function makeMap(el) {
  if (!globalThis.L || !el.dataset.tiles) return null;
  el.hidden = false;
  el.setAttribute("role", "region");
  el.setAttribute("aria-label", el.dataset.label || "Karte");
  L.Icon.Default.imagePath = "";
  L.Icon.Default.mergeOptions({
    iconUrl: el.dataset.markerIcon,
    iconRetinaUrl: el.dataset.markerIcon2x,
    shadowUrl: el.dataset.markerShadow,
  });
  const lat = parseFloat(el.dataset.lat) || 51.1657;
  const lon = parseFloat(el.dataset.lon) || 10.4515;
  const map = L.map(el, { center: [lat, lon], zoom: el.dataset.mode === "show" ? 17 : 14 });
  L.tileLayer(el.dataset.tiles, {
    maxZoom: 19,
    attribution: escapeHtml(el.dataset.attribution || ""),
  }).addTo(map);
  return map;
}

const mapEl = $("#report-map");
let map = null;
try {
  map = mapEl ? makeMap(mapEl) : null;
} catch (e) {
  // A broken map must not break the form: the address field still works.
  if (mapEl) mapEl.hidden = true;
  map = null;
}

// ---------------------------------------------------------------- the report form

const form = $("#report-form");
if (form) {
  const lat = $("#f-lat");
  const lon = $("#f-lon");
  const status = $("#location-status");
  const address = $("#f-address");
  const list = $("#address-suggestions");
  const category = $("#f-category");
  const nearby = $("#nearby");
  const known = new Map();
  let marker = null;

  const setMarker = (la, lo) => {
    if (!map) return;
    if (marker) marker.setLatLng([la, lo]);
    else marker = L.marker([la, lo], { keyboard: false, alt: "" }).addTo(map);
  };
  const clearMarker = () => {
    if (marker && map) map.removeLayer(marker);
    marker = null;
  };

  const checkNearby = debounce(async () => {
    if (!nearby || !category || !category.value) return;
    const q = new URLSearchParams({ teil: "1", category: category.value });
    if (lat.value && lon.value) {
      q.set("lat", lat.value);
      q.set("lon", lon.value);
    } else if (address && address.value.trim().length > 3) {
      q.set("address", address.value.trim());
    } else {
      return;
    }
    try {
      const res = await fetch(`${nearby.dataset.url}?${q}`, { headers: { Accept: "text/html" } });
      if (res.ok) nearby.innerHTML = await res.text();
    } catch (e) {
      /* offline: the server checks again on submit */
    }
  }, 300);

  const clearBox = $("[data-when-picked]");
  const showClear = () => {
    if (clearBox) clearBox.hidden = !(lat.value && lon.value);
  };
  showClear();

  const pick = (la, lo) => {
    lat.value = la.toFixed(6);
    lon.value = lo.toFixed(6);
    showClear();
    setMarker(la, lo);
    if (status && mapEl) status.textContent = `${mapEl.dataset.picked} ${lat.value}, ${lon.value}`;
    checkNearby();
  };

  if (map) {
    if (lat.value && lon.value) {
      const la = parseFloat(lat.value);
      const lo = parseFloat(lon.value);
      if (Number.isFinite(la) && Number.isFinite(lo)) {
        setMarker(la, lo);
        map.setView([la, lo], 17);
      }
    }
    map.on("click", (e) => pick(e.latlng.lat, e.latlng.lng));
    // Keyboard: the focused map is moved with the arrow keys; Enter picks its centre.
    map.getContainer().addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target === map.getContainer()) {
        e.preventDefault();
        const c = map.getCenter();
        pick(c.lat, c.lng);
      }
    });
  }

  const clear = $("#location-clear");
  if (clear) {
    clear.addEventListener("click", () => {
      lat.value = "";
      lon.value = "";
      clearMarker();
      showClear();
      if (status) status.textContent = "";
      if (address) address.focus();
    });
  }

  if (address && list) {
    const suggest = debounce(async () => {
      const text = address.value.trim();
      if (text.length < 2) return;
      try {
        const res = await fetch(`/maengel/adressen?q=${encodeURIComponent(text)}`);
        if (!res.ok) return;
        const found = await res.json();
        list.replaceChildren(
          ...found.map((a) => {
            known.set(a.label, a);
            const o = document.createElement("option");
            o.value = a.label;
            return o;
          }),
        );
      } catch (e) {
        /* no suggestions: the address is resolved on submit */
      }
    }, 200);
    address.addEventListener("input", () => {
      // The last choice wins: typing an address replaces a point picked on the map.
      if (lat.value || lon.value) {
        lat.value = "";
        lon.value = "";
        clearMarker();
        showClear();
        if (status) status.textContent = "";
      }
      suggest();
      const a = known.get(address.value);
      if (a && map) {
        setMarker(a.lat, a.lon);
        map.setView([a.lat, a.lon], 17);
      }
    });
    address.addEventListener("change", checkNearby);
  }

  const showAttributes = () => {
    const chosen = category ? category.value : "";
    for (const fs of $$("fieldset.attributes[data-category]")) {
      fs.hidden = fs.dataset.category !== chosen;
    }
  };
  if (category) {
    category.addEventListener("change", () => {
      showAttributes();
      checkNearby();
    });
    showAttributes();
  }

  const text = $("#f-description");
  const counter = $("#f-description-count");
  if (text && counter) {
    const max = text.dataset.max || "4000";
    const update = () => {
      counter.textContent = counter.dataset.template
        .replace("{n}", String(text.value.length))
        .replace("{max}", max);
    };
    text.addEventListener("input", update);
    update();
  }
}

// ---------------------------------------------------------------- one report

if (map && mapEl && mapEl.dataset.mode === "show") {
  L.marker([parseFloat(mapEl.dataset.lat), parseFloat(mapEl.dataset.lon)], { keyboard: false, alt: "" }).addTo(map);
}

// ---------------------------------------------------------------- the list's map

if (map && mapEl && mapEl.dataset.mode === "list") {
  const layer = L.layerGroup().addTo(map);
  const load = debounce(async () => {
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map((x, i) => Math.max(i % 2 ? -90 : -180, Math.min(i % 2 ? 90 : 180, x)).toFixed(5))
      .join(",");
    const filter = mapEl.dataset.filter ? `&${mapEl.dataset.filter}` : "";
    try {
      const res = await fetch(`${mapEl.dataset.geojson}?bbox=${bbox}${filter}`);
      if (!res.ok) return;
      const fc = await res.json();
      layer.clearLayers();
      for (const f of fc.features) {
        const [lo, la] = f.geometry.coordinates;
        const p = f.properties;
        const box = document.createElement("div");
        const a = document.createElement("a");
        a.href = p.url;
        a.textContent = p.reference;
        const info = document.createElement("p");
        info.textContent = `${p.category} · ${p.status_label} · ${p.created}`;
        box.append(a, info);
        L.marker([la, lo], { alt: `${p.reference}: ${p.category}`, title: p.reference })
          .bindPopup(box)
          .addTo(layer);
      }
    } catch (e) {
      /* the list below shows the same reports */
    }
  }, 250);
  map.on("moveend", load);
  load();
}
