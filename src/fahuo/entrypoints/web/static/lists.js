// The console's lists (templates/_pager.html): "全选本页" ticks the page's rows; "选择全部 N 条"
// ticks them too, and the action then applies to every row the filter matches, on every page.
document.addEventListener("change", (ev) => {
  const box = ev.target;
  if (!(box instanceof HTMLInputElement)) return;
  const form = box.form;
  if (!form) return;
  if (box.matches("[data-select-page], [data-select-matching]")) {
    const rows = form.querySelectorAll("tbody input[type=checkbox]");
    const page = form.querySelector("[data-select-page]");
    const matching = form.querySelector("[data-select-matching]");
    if (box === matching && matching.checked && page) page.checked = true;
    if (box === page && !page.checked && matching) matching.checked = false;
    const on = (page && page.checked) || (matching && matching.checked);
    rows.forEach((r) => { r.checked = on; });
  } else if (box.closest("tbody") && !box.checked) {
    const matching = form.querySelector("[data-select-matching]");
    if (matching) matching.checked = false;  // one row left out: no longer "all"
  }
});
