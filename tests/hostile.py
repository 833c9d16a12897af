"""Nasty files for the inbox, built at test time (some are large: not committed).

Each entry: file name -> (what must happen, fragment of the French reason or None).
`charge` means the file is read (its bad rows may be quarantined); `rejete` means the
whole file is refused with its reason.
"""

from __future__ import annotations

import codecs
import io
import os
import random
import zipfile
from pathlib import Path

import openpyxl

from pipelines.sample.writers import write_csv, write_ods, write_xlsx

HEADER = ["N° BC", "Date du BC", "Bénéficiaire", "Startup", "Titulaire", "Montant HT"]
GOOD = ["H-1", "03/10/2026", "DINUM", "Visio", "OCTO", "1 000"]


def _row(i: int) -> list[str]:
    return [f"H-{i}", "03/10/2026", "DINUM", "Visio", "OCTO", "1 000"]


def _zip_bomb(path: Path, member_size: int, members: int = 1) -> None:
    """A valid-looking .xlsx whose sheet inflates far beyond any real export."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        chunk = b" " * (1 << 20)
        for m in range(members):
            with zf.open(f"xl/worksheets/sheet{m + 1}.xml", "w", force_zip64=True) as fh:
                for _ in range(member_size // len(chunk)):
                    fh.write(chunk)


def build(folder: Path) -> dict[str, tuple[str, str | None]]:
    folder.mkdir(parents=True, exist_ok=True)
    f = folder
    expect: dict[str, tuple[str, str | None]] = {}
    rnd = random.Random(40)

    def put(name, data: bytes, outcome, fragment=None):
        (f / name).write_bytes(data)
        expect[name] = (outcome, fragment)

    def csv_file(name, rows, outcome, fragment=None, **kw):
        write_csv(f / name, rows, **kw)
        expect[name] = (outcome, fragment)

    put("h01_vide.csv", b"", "rejete", "vide")
    csv_file("h02_entete_seul.csv", [HEADER], "charge", "aucune ligne de données")
    put("h03_binaire.csv", bytes(rnd.getrandbits(8) for _ in range(4096)) + b"\x00" * 16, "rejete", "binaire")
    put("h04_octets_hauts.csv", bytes(rnd.randrange(128, 256) for _ in range(4096)), "rejete", "en-tête")
    csv_file("h05_csv_nomme_xlsx.xlsx", [HEADER, GOOD], "charge", "lu comme CSV")
    write_xlsx(f / "h06_xlsx.csv", [HEADER, GOOD])
    expect["h06_xlsx.csv"] = ("charge", "lu comme .xlsx")
    put("h07_pdf.csv", b"%PDF-1.7\n" + b"x" * 100, "rejete", "PDF")
    put("h08_png.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(200), "rejete", "binaire")
    csv_file("h09_cellule_10Mo.csv", [HEADER, ["H-9", "03/10/2026", "DINUM", "x" * (10 * 1024 * 1024), "OCTO", "1"], GOOD],
             "charge", None)
    csv_file("h10_5000_colonnes.csv", [HEADER + [f"c{i}" for i in range(5000)], GOOD + [""] * 5000], "rejete", "colonnes")
    wb = openpyxl.Workbook()
    wb.active.append(HEADER + [f"c{i}" for i in range(5000)])
    wb.active.append(GOOD)
    wb.save(f / "h11_5000_colonnes.xlsx")
    expect["h11_5000_colonnes.xlsx"] = ("rejete", "colonnes")
    mixed = ("\n".join(";".join(r) for r in [HEADER, ["H-12", "03/10/2026", "Ministère de l'Intérieur", "Visio", "OCTO", "1"]])
             ).encode("utf-8") + "\nH-13;03/10/2026;Préfecture;Visio;OCTO;2\n".encode("cp1252")
    put("h12_encodages_mixtes.csv", mixed, "charge", None)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["H-14", "03/10/2026", "DINUM", "Visio", "OCTO", "=SUM(1,2)"])
    ws.append(["H-15", "=TODAY()", "=1/0", "=A1&A2", "OCTO", "=F2*2"])
    wb.save(f / "h13_formules.xlsx")
    expect["h13_formules.xlsx"] = ("charge", None)
    wb = openpyxl.Workbook()
    wb.active.title = "Auto_Open"
    wb.active.append(HEADER)
    wb.active.append(GOOD)
    wb.save(f / "h14_macros_AutoOpen.xlsm")
    expect["h14_macros_AutoOpen.xlsm"] = ("charge", None)
    _zip_bomb(f / "h15_bombe.xlsx", member_size=260 * (1 << 20))
    expect["h15_bombe.xlsx"] = ("rejete", "bombe")
    _zip_bomb(f / "h16_bombe_taux.xlsx", member_size=40 * (1 << 20))
    expect["h16_bombe_taux.xlsx"] = ("rejete", "bombe")
    csv_file("h17_injections.csv", [
        HEADER,
        ["H-17", "03/10/2026", "'; DROP TABLE raw.inbox_orders; --", "<script>alert(1)</script>", "../../etc/passwd", "1"],
        ["H-18", "03/10/2026", "=cmd|'/C calc'!A0", "+1+1", "@SUM(1,1)", "2"],
        ["H-19", "03/10/2026", "DINUM", "-2+3", "OCTO\"; DELETE FROM x", "3"],
    ], "charge", None)
    os.symlink("/etc/passwd", f / "h18_lien_vers_etc_passwd.csv")
    expect["h18_lien_vers_etc_passwd.csv"] = ("rejete", "hors de la boîte")
    csv_file("h19_nom_bizarre\u202egnp.csv", [HEADER, _row(19)], "charge", None)
    csv_file("h20 ; DROP TABLE x ; '.csv", [HEADER, _row(20)], "charge", None)
    put("h21_lignes_blanches.csv", b"\n\n   \n\t\n", "rejete", None)
    csv_file("h22_total_seul.csv", [HEADER, ["TOTAL", "", "", "", "", "0"]], "charge", "aucune ligne de données")
    put("h23_bom_seul.csv", codecs.BOM_UTF8, "rejete", None)
    put("h24_utf16_sans_bom.csv", ";".join(HEADER).encode("utf-16-le"), "rejete", "binaire")
    put("h25_ligne_immense.csv", b"x" * (1 << 20), "rejete", "en-tête")
    put("h26_guillemet_ouvert.csv", (";".join(HEADER) + '\nH-26;03/10/2026;"DINUM;Visio;OCTO;1\nH-27;03/10/2026;DINUM;Visio;OCTO;1\n').encode(),
        "charge", None)
    csv_file("h27_entetes_en_double.csv", [HEADER + ["Montant HT"], GOOD + ["999"]], "charge", "colonnes en double")
    csv_file("h28_entete_ligne_40.csv", [["titre"]] * 40 + [HEADER, GOOD], "rejete", "en-tête")
    csv_file("h29_montants_speciaux.csv", [HEADER] + [[f"H-29-{i}", "03/10/2026", "DINUM", "Visio", "OCTO", v]
                                                        for i, v in enumerate(["NaN", "inf", "1e10", "-0,00", "0x10"])],
             "charge", None)
    csv_file("h30_dates_extremes.csv", [HEADER] + [[f"H-30-{i}", v, "DINUM", "Visio", "OCTO", "1"]
                                                     for i, v in enumerate(["31/12/9999", "00/00/0000", "29/02/2023", "2026-13-01"])],
             "charge", None)
    csv_file("h31_montant_geant.csv", [HEADER, ["H-31", "03/10/2026", "DINUM", "Visio", "OCTO", "999999999999999999999999,99"]],
             "charge", None)
    put("h32_caracteres_de_controle.csv", (";".join(HEADER) + "\nH-32;03/10/2026;DIN\x07UM;Vi\x1bsio;OCTO;1\n").encode(),
        "charge", None)
    wb = openpyxl.Workbook()
    wb.save(f / "h33_classeur_vide.xlsx")
    expect["h33_classeur_vide.xlsx"] = ("rejete", "en-tête")
    with zipfile.ZipFile(f / "h34_xlsx_corrompu.xlsx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<<< pas du XML")
    expect["h34_xlsx_corrompu.xlsx"] = ("rejete", "illisible")
    with zipfile.ZipFile(f / "h35_ods_corrompu.ods", "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content pas fini")
    expect["h35_ods_corrompu.ods"] = ("rejete", "illisible")
    write_ods(f / "h36_ods_lignes_repetees.ods", [HEADER, GOOD])
    _repeat_rows(f / "h36_ods_lignes_repetees.ods")
    expect["h36_ods_lignes_repetees.ods"] = ("rejete", "répétée 1048576 fois")
    csv_file("h37_unicode.csv", [HEADER, ["H-37", "03/10/2026", "DINUM", "Visio 🚀 e\u0301\u200b", "OCTO", "1"]], "charge", None)
    put("h38_fins_de_ligne_mac.csv", ("\r".join(";".join(r) for r in [HEADER, GOOD]) + "\r").encode(), "charge", None)
    csv_file("h39_point_virgule_dans_les_guillemets.csv", [HEADER, ["H-39", "03/10/2026", "DINUM; SG", "Visio", "OCTO", "1"]],
             "charge", None)
    csv_file("h40_tabulations_et_points_virgules.tsv", [HEADER, ["H-40", "03/10/2026", "A;B;C", "Visio", "OCTO", "1"]],
             "charge", None, separator="\t")
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.active.append(["H-41", 46298, "DINUM", "Visio", "OCTO", True])
    wb.save(f / "h41_types_inattendus.xlsx")
    expect["h41_types_inattendus.xlsx"] = ("charge", None)
    csv_file("h42_50000_lignes.csv", [HEADER] + [_row(100_000 + i) for i in range(50_000)], "charge", None)
    put("h43_surrogate.csv", (";".join(HEADER) + "\n").encode() + b"H-43;03/10/2026;\xed\xa0\x80;Visio;OCTO;1\n",
        "charge", None)
    import gzip

    put("h44_gzip.csv", gzip.compress((";".join(HEADER) + "\n" + ";".join(GOOD)).encode()), "rejete", "binaire")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "rien")
    put("h45_zip_quelconque.xlsx", buf.getvalue(), "rejete", "ni un classeur")
    return expect


def _repeat_rows(path: Path) -> None:
    """Rewrite the .ods so its data row claims to repeat a million times."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    content = members["content.xml"].decode()
    marker = "<table:table-row>"
    first = content.find(marker)
    second = content.find(marker, first + 1)
    content = content[:second] + '<table:table-row table:number-rows-repeated="1048576">' + content[second + len(marker):]
    members["content.xml"] = content.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
