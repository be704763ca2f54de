// Label corrections from the segment cards, and the keyboard of the review queue.
// Clicks: [data-set-label] sets a label, [data-undo] undoes. Keys (not while typing): 1-4 set the label of the
// current segment, j/k next/previous, u undo. On a letter, the current segment is the one focused or hovered.
(function () {
  "use strict";
  // The labels (in key order 1-4) and their Norwegian names come from the server (base.html), never a copy.
  var script = document.currentScript;
  var LABELS = ((script && script.getAttribute("data-labels")) || "").split(",").filter(Boolean);
  var NAMES = JSON.parse((script && script.getAttribute("data-label-names")) || "{}");

  function say(ctrl, text) {
    var s = ctrl.querySelector(".correct-status");
    if (s) s.textContent = text;
  }

  function show(ctrl, seg) {
    ctrl.setAttribute("data-label", seg.label);
    ctrl.classList.toggle("is-corrected", !!seg.corrected);
    ctrl.querySelectorAll("[data-set-label]").forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-set-label") === seg.label ? "true" : "false");
    });
    var undo = ctrl.querySelector("[data-undo]");
    if (undo) undo.hidden = !seg.corrected;
    var mark = ctrl.querySelector(".corrected-mark");
    if (mark) {
      mark.hidden = !seg.corrected;
      mark.textContent = "✎ Rettet" + (seg.corrected_by ? " av " + seg.corrected_by : "");
    }
    var said = ctrl.querySelector(".model-said");
    if (said) {
      said.hidden = !seg.corrected || seg.model_label === seg.label;
      said.textContent = "modellen sa " + (NAMES[seg.model_label] || seg.model_label);
    }
    var card = ctrl.closest(".segment");
    if (card) {
      LABELS.forEach(function (l) { card.classList.remove("seg-" + l); });
      card.classList.add("seg-" + seg.label);
      card.setAttribute("data-label", seg.label);
      card.classList.toggle("is-corrected", !!seg.corrected);
      var badge = card.querySelector(".seg-head .label");
      if (badge) { badge.className = "label label-" + seg.label; badge.textContent = NAMES[seg.label] || seg.label; }
    }
  }

  // One JSON request of a correction: resolves to the answer's body, or to null after telling (``tell``) why
  // it was not saved (``failed``: the words that lead the reason).
  function sendJson(method, url, data, tell, failed) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: data === undefined ? undefined : JSON.stringify(data)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.ok) return body;
        var d = body && body.detail;
        tell(failed + ": " + (typeof d === "string" ? d : r.status));
        return null;
      });
    }, function () { tell(failed + ": ingen forbindelse"); return null; });
  }

  function send(ctrl, label) {
    if (!ctrl) return Promise.resolve(null);
    var id = ctrl.getAttribute("data-segment-id");
    var url = "/segments/" + encodeURIComponent(id) + (label ? "" : "/correction");
    var tell = function (text) { say(ctrl, text); };
    tell("Lagrer …");
    return sendJson(label ? "PATCH" : "DELETE", url, label ? { label: label } : undefined, tell, "Ikke lagret")
      .then(function (body) {
        if (!body) return null;
        show(ctrl, body);
        tell(body.corrected ? "Lagret" : "Tilbake til modellens etikett");
        return body;
      });
  }

  // A quote taken out of a point on a theme page (POST /points/{id}/exclusions).
  function exclude(btn) {
    var item = btn.closest("li");
    var status = item && item.querySelector(".exclude-status");
    var tell = function (text) { if (status) status.textContent = text; };
    var url = "/points/" + encodeURIComponent(btn.getAttribute("data-point-id")) + "/exclusions";
    btn.disabled = true;
    tell("Lagrer …");
    sendJson("POST", url, { segment_id: btn.getAttribute("data-segment-id") }, tell, "Ikke lagret").then(function (body) {
      if (!body) { btn.disabled = false; return; }
      if (item) item.classList.add("is-excluded");
      btn.hidden = true;
      tell("Tatt ut av punktet. Antallet avsendere oppdateres når siden lastes på nytt.");
    });
  }

  // Points merged on a theme page (POST /points/{id}/merges): the others into the first one chosen.
  function chosenPoints() {
    return Array.prototype.slice.call(document.querySelectorAll(".merge-pick-box:checked")).map(function (b) {
      return b.value;
    });
  }

  function merge(btn) {
    var status = document.querySelector(".merge-status");
    var tell = function (text) { if (status) status.textContent = text; };
    var chosen = chosenPoints();
    if (chosen.length < 2) return;
    var into = chosen[0];
    var url = "/points/" + encodeURIComponent(into) + "/merges";
    btn.disabled = true;
    tell("Slår sammen …");
    var step = function (k) {
      if (k >= chosen.length) {
        tell("Slått sammen. Siden lastes på nytt …");
        window.location.hash = into;
        window.location.reload();
        return;
      }
      sendJson("POST", url, { point_id: chosen[k] }, tell, "Ikke slått sammen").then(function (body) {
        if (body) step(k + 1); else btn.disabled = false;
      });
    };
    step(1);
  }

  // A point named in the analyst's own words (PATCH /points/{id}); an empty name is the model's again.
  function nameOf(form, summary) {
    var item = form.closest("li.point");
    var status = form.querySelector(".name-status");
    var tell = function (text) { if (status) status.textContent = text; };
    var url = "/points/" + encodeURIComponent(form.getAttribute("data-point-id"));
    tell("Lagrer …");
    sendJson("PATCH", url, { summary: summary }, tell, "Ikke lagret").then(function (body) {
      if (!body) return;
      var named = body.name && body.name.summary;
      var shown = item && item.querySelector(".summary-text");
      if (shown && named) shown.textContent = named;
      tell(named ? "Navnet er lagret." : "Modellens navn er tilbake når siden lastes på nytt.");
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target.closest && ev.target.closest(".name-form");
    if (!form) return;
    ev.preventDefault();
    nameOf(form, form.querySelector("input[name=summary]").value);
  });

  document.addEventListener("change", function (ev) {
    if (!ev.target.classList || !ev.target.classList.contains("merge-pick-box")) return;
    var btn = document.querySelector(".merge-btn");
    var n = chosenPoints().length;
    if (btn) {
      btn.disabled = n < 2;
      btn.textContent = n < 2 ? "Slå sammen valgte punkter" : "Slå sammen " + n + " valgte punkter";
    }
  });

  document.addEventListener("click", function (ev) {
    var out = ev.target.closest(".exclude-btn");
    if (out) { exclude(out); return; }
    var join = ev.target.closest(".merge-btn");
    if (join) { merge(join); return; }
    var reset = ev.target.closest(".name-reset");
    if (reset) { nameOf(reset.closest(".name-form"), null); return; }
    var set = ev.target.closest("[data-set-label]");
    if (set) { send(set.closest(".correct"), set.getAttribute("data-set-label")); return; }
    var undo = ev.target.closest("[data-undo]");
    if (undo) send(undo.closest(".correct"), null);
  });

  var queue = document.querySelector("[data-review-queue]");
  var items = queue ? Array.prototype.slice.call(queue.querySelectorAll(".review-item")) : [];
  var pos = 0;
  var done = 0;
  var started = Date.now();
  var progress = document.querySelector(".review-progress");

  function focusItem(i) {
    if (!items.length) return;
    pos = Math.max(0, Math.min(items.length - 1, i));
    items.forEach(function (el, k) { el.classList.toggle("current", k === pos); });
    items[pos].focus({ preventScroll: true });
    items[pos].scrollIntoView({ block: "center" });
  }

  var hovered = null;
  document.addEventListener("mouseover", function (ev) {
    var seg = ev.target.closest && ev.target.closest(".segment");
    if (seg && seg.querySelector(".correct")) hovered = seg;
  });

  function current() {
    if (queue) return items[pos] || null;
    var a = document.activeElement;
    var seg = a && a.closest ? a.closest(".segment") : null;
    return seg || hovered;
  }

  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    var key = ev.key;
    if (queue && (key === "j" || key === "k")) {
      focusItem(pos + (key === "j" ? 1 : -1));
      ev.preventDefault();
      return;
    }
    var seg = current();
    var ctrl = seg ? seg.querySelector(".correct") : null;
    if (!ctrl) return;
    if (key >= "1" && key <= "4") {
      ev.preventDefault();
      send(ctrl, LABELS[parseInt(key, 10) - 1]).then(function (body) {
        if (!body || !queue) return;
        done += 1;
        if (progress) {
          var min = (Date.now() - started) / 60000;
          progress.textContent = done + " kontrollert" + (min > 0.05 ? " (" + Math.round(done / min) + " i minuttet)" : "");
        }
        focusItem(pos + 1);
      });
    } else if (key === "u") {
      ev.preventDefault();
      send(ctrl, null);
    }
  });

  // Segments on a letter can take the focus, so the keys work there too.
  document.querySelectorAll(".segment").forEach(function (el) {
    if (el.querySelector(".correct") && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
  });
  if (queue) focusItem(0);
})();
