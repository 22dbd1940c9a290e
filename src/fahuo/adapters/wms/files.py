"""File-based warehouse: for a third party that exchanges files (a shared folder, SFTP synced).

``<root>/outbound/``: fahuo writes ``outbound-<time>.json`` and ``.csv`` (the same orders).
``<root>/inbound/``: the warehouse drops confirmations, ``.csv`` or ``.json``, one row per
parcel with ``pack_id`` or ``track_no`` (and optionally ``shipped_at``); applied files move to
``<root>/inbound/done/``. Files are written to a temporary name and renamed, so the other side
never reads half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from fahuo.domain.clock import shop_time

from .base import Confirmation, OutboundOrder

CSV_FIELDS = ["pack_id", "order_ids", "courier_code", "track_no", "deadline", "receiver",
              "region", "sku_code", "name", "quantity"]


class FileWarehouse:
    name = "files"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.outbound = self.root / "outbound"
        self.inbound = self.root / "inbound"
        for d in (self.outbound, self.inbound, self.inbound / "done"):
            d.mkdir(parents=True, exist_ok=True)

    def send_outbound(self, orders: list[OutboundOrder]) -> str:
        stamp = shop_time(time.time(), "%Y%m%d-%H%M%S") + f"-{time.time_ns() % 10**6:06d}"
        base = f"outbound-{stamp}"
        doc = {"orders": [asdict(o) for o in orders]}
        self._write(self.outbound / f"{base}.json",
                    json.dumps(doc, ensure_ascii=False, indent=1).encode())
        buf = io.StringIO()
        w = csv.DictWriter(buf, CSV_FIELDS)
        w.writeheader()
        for o in orders:
            for ln in o.lines:  # one row per line: what a picker's spreadsheet expects
                w.writerow({"pack_id": o.pack_id, "order_ids": " ".join(o.order_ids),
                            "courier_code": o.courier_code, "track_no": o.track_no,
                            "deadline": o.deadline or "", "receiver": o.receiver,
                            "region": o.region, "sku_code": ln.sku_code, "name": ln.name,
                            "quantity": ln.quantity})
        self._write(self.outbound / f"{base}.csv", buf.getvalue().encode("utf-8-sig"))
        return f"{base}.json"

    def send_cancellations(self, packs: list[tuple[int, str]]) -> str:
        stamp = shop_time(time.time(), "%Y%m%d-%H%M%S") + f"-{time.time_ns() % 10**6:06d}"
        name = f"cancel-{stamp}.json"
        self._write(self.outbound / name, json.dumps(
            {"cancel": [{"pack_id": p, "track_no": t} for p, t in packs]},
            ensure_ascii=False, indent=1).encode())
        return name

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def read_confirmations(self) -> list[tuple[str, list[Confirmation], list[str]]]:
        out = []
        for path in sorted(self.inbound.iterdir()):
            if not path.is_file() or path.suffix.lower() not in (".csv", ".json"):
                continue
            rows, problems = self._parse(path)
            out.append((path.name, rows, problems))
        return out

    def _parse(self, path: Path) -> tuple[list[Confirmation], list[str]]:
        problems: list[str] = []
        try:
            if path.suffix.lower() == ".json":
                data = json.loads(path.read_text("utf-8-sig"))
                items = data.get("shipments") if isinstance(data, dict) else data
                if not isinstance(items, list):
                    return [], [f"{path.name}: expected a list or {{\"shipments\": [...]}}"]
            else:
                items = list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))
        except (ValueError, UnicodeDecodeError) as exc:
            return [], [f"{path.name}: unreadable ({exc})"]
        rows = []
        for n, it in enumerate(items, 2 if path.suffix.lower() == ".csv" else 1):
            where = f"{path.name} row {n}"
            if not isinstance(it, dict):
                problems.append(f"{where}: not an object")
                continue
            pack = str(it.get("pack_id") or "").strip()
            track = str(it.get("track_no") or "").strip()
            shipped = str(it.get("shipped_at") or "").strip()
            if not pack and not track:
                problems.append(f"{where}: needs pack_id or track_no")
                continue
            if pack and not pack.isdigit():
                problems.append(f"{where}: pack_id {pack!r} is not a number")
                continue
            if shipped and not shipped.isdigit():
                problems.append(f"{where}: shipped_at {shipped!r} must be Unix seconds")
                continue
            rows.append(Confirmation(int(pack) if pack else None, track,
                                     int(shipped) if shipped else None, where))
        return rows, problems

    def done(self, reference: str) -> None:
        src = self.inbound / reference
        if src.exists():
            os.replace(src, self.inbound / "done" / reference)
