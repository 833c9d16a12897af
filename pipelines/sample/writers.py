"""Write tables the way analysts' tools do: CSV in any encoding and separator, .xlsx with
title and total rows, .ods. Used by the embedded sample's builder, the test corpus and
the benchmark generator (never by the importer)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8", separator: str = ";",
              bom: bool = False, line_end: str = "\r\n") -> Path:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator=line_end, quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    data = out.getvalue().encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _excel_value(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def write_xlsx(path: Path, rows: list[list], sheet: str = "Feuille1", above: list[list] | None = None,
               below: list[list] | None = None, date_format: str = "DD/MM/YYYY",
               money_columns: tuple[int, ...] = ()) -> Path:
    """`above`: title/blank rows before the header; `below`: e.g. a TOTAL row."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in (above or []) + rows + (below or []):
        ws.append([_excel_value(v) for v in row])
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, datetime | date):
                cell.number_format = date_format
            elif isinstance(cell.value, float) and cell.column - 1 in money_columns:
                cell.number_format = '#,##0.00 "€"'
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_ods(path: Path, rows: list[list], sheet: str = "Feuille1", above: list[list] | None = None) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableColumnProperties
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    column_style = Style(name="col", family="table-column")
    column_style.addElement(TableColumnProperties(columnwidth="3.5cm"))
    doc.automaticstyles.addElement(column_style)
    table = Table(name=sheet)
    width = max(len(r) for r in rows)
    for _ in range(width):
        table.addElement(TableColumn(stylename=column_style))
    for row in (above or []) + rows:
        tr = TableRow()
        for value in row:
            if value is None or value == "":
                cell = TableCell()
            elif isinstance(value, bool):
                cell = TableCell(valuetype="boolean", booleanvalue=str(value).lower())
                cell.addElement(P(text=str(value)))
            elif isinstance(value, int | float | Decimal):
                cell = TableCell(valuetype="float", value=str(value))
                cell.addElement(P(text=str(value)))
            elif isinstance(value, datetime | date):
                iso = value.isoformat() if isinstance(value, date) and not isinstance(value, datetime) else value.isoformat(timespec="seconds")
                cell = TableCell(valuetype="date", datevalue=iso)
                cell.addElement(P(text=value.strftime("%d/%m/%Y")))
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def fr_money(value, euro: bool = True, space: str = "\u202f") -> str:
    """12345.6 -> '12 345,60 €' as a French spreadsheet prints it."""
    q = Decimal(str(value)).quantize(Decimal("0.01"))
    sign = "-" if q < 0 else ""
    whole, frac = f"{abs(q):.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{space.join(groups)},{frac}" + (" €" if euro else "")


def fr_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")
