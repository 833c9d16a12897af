"""The report as PDF: the same HTML file, printed by headless Chromium with the report's
print stylesheet (A4, page numbers in the @page margin boxes, rows and charts never cut).

Chromium is a system package (Debian `chromium`); it runs with no network and a
throw-away profile, so printing sends nothing anywhere and leaves nothing behind.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from pipelines.config import child_environment, chromium_override
from pipelines.errors import UsageError, VigieError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-extensions", "--no-pdf-header-footer",
    # Charts are laid out for an A4 page's width before printing.
    "--window-size=794,1123", "--virtual-time-budget=20000", "--run-all-compositor-stages-before-draw",
]


def chromium() -> str:
    """Chromium to print with: VIGIE_CHROMIUM, else the first one on PATH."""
    chosen = chromium_override() or next(filter(None, (shutil.which(c) for c in CANDIDATES)), None)
    if not chosen or not Path(chosen).exists():
        raise UsageError("Chromium est introuvable : installez le paquet « chromium » (ou indiquez son chemin dans "
                         "VIGIE_CHROMIUM) pour écrire le rapport en PDF.")
    return chosen


def print_pdf(html_path: Path, timeout: float = 300) -> Path:
    """Writes the PDF beside the HTML (same name, .pdf) and returns its path."""
    target = html_path.with_suffix(".pdf")
    tmp = target.with_name(target.name + ".tmp")
    with tempfile.TemporaryDirectory(prefix="vigie-chromium-") as profile:
        command = [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", html_path.resolve().as_uri()]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                    env=child_environment(HOME=profile))
        except subprocess.TimeoutExpired as exc:
            tmp.unlink(missing_ok=True)
            raise VigieError(f"Chromium n'a pas imprimé le rapport en {int(timeout)} secondes : PDF non écrit.") from exc
    if result.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        detail = (result.stderr or "").strip().splitlines()[-1:] or ["sans message"]
        raise VigieError(f"Chromium n'a pas pu imprimer le rapport en PDF ({detail[0]}).")
    tmp.replace(target)
    return target
