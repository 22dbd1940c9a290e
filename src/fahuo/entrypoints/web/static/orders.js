// The order workbench: select the page, or every order the filter matches.
(function () {
  function sync() {
    var picks = document.querySelectorAll(".wb-pick");
    var all = document.getElementById("wb-all");
    var total = document.getElementById("wb-total");
    var shown = document.getElementById("wb-picked");
    if (!shown) return;
    var n = 0;
    picks.forEach(function (p) { if (p.checked) n++; });
    if (all && all.checked && total) n = total.dataset.total;
    shown.textContent = "已选 " + n + " 单";
  }
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.id === "wb-page") {
      document.querySelectorAll(".wb-pick").forEach(function (p) { p.checked = t.checked; });
    } else if (t.id === "wb-all" && t.checked) {
      document.querySelectorAll(".wb-pick").forEach(function (p) { p.checked = true; });
      var page = document.getElementById("wb-page");
      if (page) page.checked = true;
    } else if (t.classList && t.classList.contains("wb-pick") && !t.checked) {
      var allBox = document.getElementById("wb-all");
      if (allBox) allBox.checked = false;
    }
    sync();
  });
  document.addEventListener("htmx:afterSwap", sync);
})();
