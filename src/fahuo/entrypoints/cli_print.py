"""`fahuo print …`: labels, pick lists and packing slips in batches, with print records."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from fahuo.bootstrap import get_app
from fahuo.entrypoints.cli_common import _fail, out, who

print_cli = typer.Typer(help="Labels and documents, in batches, with print records.",
                        no_args_is_help=True)


@print_cli.command("labels")
def print_labels_cmd(
    packs: list[int] = typer.Option([], "--pack", help="pack #s (default: all waiting)"),
    batch: Optional[int] = typer.Option(None, help="an earlier batch # again (reprint)"),
    fmt: str = typer.Option("pdf", "--format", help="pdf or zpl"),
    size: str = typer.Option("76x130", help="76x130, 100x150, 100x180 or 4x6"),
    order_by: str = typer.Option("deadline", help="deadline or route (pick order)"),
    dpi: int = typer.Option(203, help="ZPL printer resolution: 203 or 300"),
    printer: str = typer.Option("", help="printer name, for the print record"),
    reason: str = typer.Option("", help="why, when reprinting"),
    out_file: Optional[Path] = typer.Option(None, "--out", help="copy the file here"),
    plain_receiver: bool = typer.Option(
        False, help="print the receiver in plain text where the shop's policy allows it "
                    "(the server's operator holds the keys; default masked)"),
) -> None:
    """Print waybill labels for a batch of packs."""
    from fahuo.services.printing import PrintError, print_labels
    app = get_app()
    app.migrate()
    packs = packs or _batch_packs(batch)
    try:
        r = print_labels(app.uow, packs or None, fmt=fmt, size=size, order_by=order_by,
                         actor=who(), printer=printer, reason=reason, dpi=dpi,
                         out_dir=app.settings.data_dir / "prints",
                         may_see_receiver=plain_receiver,
                         plain_keep_s=app.settings.plain_label_keep_s)
    except PrintError as exc:
        _fail(str(exc))
    if out_file:
        out_file.write_bytes(r.path.read_bytes())
    flag = (" — already printed: the same file again, nothing recorded" if r.already_printed
            else " (reprint)" if r.reprint else "")
    out.print(f"batch #{r.batch_id}: {r.packs} labels → {out_file or r.path}{flag}")


def _batch_packs(batch: Optional[int]) -> list[int]:
    if batch is None:
        return []
    app = get_app()
    app.migrate()
    with app.uow() as uow:
        found = uow.prints.batch(batch)
    if found is None:
        _fail(f"no print batch #{batch}")
    return found["pack_ids"]


def _print_docs(kind: str, packs: list[int], fmt: str, printer: str, reason: str,
                out_file: Optional[Path], batch: Optional[int] = None) -> None:
    from fahuo.services.printing import PrintError, print_documents
    packs = packs or _batch_packs(batch)
    app = get_app()
    app.migrate()
    try:
        r = print_documents(app.uow, kind, packs or None, fmt=fmt, actor=who(), printer=printer,
                            reason=reason, out_dir=app.settings.data_dir / "prints")
    except PrintError as exc:
        _fail(str(exc))
    if out_file:
        out_file.write_bytes(r.path.read_bytes())
    flag = " — already printed: the same file again" if r.already_printed else \
        (" (reprint)" if r.reprint else "")
    out.print(f"batch #{r.batch_id}: {kind} for {r.packs} packs → {out_file or r.path}{flag}")


@print_cli.command("picklist")
def print_picklist(packs: list[int] = typer.Option([], "--pack", help="pack #s"),
                   batch: Optional[int] = typer.Option(None, help="packs of batch #"),
                   fmt: str = typer.Option("pdf", "--format", help="pdf or xlsx"),
                   printer: str = "", reason: str = "",
                   out_file: Optional[Path] = typer.Option(None, "--out")) -> None:
    """Pick list (拣货单): SKUs summed, in pick-route order, with their orders."""
    _print_docs("picklist", packs, fmt, printer, reason, out_file, batch)


@print_cli.command("slips")
def print_slips(packs: list[int] = typer.Option([], "--pack", help="pack #s"),
                batch: Optional[int] = typer.Option(None, help="packs of batch #"),
                printer: str = "", reason: str = "",
                out_file: Optional[Path] = typer.Option(None, "--out")) -> None:
    """Packing slips (发货单), one per pack."""
    _print_docs("slips", packs, "pdf", printer, reason, out_file, batch)


def register(cli: typer.Typer) -> None:
    cli.add_typer(print_cli, name="print")
