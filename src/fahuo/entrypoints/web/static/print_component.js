// The print-component panel: fetch print tasks (the packs named on the page, or every
// platform waybill waiting), hand them to the local component over its WebSocket, relay each
// result back and show every task's outcome. (A file of its own: the console's CSP allows no
// inline script.)
(function () {
  var panel = document.getElementById("component");
  if (!panel) { return; }
  var log = document.getElementById("log");
  var rows = document.querySelector("#tasks tbody");
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var packs = panel.dataset.packs ? JSON.parse(panel.dataset.packs) : null;
  var reason = panel.dataset.reason || "";
  function say(t) { log.textContent += t + "\n"; }
  function row(task, result, printed, failed, ok) {
    var tr = document.createElement("tr");
    tr.dataset.task = task;
    tr.dataset.ok = ok ? "yes" : "no";
    [task, result, printed + " 张", failed || "—"].forEach(function (text, i) {
      var td = document.createElement("td");
      td.textContent = text;
      if (i === 1 && !ok) { td.className = "err"; }
      tr.appendChild(td);
    });
    rows.appendChild(tr);
  }
  async function run() {
    log.dataset.state = "running";
    document.getElementById("go").disabled = true;
    var body = {printer: document.getElementById("printer").value, reason: reason};
    if (packs) { body.pack_ids = packs; }
    var r = await fetch("/api/print/component/tasks", {method: "POST",
      headers: {"content-type": "application/json", "x-csrf-token": csrf}, body: JSON.stringify(body)});
    var got = await r.json();
    if (!r.ok) { say("未打印：" + (got.message || r.status)); log.dataset.state = "error"; return; }
    Object.entries(got.problems || {}).forEach(function (p) { say("包裹 " + p[0] + "：" + p[1]); });
    if (!got.tasks.length) { say("没有可打印的面单"); log.dataset.state = "done"; return; }
    var pending = got.tasks.length, printed = 0, failedAll = 0;
    var ws = new WebSocket(log.dataset.ws);
    ws.onerror = function () { say("连接打印组件失败：请确认抖音电商打印组件已启动"); log.dataset.state = "error"; };
    ws.onopen = function () { got.tasks.forEach(function (t) { ws.send(JSON.stringify(t)); }); };
    ws.onmessage = async function (ev) {
      var msg = JSON.parse(ev.data);
      var refused = msg.cmd === "print" && msg.status && msg.status !== "success";
      if (msg.cmd !== "notifyPrintResult" && !refused) { return; }
      var res = await (await fetch("/api/print/component/result?reason=" + encodeURIComponent(reason),
        {method: "POST", headers: {"x-csrf-token": csrf}, body: ev.data})).json();
      var failed = Object.entries(res.failed || {});
      printed += (res.printed || []).length;
      failedAll += failed.length;
      failed.forEach(function (f) { say("包裹 " + f[0] + " 打印失败：" + f[1]); });
      if (refused) {
        say("任务 " + msg.taskID + " 被打印组件拒绝：" + (msg.msg || ""));
        row(msg.taskID, "组件拒绝任务：" + (msg.msg || ""), 0, "", false);
      } else {
        row(msg.taskID, failed.length ? "部分失败" : "已打印", (res.printed || []).length,
            failed.map(function (f) { return "包裹 " + f[0] + "：" + f[1]; }).join("；"),
            !failed.length && msg.taskStatus !== "failed");
      }
      pending -= 1;
      if (pending === 0) {
        say("完成：已打印 " + printed + " 张" + (failedAll ? "，失败 " + failedAll + " 张" : ""));
        log.dataset.state = "done";
        ws.close();
      }
    };
  }
  document.getElementById("go").addEventListener("click", run);
  if (panel.dataset.auto) { run(); }
})();
