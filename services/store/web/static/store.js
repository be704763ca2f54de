// Small progressive enhancements for the store UI. Everything works without it.
(function () {
  "use strict";

  // Label chips on a document page: show only the segments of one label.
  document.querySelectorAll("[data-filter-target]").forEach(function (bar) {
    var list = document.querySelector(bar.getAttribute("data-filter-target"));
    if (!list) return;
    bar.addEventListener("click", function (ev) {
      var chip = ev.target.closest("button[data-label]");
      if (!chip) return;
      var wanted = chip.getAttribute("data-label");
      bar.querySelectorAll("button").forEach(function (b) { b.classList.toggle("active", b === chip); });
      list.querySelectorAll("li[data-label]").forEach(function (li) {
        li.hidden = wanted !== "" && li.getAttribute("data-label") !== wanted;
      });
    });
  });

  // Pages with documents still in progress reload themselves, unless the user is typing.
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (seconds > 0) {
    setTimeout(function reload() {
      var el = document.activeElement;
      if (el && (el.tagName === "INPUT" || el.tagName === "SELECT")) { setTimeout(reload, seconds * 1000); return; }
      window.location.reload();
    }, seconds * 1000);
  }
})();
