// Live updates (rathaus_web::live): every element with data-live="<topic>" receives the
// htmx event "live:change" when the server announces a change of that topic, so an element
// with hx-get and hx-trigger="live:change" reloads itself. One EventSource per topic; the
// browser reconnects by itself after a drop. Without JavaScript nothing happens: the page
// shows what it showed when it was loaded.
(function () {
  "use strict";
  if (!window.EventSource || !window.htmx) {
    return;
  }
  function start() {
    var byTopic = {};
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var t = el.getAttribute("data-live");
      (byTopic[t] = byTopic[t] || []).push(el);
    });
    Object.keys(byTopic).forEach(function (topic) {
      var source = new EventSource("/live?topic=" + encodeURIComponent(topic));
      source.addEventListener("change", function (ev) {
        byTopic[topic].forEach(function (el) {
          window.htmx.trigger(el, "live:change", { id: ev.data });
        });
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
