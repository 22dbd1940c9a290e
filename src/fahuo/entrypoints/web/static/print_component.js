// The print-component page: fetch print tasks, hand them to the local component over its
// WebSocket, relay each result back. (A file of its own: the console's CSP allows no inline
// script.)
(function () {
  var log = document.getElementById("log");
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  function say(t) { log.textContent += t + "\n"; }
  document.getElementById("go").addEventListener("click", async function () {
    log.dataset.state = "running";
    var printer = document.getElementById("printer").value;
    var r = await fetch("/api/print/component/tasks", {method: "POST",
      headers: {"content-type": "application/json", "x-csrf-token": csrf}, body: JSON.stringify({printer: printer})});
    var body = await r.json();
    Object.entries(body.problems || {}).forEach(function (p) { say("包裹 " + p[0] + "：" + p[1]); });
    if (!body.tasks.length) { say("没有可打印的面单"); log.dataset.state = "done"; return; }
    var pending = body.tasks.length, printed = 0;
    var ws = new WebSocket(log.dataset.ws);
    ws.onerror = function () { say("连接打印组件失败：请确认抖音电商打印组件已启动"); log.dataset.state = "error"; };
    ws.onopen = function () { body.tasks.forEach(function (t) { ws.send(JSON.stringify(t)); }); };
    ws.onmessage = async function (ev) {
      var msg = JSON.parse(ev.data);
      if (msg.cmd === "print" && msg.status !== "success") { say("任务 " + msg.taskID + " 被拒绝：" + msg.msg); }
      if (msg.cmd !== "notifyPrintResult") { return; }
      var res = await (await fetch("/api/print/component/result", {method: "POST",
        headers: {"x-csrf-token": csrf}, body: ev.data})).json();
      printed += (res.printed || []).length;
      Object.entries(res.failed || {}).forEach(function (f) { say("包裹 " + f[0] + " 打印失败：" + f[1]); });
      pending -= 1;
      if (pending === 0) { say("完成：已打印 " + printed + " 张"); log.dataset.state = "done"; ws.close(); }
    };
  });
})();
