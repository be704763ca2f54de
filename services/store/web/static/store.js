// Progressive enhancements for the store UI (every page works without them, except upload progress).
(function () {
  "use strict";

  // Label chips on a document page: show only the segments of one label (aria-pressed tells which).
  document.querySelectorAll("[data-filter-target]").forEach(function (bar) {
    var list = document.querySelector(bar.getAttribute("data-filter-target"));
    if (!list) return;
    bar.addEventListener("click", function (ev) {
      var chip = ev.target.closest("button[data-label]");
      if (!chip) return;
      var wanted = chip.getAttribute("data-label");
      bar.querySelectorAll("button[data-label]").forEach(function (b) {
        var on = b === chip;
        b.classList.toggle("active", on);
        b.setAttribute("aria-pressed", on ? "true" : "false");
      });
      if (wanted === "other") setOther(bar, list, true);
      list.querySelectorAll("li[data-label]").forEach(function (li) {
        li.hidden = wanted !== "" && li.getAttribute("data-label") !== wanted;
      });
    });
  });

  function setOther(bar, list, show) {
    list.classList.toggle("hide-other", !show);
    var t = bar.querySelector("[data-toggle-other]");
    if (t) t.setAttribute("aria-pressed", show ? "true" : "false");
  }

  // «Vis annet» on a document page: toggle in place (the link reloads with ?annet=vis without script).
  document.querySelectorAll("[data-toggle-other]").forEach(function (t) {
    var list = document.querySelector(t.getAttribute("data-toggle-other"));
    if (!list) return;
    function toggle(ev) {
      ev.preventDefault();
      setOther(t.parentNode, list, list.classList.contains("hide-other"));
    }
    t.addEventListener("click", toggle);
    t.addEventListener("keydown", function (ev) { if (ev.key === " ") toggle(ev); });
  });
  // Links styled as toggle buttons also answer the space bar.
  document.querySelectorAll("a[role=button]:not([data-toggle-other])").forEach(function (a) {
    a.addEventListener("keydown", function (ev) { if (ev.key === " ") { ev.preventDefault(); a.click(); } });
  });

  // Copy a ready citation («Avsender, tittel, dato, s. N»).
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("button.copy-cite");
    if (!btn) return;
    var text = btn.getAttribute("data-citation") || "";
    var status = btn.parentNode.querySelector(".copy-status");
    function done(ok) {
      if (status) status.textContent = ok ? "Kopiert: " + text : "Kunne ikke kopiere. Merk teksten: " + text;
      setTimeout(function () { if (status) status.textContent = ""; }, 6000);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallbackCopy(text)); });
    } else {
      done(fallbackCopy(text));
    }
  });

  function fallbackCopy(text) {
    var ta = document.createElement("textarea");
    ta.value = text; ta.setAttribute("readonly", ""); ta.style.position = "fixed"; ta.style.top = "-1000px";
    document.body.appendChild(ta); ta.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }

  // Pages with documents still in progress reload themselves, unless the user is typing.
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (seconds > 0) {
    setTimeout(function reload() {
      var el = document.activeElement;
      if (el && (el.tagName === "INPUT" || el.tagName === "SELECT")) { setTimeout(reload, seconds * 1000); return; }
      window.location.reload();
    }, seconds * 1000);
  }

  // ------------------------------------------------------------------ upload page
  var form = document.getElementById("upload-form");
  if (!form) return;
  var STATUS = { received: "mottatt", extracted: "trukket ut", classified: "klassifisert", failed: "feilet" };
  var ERRORS = {
    empty_file: "Filen er tom.",
    unsupported_type: "Filtypen støttes ikke. Last opp PDF eller Word (.docx).",
    too_large: "Filen er for stor.",
    missing_file: "Ingen fil kom med i opplastingen.",
    multiple_files: "Send én fil per opplasting.",
    malformed_multipart: "Opplastingen var ikke riktig formatert.",
    truncated_body: "Opplastingen ble avbrutt før hele filen kom fram.",
    invalid_request: "Opplastingen ble avvist som ugyldig.",
    client_disconnected: "Forbindelsen ble brutt under opplastingen.",
    broker_unavailable: "Køen er midlertidig utilgjengelig. Prøv igjen om litt.",
    blob_store_unavailable: "Fillageret er midlertidig utilgjengelig. Prøv igjen om litt.",
    ingest_unavailable: "Mottakstjenesten svarer ikke. Prøv igjen om litt.",
    unauthorized: "Du er ikke logget inn. Last siden på nytt og logg inn.",
    forbidden: "Tilgang nektet.",
    too_many_attempts: "For mange forsøk. Vent litt og prøv igjen."
  };
  var url = form.getAttribute("data-upload-url");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes") || "0", 10);
  var input = document.getElementById("file-input");
  var zone = document.getElementById("dropzone");
  var listEl = document.getElementById("upload-list");
  var summary = document.getElementById("upload-summary");
  var counts = { total: 0, done: 0, failed: 0 };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function size(n) { return n < 1e6 ? (n / 1e3).toFixed(1).replace(".", ",") + " kB" : (n / 1e6).toFixed(1).replace(".", ",") + " MB"; }
  function updateSummary() {
    summary.textContent = counts.total + (counts.total === 1 ? " fil" : " filer") + ": " + counts.done + " ferdig, " +
      counts.failed + " avvist eller feilet, " + (counts.total - counts.done - counts.failed) + " i arbeid.";
  }

  function upload(file) {
    counts.total += 1; updateSummary();
    var li = el("li", "upload-item");
    var name = el("span", "upload-name", file.name);
    var bar = el("progress", "upload-bar"); bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", "Opplasting av " + file.name);
    var msg = el("span", "upload-msg", "Laster opp …");
    li.appendChild(name); li.appendChild(el("span", "muted", " (" + size(file.size) + ")"));
    li.appendChild(bar); li.appendChild(msg);
    listEl.appendChild(li);
    function fail(text) {
      li.classList.add("is-failed"); msg.textContent = "Avvist: " + text; counts.failed += 1; updateSummary();
    }
    if (maxBytes && file.size > maxBytes) { bar.value = 0; fail(ERRORS.too_large + " Grensen er " + size(maxBytes) + "."); return; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "json";
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
    xhr.onerror = function () { fail("Nettverksfeil. Prøv igjen."); };
    xhr.onload = function () {
      var body = xhr.response || {};
      if (xhr.status === 200 || xhr.status === 202) {
        bar.value = 100;
        var link = el("a", "upload-doc", file.name);
        link.href = "/ui/documents/" + encodeURIComponent(body.document_id);
        name.textContent = ""; name.appendChild(link);
        msg.textContent = body.duplicate ? "Allerede mottatt tidligere (duplikat) – samme brev som før." : "Mottatt, venter på behandling …";
        if (body.duplicate) li.classList.add("is-duplicate");
        poll(body.document_id, li, msg, !!body.duplicate);
      } else {
        fail(ERRORS[body.error] || ("Feil " + xhr.status + (body.detail ? ": " + body.detail : "")));
      }
    };
    var data = new FormData();
    data.append("file", file, file.name);
    xhr.send(data);
  }

  function poll(id, li, msg, duplicate) {
    var tries = 0;
    function tick() {
      tries += 1;
      fetch("/documents/" + encodeURIComponent(id), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          var st = d && d.status;
          if (st === "classified") {
            li.classList.add("is-done");
            msg.textContent = (duplicate ? "Duplikat – " : "") + "klassifisert: " + d.counts.classified + " segmenter.";
            li.setAttribute("data-status", "classified");
            counts.done += 1; updateSummary(); refreshRecent(); return;
          }
          if (st === "failed") {
            li.classList.add("is-failed");
            msg.textContent = "Feilet" + (d.error ? " (" + (d.error.code || "") + "): " + (d.error.message || "") : ".");
            li.setAttribute("data-status", "failed");
            counts.failed += 1; updateSummary(); refreshRecent(); return;
          }
          if (st) msg.textContent = (duplicate ? "Duplikat – " : "") + "status: " + (STATUS[st] || st) + " …";
          if (tries < 400) setTimeout(tick, tries < 20 ? 1000 : 3000);
        })
        .catch(function () { if (tries < 400) setTimeout(tick, 3000); });
    }
    tick();
  }

  function refreshRecent() {
    var box = document.getElementById("recent");
    if (!box) return;
    fetch(box.getAttribute("data-recent-url"), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (page) {
        if (!page) return;
        box.textContent = "";
        if (!page.items.length) { box.appendChild(el("p", "muted", "Ingen brev ennå.")); return; }
        var ul = el("ul", "recent-list");
        page.items.forEach(function (d) {
          var li = el("li");
          var a = el("a", "", d.metadata.title || d.filename || d.id);
          a.href = "/ui/documents/" + encodeURIComponent(d.id);
          li.appendChild(a);
          li.appendChild(el("span", "muted", " – " + (d.metadata.sender || "ukjent avsender") + " "));
          li.appendChild(el("span", "status status-" + d.status, STATUS[d.status] || d.status));
          ul.appendChild(li);
        });
        box.appendChild(ul);
        var busy = page.items.some(function (d) { return d.status === "received" || d.status === "extracted"; });
        if (busy) setTimeout(refreshRecent, 3000);
      })
      .catch(function () { /* keep the last list */ });
  }
  refreshRecent();

  function take(files) { Array.prototype.forEach.call(files, upload); refreshRecent(); }
  form.addEventListener("submit", function (ev) { ev.preventDefault(); take(input.files); });
  input.addEventListener("change", function () { take(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (t) {
    zone.addEventListener(t, function (ev) { ev.preventDefault(); zone.classList.add("drag"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    zone.addEventListener(t, function (ev) { ev.preventDefault(); zone.classList.remove("drag"); });
  });
  zone.addEventListener("drop", function (ev) { if (ev.dataTransfer && ev.dataTransfer.files) take(ev.dataTransfer.files); });
})();
