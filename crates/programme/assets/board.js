// The programme board (/programm): moving cards by keyboard (Alt+arrow keys, or "m" for a
// menu of phase and position) and by drag and drop; each move is posted to the card's move
// route, the result announced in the aria-live region, and the board reloaded (other boards
// reload through the live updates). Without JavaScript the card's page has a move form.
(function () {
  "use strict";
  var texts = document.getElementById("prog-texts");
  var board = document.getElementById("board");
  if (!texts || !board) {
    return;
  }
  var csrf = texts.getAttribute("data-csrf");
  var announce = document.getElementById("prog-announce");
  var dialog = document.getElementById("prog-move");
  var focusId = null;
  var current = null;

  function say(msg) {
    announce.textContent = "";
    window.setTimeout(function () { announce.textContent = msg; }, 50);
  }

  function cardOf(el) {
    return el && el.closest ? el.closest(".prog-card") : null;
  }

  function phases() {
    var seen = [];
    document.querySelectorAll("#board .prog-col").forEach(function (c) {
      var k = c.getAttribute("data-phase");
      if (seen.indexOf(k) < 0) { seen.push(k); }
    });
    return seen;
  }

  function cardsIn(phase) {
    var out = [];
    document.querySelectorAll('#board .prog-col[data-phase="' + phase + '"] .prog-card').forEach(function (c) { out.push(c); });
    return out;
  }

  function reload() {
    var url = document.getElementById("board-live").getAttribute("hx-get");
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: "#board", select: "#board", swap: "outerHTML" });
    }
  }

  function move(card, phase, beforeId) {
    var id = card.getAttribute("data-id");
    var body = new URLSearchParams();
    body.set("_csrf", csrf);
    body.set("phase", phase);
    body.set("version", card.getAttribute("data-v"));
    if (beforeId) { body.set("before_id", beforeId); }
    focusId = id;
    fetch("/programm/massnahmen/" + id + "/verschieben", {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf },
      body: body,
      credentials: "same-origin"
    }).then(function (r) {
      return r.json();
    }).then(function (a) {
      say(a.message);
      reload();
    }).catch(function () {
      say(texts.getAttribute("data-failed"));
      reload();
    });
  }

  function step(card, dPhase, dPos) {
    var col = card.closest(".prog-col");
    var phase = col.getAttribute("data-phase");
    var list = phases();
    if (dPhase !== 0) {
      var i = list.indexOf(phase) + dPhase;
      if (i < 0 || i >= list.length) { return; }
      move(card, list[i], null);
      return;
    }
    var cards = cardsIn(phase);
    var at = cards.indexOf(card);
    if (dPos < 0 && at > 0) {
      move(card, phase, cards[at - 1].getAttribute("data-id"));
    } else if (dPos > 0 && at < cards.length - 1) {
      var after = cards[at + 2];
      move(card, phase, after ? after.getAttribute("data-id") : null);
    }
  }

  function fillPositions(phase) {
    var sel = document.getElementById("prog-move-before");
    while (sel.options.length > 1) { sel.remove(1); }
    cardsIn(phase).forEach(function (c) {
      if (c === current) { return; }
      var o = document.createElement("option");
      o.value = c.getAttribute("data-id");
      o.textContent = texts.getAttribute("data-before") + " " + c.querySelector("a").textContent;
      sel.appendChild(o);
    });
  }

  function openMenu(card) {
    if (!dialog || !dialog.showModal) { return; }
    current = card;
    document.getElementById("prog-move-card").textContent = card.querySelector("a").textContent;
    var ph = document.getElementById("prog-move-phase");
    ph.value = card.closest(".prog-col").getAttribute("data-phase");
    fillPositions(ph.value);
    dialog.showModal();
    ph.focus();
  }

  if (dialog) {
    document.getElementById("prog-move-phase").addEventListener("change", function (e) {
      fillPositions(e.target.value);
    });
    dialog.addEventListener("close", function () {
      if (dialog.returnValue === "move" && current) {
        move(current, document.getElementById("prog-move-phase").value,
          document.getElementById("prog-move-before").value || null);
      } else if (current) {
        current.querySelector("a").focus();
      }
    });
  }

  document.addEventListener("keydown", function (e) {
    var card = cardOf(e.target);
    if (!card || !board.hasAttribute("data-edit")) { return; }
    if (e.altKey && e.key === "ArrowRight") { step(card, 1, 0); e.preventDefault(); }
    else if (e.altKey && e.key === "ArrowLeft") { step(card, -1, 0); e.preventDefault(); }
    else if (e.altKey && e.key === "ArrowUp") { step(card, 0, -1); e.preventDefault(); }
    else if (e.altKey && e.key === "ArrowDown") { step(card, 0, 1); e.preventDefault(); }
    else if (e.key === "m" && !e.altKey && !e.ctrlKey && !e.metaKey) { openMenu(card); e.preventDefault(); }
  });

  // Drag and drop: a card dropped on a column lands before the card under the pointer.
  var dragged = null;
  function wire() {
    var b = document.getElementById("board");
    if (!b || !b.hasAttribute("data-edit")) { return; }
    board = b;
    b.querySelectorAll(".prog-card").forEach(function (c) { c.setAttribute("draggable", "true"); });
  }
  document.addEventListener("dragstart", function (e) {
    dragged = cardOf(e.target);
    if (dragged) { dragged.classList.add("prog-drag"); e.dataTransfer.setData("text/plain", dragged.getAttribute("data-id")); }
  });
  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("prog-drag"); }
    document.querySelectorAll(".prog-over").forEach(function (c) { c.classList.remove("prog-over"); });
  });
  document.addEventListener("dragover", function (e) {
    var col = e.target.closest && e.target.closest(".prog-col");
    if (dragged && col) { e.preventDefault(); col.classList.add("prog-over"); }
  });
  document.addEventListener("dragleave", function (e) {
    var col = e.target.closest && e.target.closest(".prog-col");
    if (col) { col.classList.remove("prog-over"); }
  });
  document.addEventListener("drop", function (e) {
    var col = e.target.closest && e.target.closest(".prog-col");
    if (!dragged || !col) { return; }
    e.preventDefault();
    var target = cardOf(e.target);
    var before = target && target !== dragged ? target.getAttribute("data-id") : null;
    move(dragged, col.getAttribute("data-phase"), before);
  });

  // A reload (after a move here, or a live update from elsewhere) replaces the board: the
  // card that had the focus gets it back, so keyboard users keep their place.
  var restore = null;
  document.body.addEventListener("htmx:beforeSwap", function () {
    var c = cardOf(document.activeElement);
    restore = focusId || (c ? c.getAttribute("data-id") : null);
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    wire();
    if (restore) {
      var c = document.getElementById("k" + restore);
      if (c) { c.querySelector("a").focus(); }
    }
    restore = null;
    focusId = null;
  });
  wire();
})();
