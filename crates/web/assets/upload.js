// Drag and drop for file fields marked data-drop="<hint>": files dropped anywhere on the
// field's form go into the field, and a form marked data-drop-submit is sent at once.
// Without JavaScript (and with the keyboard) the field works as it is; the hint text comes
// from the page, in the user's language.
(function () {
  "use strict";
  if (!window.DataTransfer) {
    return;
  }
  function hasFiles(ev) {
    var types = ev.dataTransfer && ev.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
  }
  function enhance(input) {
    var form = input.form;
    if (!form || form.hasAttribute("data-drop-ready")) {
      return;
    }
    form.setAttribute("data-drop-ready", "");
    var hint = document.createElement("p");
    hint.className = "drop-hint";
    // The field itself is what keyboard and screen-reader users work with.
    hint.setAttribute("aria-hidden", "true");
    hint.textContent = input.getAttribute("data-drop");
    input.insertAdjacentElement("afterend", hint);
    var depth = 0;
    form.addEventListener("dragenter", function (ev) {
      if (!hasFiles(ev)) return;
      ev.preventDefault();
      depth += 1;
      form.classList.add("dragging");
    });
    form.addEventListener("dragover", function (ev) {
      if (hasFiles(ev)) ev.preventDefault();
    });
    form.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (depth === 0) form.classList.remove("dragging");
    });
    form.addEventListener("drop", function (ev) {
      if (!hasFiles(ev)) return;
      ev.preventDefault();
      depth = 0;
      form.classList.remove("dragging");
      var picked = new DataTransfer();
      var dropped = ev.dataTransfer.files;
      for (var i = 0; i < dropped.length; i += 1) {
        picked.items.add(dropped[i]);
        if (!input.multiple) break;
      }
      if (picked.files.length === 0) return;
      input.files = picked.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      if (form.hasAttribute("data-drop-submit")) {
        if (form.requestSubmit) form.requestSubmit();
        else form.submit();
      }
    });
  }
  function start(root) {
    (root || document).querySelectorAll("input[type=file][data-drop]").forEach(enhance);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(); });
  } else {
    start();
  }
  document.addEventListener("htmx:load", function (ev) { start(ev.target); });
})();
