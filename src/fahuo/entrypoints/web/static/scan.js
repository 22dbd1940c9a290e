// The scan station (扫描发货) for a keyboard-wedge scanner: it types the number and Enter, so
// the box must always have focus, never lose a scan and answer by sound as well as colour.
// Without this file the form is a plain post and everything still works, silently.
(function () {
  "use strict";
  var MUTE_KEY = "fahuo.scan.muted";
  var audio = null;

  function muted() {
    try { return window.localStorage.getItem(MUTE_KEY) === "1"; } catch (e) { return false; }
  }

  function setMuted(on) {
    try { window.localStorage.setItem(MUTE_KEY, on ? "1" : "0"); } catch (e) { /* private */ }
  }

  // Made on the first scan (a key press, so the browser lets it play), then kept.
  function context() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return null; }
    if (!audio) { audio = new Ctx(); }
    if (audio.state === "suspended") { audio.resume(); }
    return audio;
  }

  function tone(ac, freq, type, start, length, volume) {
    var osc = ac.createOscillator();
    var gain = ac.createGain();
    osc.type = type;
    osc.frequency.setValueAtTime(freq, start);
    // short ramps: no click at either end
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(volume, start + 0.01);
    gain.gain.setValueAtTime(volume, start + length - 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
    osc.connect(gain);
    gain.connect(ac.destination);
    osc.start(start);
    osc.stop(start + length + 0.02);
  }

  // ok: one short high beep; refusal: a low double buzz nobody mistakes for it
  function sound(ok) {
    if (muted()) { return; }
    var ac = context();
    if (!ac) { return; }
    var t = ac.currentTime + 0.01;
    if (ok) {
      tone(ac, 1760, "sine", t, 0.12, 0.3);
    } else {
      tone(ac, 196, "square", t, 0.2, 0.2);
      tone(ac, 196, "square", t + 0.28, 0.2, 0.2);
    }
  }

  function typing(el) {  // a field that takes text of its own (the unpack note, say)
    return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
                  (el.tagName === "INPUT" && el.type !== "hidden" && el.type !== "button" &&
                   el.type !== "submit") || el.isContentEditable);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("scan-form");
    if (!form || !window.htmx) { return; }
    var input = form.elements.code;
    var result = document.getElementById("scan-result");
    var pending = document.getElementById("scan-pending");
    var toggle = document.getElementById("scan-sound");
    var queue = [];
    var busy = false;

    function focusInput() {
      if (document.activeElement !== input) { input.focus(); }
    }

    function showPending() {
      var n = queue.length + (busy ? 1 : 0);
      pending.textContent = n ? "处理中 " + n + " 个…" : "";
    }

    function refused(text) {
      result.innerHTML = "";
      var div = document.createElement("div");
      div.className = "scan-stop";
      div.setAttribute("role", "alert");
      div.setAttribute("data-verdict", "error");
      div.setAttribute("data-ok", "no");
      div.textContent = text;
      result.appendChild(div);
      sound(false);
    }

    // One scan at a time, in the order scanned: each number is taken out of the box at once,
    // so the next parcel can be scanned while the answer for this one is on its way.
    function next() {
      if (busy || !queue.length) { return; }
      busy = true;
      var code = queue.shift();
      showPending();
      var done = function () { busy = false; showPending(); focusInput(); next(); };
      window.htmx.ajax("POST", form.getAttribute("action"), {
        source: result, target: result, swap: "innerHTML",
        values: {code: code, csrf_token: form.elements.csrf_token.value}
      }).then(done, done);
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var code = input.value.trim();
      input.value = "";
      focusInput();
      if (!code) { return; }
      context();  // inside the key press that sent it
      queue.push(code);
      next();
    });

    result.addEventListener("htmx:afterSwap", function (e) {
      if (e.detail.target !== result) { return; }
      var answer = result.querySelector("[data-ok]");
      if (answer) { sound(answer.getAttribute("data-ok") === "yes"); }
    });
    result.addEventListener("htmx:responseError", function (e) {
      refused("扫描未处理（服务器答复 " + e.detail.xhr.status + "），请重新扫描这个包裹");
    });
    result.addEventListener("htmx:sendError", function () {
      refused("扫描未送达（网络中断），请重新扫描这个包裹");
    });

    // Focus: back in the box after a click elsewhere, on returning to the window, and when
    // the scanner starts typing while something else (a button) has focus.
    document.addEventListener("click", function (e) {
      if (e.target.closest("a, button, input, textarea, select, label, [contenteditable]")) {
        return;
      }
      var sel = window.getSelection();
      if (sel && !sel.isCollapsed) { return; }  // someone is selecting text to copy
      focusInput();
    });
    window.addEventListener("focus", function () {
      if (!typing(document.activeElement)) { focusInput(); }
    });
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(document.activeElement)) { return; }
      if (e.key.length === 1) { focusInput(); }  // the key then lands in the box
    });

    function showToggle() {
      var off = muted();
      toggle.textContent = off ? "声音：关（已静音）" : "声音：开";
      toggle.setAttribute("aria-pressed", off ? "true" : "false");
    }
    toggle.hidden = false;
    showToggle();
    toggle.addEventListener("click", function () {
      setMuted(!muted());
      showToggle();
      focusInput();
    });

    focusInput();
  });
}());
