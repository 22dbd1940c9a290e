"""Kuaidi100 pushes (§1.4): made for each subscription as its events fall due, sent by a background
thread every :data:`WORKER_INTERVAL_S` and by :meth:`Pushes.tick`, retried, duplicated or reordered
as the push faults say."""
from __future__ import annotations

import threading
from typing import Any

import httpx

from .k100_wire import acknowledged, dumps, k100_sign, last_result
from .store import NO_CHANGE_ABORT, NO_RECORD_ABORT, CourierStore
from .timeline import TERMINAL_STEPS, due


WORKER_INTERVAL_S = 0.5  # real seconds between background ticks


class Pushes(CourierStore):
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="sandbox-couriers", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        if self._http is not None:
            self._http.close()
            self._http = None

    def _run(self) -> None:
        while not self._stop.wait(WORKER_INTERVAL_S):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - keep the worker alive; the DB may be closing at shutdown
                if self._stop.is_set():
                    return

    def tick(self) -> dict[str, Any]:
        """Create the pushes due now (sandbox clock) and send every push whose attempt is due."""
        with self._lock:
            now = self.sb.now()
            created, aborts = self._create_pushes(now)
            rows = self.sb.store.all("SELECT id, url, param, sign, attempts FROM k100_pushes WHERE state='pending'"
                                     " AND next_attempt<=? ORDER BY id", (now,))
            sends = []
            for r in rows:
                sends.append(r)
                if r[4] == 0 and self.faults["duplicate_rate"] and self._rng.random() < self.faults["duplicate_rate"]:
                    sends.append(r)
                    self._count("duplicates_sent")
            if self.faults["reorder"]:
                self._rng.shuffle(sends)
            ok_ids: set[int] = set()
            sent = failed = 0
            for pid, url, param, sign, _ in sends:
                sent += 1
                if self._post(url, param, sign):
                    ok_ids.add(pid)
                else:
                    failed += 1
            dropped = 0
            for pid, _, _, _, attempts in rows:
                if pid in ok_ids:
                    self.sb.store.write("UPDATE k100_pushes SET state='delivered', attempts=? WHERE id=?",
                                        (attempts + 1, pid))
                elif attempts >= self.faults["max_retries"]:
                    dropped += 1
                    self.sb.store.write("UPDATE k100_pushes SET state='dropped', attempts=? WHERE id=?",
                                        (attempts + 1, pid))
                else:
                    self.sb.store.write("UPDATE k100_pushes SET attempts=?, next_attempt=? WHERE id=?",
                                        (attempts + 1, now + self.faults["retry_interval_s"], pid))
            with self._stats_lock:
                self.stats["pushes_sent"] += sent
                self.stats["pushes_failed"] += failed
                self.stats["pushes_delivered"] += len(ok_ids)
                self.stats["pushes_dropped"] += dropped
            return {"now": now, "created": created, "aborts": aborts, "sent": sent, "delivered": len(ok_ids),
                    "failed": failed, "dropped": dropped}

    def _post(self, url: str, param: str, sign: str | None) -> bool:
        if self._http is None:
            self._http = httpx.Client(trust_env=False)
        form = {"param": param}
        if sign is not None:
            form["sign"] = sign
        try:
            return acknowledged(self._http.post(url, data=form, timeout=float(self.faults["timeout_s"])))
        except httpx.HTTPError:
            return False

    def _new_push(self, sid: int, number: str, upto: int, url: str, salt: str | None, param: dict[str, Any],
                  now: float) -> None:
        text = dumps(param)
        sign = k100_sign(text + salt) if salt is not None else None  # §1.4: no salt → no sign
        self.sb.store.write("INSERT INTO k100_pushes (sub_id, number, upto, status, param, sign, url, created_at,"
                            " next_attempt, state) VALUES (?,?,?,?,?,?,?,?,?,'pending')",
                            (sid, number, upto, param["status"], text, sign, url, now, now))
        self._count("pushes_created")

    def _create_pushes(self, now: float) -> tuple[int, int]:
        subs = self.sb.store.all("SELECT id, customer, company, number, callbackurl, salt, resultv2, created_at,"
                                 " pushed_upto FROM k100_subs WHERE status='polling' AND next_check<=? ORDER BY id",
                                 (now,))
        created = aborts = 0
        for sid, _, company, number, url, salt, rv2, sub_at, upto in subs:
            row = self.track(number)
            events = self._sub_events(row, company) if row else []
            n_due = sum(1 for e in events if due(e) <= now)
            status = "polling"
            # One snapshot per event after subscribing; what had happened before comes as one first push.
            for j in range(upto, n_due):
                if j + 1 < n_due and due(events[j + 1]) <= sub_at:
                    continue
                newest = events[j]
                status = "shutdown" if newest["step"] in TERMINAL_STEPS else "polling"
                bill = {"1": "got", "5": "sending", "3": "check"}.get(newest["state"], "")
                self._new_push(sid, number, j + 1, url, salt, {
                    "status": status, "billstatus": bill, "message": "", "autoCheck": "0", "comOld": "", "comNew": "",
                    "lastResult": last_result(number, company, events[: j + 1], rv2)}, now)
                created += 1
                upto = j + 1
                if status == "shutdown":
                    break
            abort = None
            if status != "shutdown":
                if upto == 0 and now >= sub_at + NO_RECORD_ABORT:
                    abort = "3天查询无记录"
                elif upto and upto >= n_due and now >= max(due(events[upto - 1]), sub_at) + NO_CHANGE_ABORT:
                    abort = "60天无变化"
            if abort:
                wrong = row is not None and row["courier"] != company
                lr = last_result(number, company, events[:upto], rv2)
                if not upto:
                    lr.update(message=abort, state="", status="")
                self._new_push(sid, number, upto, url, salt, {
                    "status": "abort", "billstatus": "", "message": abort, "autoCheck": "0",
                    "comOld": company if wrong else "", "comNew": row["courier"] if row is not None and wrong else "", "lastResult": lr},
                    now)
                created += 1
                aborts += 1
                self._count("aborts")
                status = "abort"
            self.sb.store.write("UPDATE k100_subs SET pushed_upto=?, status=? WHERE id=?", (upto, status, sid))
            if status == "polling":
                self._schedule(sid, events, sub_at, upto, now)
        return created, aborts
