"""Operations: a notebook holding the warehouse, a damaged warehouse, and every kind of
configuration mistake each get a French sentence and the contract's exit code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import connect
from tests.reliability import record

HEADER = "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT\n"


def notebook(db, seconds: float) -> subprocess.Popen:
    """Another process reading the warehouse, as a notebook does (read-only connection)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
         f"con = duckdb.connect({str(db)!r}, read_only=True)\nprint('ouvert', flush=True)\ntime.sleep({seconds})\n"],
        stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ouvert"
    return process


def test_a_notebook_holding_the_warehouse_is_named_after_a_bounded_wait(workspace, cli):
    (workspace / "vigie.toml").write_text("[warehouse]\nlock_wait_seconds = 1\n", encoding="utf-8")
    (workspace / "inbox" / "a.csv").write_text(HEADER + "A-1;03/10/2026;DINUM;Visio;OCTO;1 000\n", encoding="utf-8")
    cli("ingest", "--source", "orders")
    db = workspace / "data" / "vigie.duckdb"
    holder = notebook(db, 60)
    try:
        (workspace / "inbox" / "b.csv").write_text(HEADER + "B-1;03/10/2026;DINUM;Visio;OCTO;1 000\n",
                                                    encoding="utf-8")
        code, out, err = cli("ingest", "--source", "orders")
    finally:
        holder.kill()
        holder.wait()
    assert code == 1 and f"(processus {holder.pid})" in err and "notebook" in err
    assert "ouvert en écriture" not in err and "erreur interne" not in err
    record("Exploitation", "notebook qui garde l'entrepôt ouvert en lecture pendant « vigie run »",
           "attente bornée (warehouse.lock_wait_seconds), puis message qui nomme le programme et son processus")


def test_the_run_waits_for_a_notebook_that_closes(workspace, cli):
    (workspace / "vigie.toml").write_text("[warehouse]\nlock_wait_seconds = 30\n", encoding="utf-8")
    cli("ingest", "--source", "orders")
    db = workspace / "data" / "vigie.duckdb"
    (workspace / "inbox" / "b.csv").write_text(HEADER + "B-1;03/10/2026;DINUM;Visio;OCTO;1 000\n", encoding="utf-8")
    holder = notebook(db, 2)
    try:
        code, out, err = cli("ingest", "--source", "orders")
    finally:
        holder.wait()
    assert code == 0, err
    assert connect(db).execute("SELECT count(*) FROM raw.inbox_orders").fetchone()[0] == 1


def test_a_damaged_warehouse_is_said_so_and_left_untouched(workspace, cli):
    db = workspace / "data" / "vigie.duckdb"
    db.parent.mkdir()
    db.write_bytes(b"pas un entrepot " * 4096)
    before = db.read_bytes()
    for argv in (("ingest", "--source", "orders"), ("status",)):
        code, out, err = cli(*argv)
        # not a warehouse Vigie can open: a configuration matter for the contract (exit 2), never a traceback
        assert code == 2 and "est abîmé ou n'est pas un fichier DuckDB" in err and "erreur interne" not in err
    assert db.read_bytes() == before
    record("Exploitation", "entrepôt abîmé (fichier qui n'est pas du DuckDB)",
           "phrase en français, code 2, fichier laissé intact")


MISTAKES = [
    ({"VIGIE_NOW": "demain matin"}, "", "VIGIE_NOW"),
    ({"VIGIE_NOW": "0001-01-01T00:00:00"}, "", "VIGIE_NOW"),
    ({"VIGIE_DB": "{tmp}"}, "", "VIGIE_DB"),
    ({"VIGIE_INBOX": "{tmp}/vigie.toml"}, "", "VIGIE_INBOX"),
    ({"VIGIE_CONFIG": "{tmp}"}, "", "VIGIE_CONFIG"),
    ({"VIGIE_BETAGOUV_API": "ftp://beta.gouv.fr/api"}, "", "VIGIE_BETAGOUV_API"),
    ({"VIGIE_ALERT_TO": "compta.beta.gouv.fr"}, "", "VIGIE_ALERT_TO"),
    ({}, '[http]\nattempts = "beaucoup"\n', "http.attempts"),
    ({}, "[http]\ntotal_timeout_seconds = -5\n", "http.total_timeout_seconds"),
    ({}, "[http]\nbackoff_seconds = nan\n", "http.backoff_seconds"),
    ({}, "[http]\nattemps = 3\n", "http.attemps"),
    ({}, "[inbox]\nmax_file_bytes = 1.5e3\n", "inbox.max_file_bytes"),
    ({}, "[resolution]\nbuyer_fuzzy_threshold = 150\n", "resolution.buyer_fuzzy_threshold"),
    ({}, '[schedule]\ndaily_run = "30 25 * * *"\n', "schedule.daily_run"),
    ({}, '[schedule]\ntimezone = "Paris"\n', "schedule.timezone"),
    ({}, '[schedule]\nreports_dir = "{tmp}/vigie.toml"\n', "schedule.reports_dir"),
    ({}, '[alerts]\nsmtp_ca_file = "{tmp}/absent.pem"\n', "alerts.smtp_ca_file"),
    ({}, "[sources]\nbetagouv = 3\n", "sources.betagouv"),
]


@pytest.mark.parametrize("env, toml, setting", MISTAKES, ids=[m[2] + str(i) for i, m in enumerate(MISTAKES)])
def test_each_configuration_mistake_is_a_french_usage_error(env, toml, setting, workspace, cli, monkeypatch):
    config = workspace / "vigie.toml"
    if toml:
        config.write_text(toml.replace("{tmp}", str(workspace)), encoding="utf-8")
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("{tmp}", str(workspace)))
    code, out, err = cli("status")
    assert code == 2 and setting in err, err
    assert "erreur interne" not in err and "Traceback" not in err
    record("Exploitation", f"{len(MISTAKES)} erreurs de configuration (types, bornes, réglage inconnu, cron, "
           "fuseau, VIGIE_NOW, dossier pour VIGIE_DB, fichier pour la boîte, dossier de rapports…)",
           "phrase en français qui nomme le réglage, code 2")

