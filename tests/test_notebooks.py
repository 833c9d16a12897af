"""The analysts' notebooks: committed without outputs, and they run top to bottom on the
demo warehouse (executed with nbclient, the same kernel JupyterLab would use)."""

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_are_numbered_and_stripped():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_"]
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


def test_jupyterlab_is_configured_to_stay_offline():
    config = json.loads((ROOT / "deploy" / "jupyter" / "jupyter_server_config.json").read_text())
    assert config["LabApp"]["news_url"] is None
    assert config["LabApp"]["check_for_updates_class"] == "jupyterlab.NeverCheckForUpdate"
    page = json.loads((ROOT / "deploy" / "jupyter" / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyterlab/apputils-extension:announcements"] is True
    makefile = (ROOT / "Makefile").read_text()
    assert "JUPYTER_CONFIG_DIR=$(CURDIR)/deploy/jupyter" in makefile
