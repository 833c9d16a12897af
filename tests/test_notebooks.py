"""The analysts' notebooks: committed without outputs, and they run top to bottom on the
demo warehouse (executed with nbclient, the same kernel JupyterLab would use)."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from html import unescape
from pathlib import Path

import nbformat
import pytest
import requests
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RAW_FLOAT = re.compile(r"\d\.\d|\bnan\b|\bNaN\b|<NA>|NaT|\bNone\b|\bTrue\b|\bFalse\b")
RAW_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}|\d:\d{2}:\d{2}|\.\d{6}")
# column labels left as code (snake_case or all lower case)
ENGLISH = re.compile(r"[a-z]+_[a-z_]+|[a-z]+|orders|holders")


def test_notebooks_are_numbered_and_stripped():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_", "06_"]
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert "open_warehouse()" in code and "from pipelines" in code  # thin: they import pipelines
        assert "duckdb.connect" not in code


@pytest.mark.slow  # every notebook executed in a Jupyter kernel
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_on_the_demo_warehouse(path, demo_db, monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_DB", str(demo_db))
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    html_outputs = [o for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert html_outputs, "tables and charts are displayed"
    for output in html_outputs:  # nothing is loaded from another host
        html = output["data"]["text/html"]
        assert not re.findall(r"<script[^>]+src=[\"']https?://", html)
        assert not re.findall(r"import\s+[\"']https?://", html)
    tables = [o["data"]["text/html"] for o in html_outputs if "<table" in o["data"]["text/html"]]
    assert tables, "tables are displayed formatted (pandas Styler)"
    for html in tables:
        cells = [unescape(c) for c in re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", html)]
        headers = [unescape(c) for c in re.findall(r"<th[^>]*>([^<]*)</th>", html)]
        assert cells and headers
        for cell in cells:  # formatted for people
            assert not RAW_FLOAT.search(cell), (path.name, cell)
            assert not RAW_MOMENT.search(cell), (path.name, cell)
        for header in headers:  # French column names
            assert not ENGLISH.fullmatch(header.strip()), (path.name, header)
    plain = [o for c in nb.cells for o in c.get("outputs", []) if "text/plain" in o.get("data", {})
             and "text/html" not in o.get("data", {})]
    for output in plain:  # no frame printed raw
        assert "dtype" not in output["data"]["text/plain"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tracked_state() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "--", "deploy",
                           "notebooks", "pipelines", "tests/fixtures"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_make_lab_starts_in_french_and_writes_nothing_into_tracked_folders(demo_db, tmp_path):
    """`make lab` as CI runs it (root included): JupyterLab in French, and settings,
    checkpoints and runtime files all under LAB_STATE."""
    before = _tracked_state()
    port, token = _free_port(), "vigie-test"
    state = tmp_path / "lab"
    base = f"http://127.0.0.1:{port}"
    lab = subprocess.Popen(
        ["make", "-s", "lab", f"DEMO_DB={demo_db}", f"LAB_STATE={state}",
         f"LAB_ARGS=--no-browser --port={port} --ServerApp.token={token}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(120):
            try:
                if requests.get(f"{base}/api/status", params={"token": token}, timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(1)
        else:
            raise AssertionError("JupyterLab n'a pas démarré")
        settings = requests.get(f"{base}/lab/api/settings/@jupyterlab/translation-extension:plugin",
                                params={"token": token}, timeout=10).json()
        assert settings["settings"]["locale"] == "fr_FR"
        languages = requests.get(f"{base}/lab/api/translations/", params={"token": token}, timeout=10).json()["data"]
        assert "fr_FR" in languages
        checkpoint = requests.post(f"{base}/api/contents/01_commandes_par_ministere.ipynb/checkpoints",
                                   params={"token": token}, timeout=10)
        assert checkpoint.status_code == 201
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
    assert list((state / "checkpoints").glob("01_commandes_par_ministere-checkpoint.ipynb"))
    assert (state / "user-settings").is_dir() and (state / "config").is_dir()
    assert _tracked_state() == before


def test_jupyterlab_is_configured_to_stay_offline():
    config = json.loads((ROOT / "deploy" / "jupyter" / "jupyter_server_config.json").read_text())
    assert config["LabApp"]["news_url"] is None
    assert config["LabApp"]["check_for_updates_class"] == "jupyterlab.NeverCheckForUpdate"
    page = json.loads((ROOT / "deploy" / "jupyter" / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyterlab/apputils-extension:announcements"] is True
    makefile = (ROOT / "Makefile").read_text()
    assert "cp -R deploy/jupyter/jupyter_server_config.json deploy/jupyter/labconfig $(LAB_STATE)/config/" in makefile
    assert "JUPYTER_CONFIG_DIR=$(abspath $(LAB_STATE))/config" in makefile


def test_startup_file_and_holder_scorecard_match_the_warehouse(demo_db):
    from pipelines.notebook import open_warehouse
    from pipelines.report import dossiers

    con = open_warehouse(demo_db)
    orders = dossiers.startup_orders(con, "juri-gpt")
    expected = con.execute("SELECT numero_bc, phase_at_date FROM mart.orders_enriched WHERE startup_id = 'juri-gpt' "
                           "ORDER BY date_bc, numero_bc").fetchall()
    assert list(orders["Commande"]) == [n for n, _ in expected] and len(expected) >= 2
    assert [dossiers.PHASES[p] for _, p in expected] == list(orders["Phase à la date"])
    phases = dossiers.startup_phases(con, "juri-gpt")
    assert len(phases) == con.execute("SELECT count(*) FROM mart.startup_phases WHERE startup_id = 'juri-gpt'").fetchone()[0]
    # the holder's refusals per need: every solicitation it answered, and the summary the report shows
    per_need = dossiers.holder_refusals_per_need(con, "acim-2021", "inetum-lbc")
    summary = dossiers.holder_refusal_summary(con, "acim-2021", "inetum-lbc").iloc[0]
    assert len(per_need) == summary["Sollicitations"]
    assert (per_need["Réponse"] == "refus").sum() == summary["Refus"]
    assert (per_need["Réponse"] == "désistement").sum() == summary["Désistements"]
    years = dossiers.holder_orders(con, "acim-2021", "inetum-lbc")
    total = con.execute("SELECT count(*) FILTER (WHERE montant_ht >= 0) FROM mart.orders_enriched "
                        "WHERE agreement_id = 'acim-2021' AND holder_id = 'inetum-lbc'").fetchone()[0]
    assert years["Commandes"].sum() == total
    declared = dossiers.holder_declarations(con, "acim-2021", "inetum-lbc")
    assert declared["Commandes"].sum() == total + con.execute(
        "SELECT count(*) FILTER (WHERE montant_ht < 0) FROM mart.orders_enriched "
        "WHERE agreement_id = 'acim-2021' AND holder_id = 'inetum-lbc'").fetchone()[0]
    assert (declared["Déclarées à la DINUM"] + declared["Non déclarées"] == declared["Commandes"]).all()
    rank = con.execute("SELECT rank FROM ref.holders WHERE agreement_id = 'acim-2021' AND holder_id = 'inetum-lbc'").fetchone()[0]
    assert dossiers.holder_identity(con, "acim-2021", "inetum-lbc")["Rang dans le tourniquet"].iloc[0] == rank
