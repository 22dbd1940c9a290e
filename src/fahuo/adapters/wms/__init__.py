"""Third-party warehouses (WMS): the port fahuo talks to, and adapters behind it."""

from .base import Confirmation, OutboundLine, OutboundOrder, WarehousePort
from .files import FileWarehouse

__all__ = ["Confirmation", "FileWarehouse", "OutboundLine", "OutboundOrder", "WarehousePort"]
