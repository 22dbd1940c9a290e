"""The warehouse port: outbound orders go out, shipment confirmations come back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutboundLine:
    sku_code: str
    name: str
    quantity: int


@dataclass(frozen=True)
class OutboundOrder:
    """One parcel for the warehouse to pick, pack and hand to the courier."""

    pack_id: int
    order_ids: tuple[str, ...]
    courier_code: str
    track_no: str
    deadline: int | None
    receiver: str  # masked: the warehouse prints the platform label, it needs no plain PII
    region: str
    lines: tuple[OutboundLine, ...]


@dataclass(frozen=True)
class Confirmation:
    """The warehouse says a parcel left: by fahuo pack number or by tracking number."""

    pack_id: int | None
    track_no: str
    shipped_at: int | None
    source: str  # file name and row, for messages


class WarehousePort(Protocol):
    name: str

    def send_outbound(self, orders: list[OutboundOrder]) -> str:
        """Hand orders over; returns a reference (e.g. the file written)."""

    def read_confirmations(self) -> list[tuple[str, list[Confirmation], list[str]]]:
        """(batch reference, confirmations, problems) per unread batch."""

    def send_cancellations(self, packs: list[tuple[int, str]]) -> str:
        """(pack id, tracking number) handed over earlier that must not leave after all."""

    def done(self, reference: str) -> None:
        """A batch was applied: do not hand it over again."""
