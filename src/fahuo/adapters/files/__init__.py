"""Merchant files read within limits: spreadsheets (``tables``)."""

from .tables import SpreadsheetReader, read_table

__all__ = ["SpreadsheetReader", "read_table"]
