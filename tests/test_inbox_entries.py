"""The inbox step is per file: whatever one entry is (a name that is not UTF-8, a named
pipe, a link, a hard link to the warehouse, Vigie's own folder, a file deleted or still
being copied), it is reported with a French reason or deferred, and the others load."""

from __future__ import annotations

import os
import threading
import time

import pytest

from pipelines.config import load_settings
from pipelines.errors import SourceError
from pipelines.sources import orders
from pipelines.sources.orders.readers import Limits
from tests.conftest import connect
from tests.reliability import record

HEADER = "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT\n"


def export(number: str, rows: int = 1) -> str:
    return HEADER + "".join(f"{number}-{i};03/10/2026;DINUM;Visio;OCTO;1 000\n" for i in range(rows))


def inbox_rows(db) -> dict:
    return {path: (status, reason) for path, status, reason in connect(db).execute(
        "SELECT path, status, reason FROM raw.inbox_files").fetchall()}


def test_each_strange_entry_is_reported_and_the_others_load(workspace, cli):
    inbox, db = workspace / "inbox", workspace / "data" / "vigie.duckdb"
    (inbox / "bon.csv").write_text(export("OK"), encoding="utf-8")
    cli("ingest", "--source", "orders")  # the warehouse now exists: link to it below
    (inbox / "autre.csv").write_text(export("AU"), encoding="utf-8")
    with open(os.path.join(os.fsencode(inbox), b"commandes_\xe9t\xe9.csv"), "wb") as fh:  # Latin-1 name
        fh.write(export("L1").encode())
    os.mkfifo(inbox / "tube.csv")
    os.symlink(inbox / "absent.csv", inbox / "lien_casse.csv")
    (workspace / "ailleurs").mkdir()
    os.symlink(workspace / "ailleurs", inbox / "lien_dossier")
    os.symlink(inbox / "bon.csv", inbox / "lien_vers_bon.csv")
    os.link(db, inbox / "entrepot.csv")
    (inbox / "faux\nvigie : tout est chargé.csv").write_text(export("NL"), encoding="utf-8")
    code, out, err = cli("ingest", "--source", "orders")
    assert code == 1 and "Traceback" not in err
    rows = inbox_rows(db)
    assert rows["autre.csv"][0] == "charge" and rows["faux\\nvigie : tout est chargé.csv"][0] == "charge"
    expected = {
        "commandes_\\xe9t\\xe9.csv": "nom de fichier illisible",
        "tube.csv": "tube nommé",
        "lien_casse.csv": "lien symbolique cassé",
        "lien_dossier": "hors de la boîte de dépôt",
        "lien_vers_bon.csv": "lien symbolique vers un fichier",
        "entrepot.csv": "lien physique vers un fichier de Vigie",
    }
    for name, reason in expected.items():
        assert rows[name][0] == "rejete" and reason in rows[name][1], name
    # nothing of the warehouse was copied aside
    rejected = workspace / "data" / "fichiers_rejetes"
    assert not [p for p in rejected.glob("*") if not p.name.endswith(".raison.txt")] if rejected.exists() else True
    code, out, err = cli("status")
    assert not [line for line in out.splitlines() if line.lstrip().startswith("vigie : tout est chargé")]
    assert "faux\\nvigie" in out
    record("Boîte de dépôt", "nom hors UTF-8, tube nommé, lien cassé, lien vers un dossier, lien physique vers "
           "l'entrepôt, saut de ligne dans un nom", "chacun signalé avec sa raison, les autres fichiers chargés ; "
           "rien de l'entrepôt recopié ; noms affichés échappés")


def test_the_run_goes_on_to_check_and_alert(workspace, cli):
    inbox = workspace / "inbox"
    (inbox / "bon.csv").write_text(export("OK"), encoding="utf-8")
    with open(os.path.join(os.fsencode(inbox), b"\xff\xfe.csv"), "wb") as fh:
        fh.write(b"x")
    os.mkfifo(inbox / "tube.csv")
    code, out, err = cli("run")
    steps = dict(connect(workspace / "data" / "vigie.duckdb").execute(
        "SELECT step, status FROM meta.run_steps").fetchall())
    assert steps["ingest.orders"] == "attention" and steps["check"] in ("ok", "attention")
    assert "alert" in steps


def test_the_warehouse_folder_inside_the_inbox_is_not_read(workspace, cli, monkeypatch):
    inbox = workspace / "inbox"
    monkeypatch.setenv("VIGIE_DB", str(inbox / "entrepot" / "vigie.duckdb"))
    (inbox / "bon.csv").write_text(export("OK"), encoding="utf-8")
    cli("ingest", "--source", "orders")
    code, out, err = cli("ingest", "--source", "orders")
    rows = inbox_rows(inbox / "entrepot" / "vigie.duckdb")
    assert rows["bon.csv"][0] == "charge"
    assert rows["entrepot"][0] == "rejete" and "dossier de l'entrepôt" in rows["entrepot"][1]
    assert not [p for p in rows if p.startswith("entrepot/")]
    record("Boîte de dépôt", "entrepôt placé dans la boîte de dépôt", "son dossier signalé et jamais lu")


def test_a_file_deleted_between_listing_and_reading_is_reported(tmp_path):
    (tmp_path / "a.csv").write_text(export("A"), encoding="utf-8")
    (tmp_path / "b.csv").write_text(export("B"), encoding="utf-8")
    files = orders.scan(tmp_path, orders.InboxRules((), (), settle_seconds=0, min_age_seconds=0))
    (tmp_path / "a.csv").unlink()
    results = {r.path: r for r in orders.read_new(files, {}, {}, Limits.defaults(), {})}
    assert results["a.csv"].status == "rejete" and "disparu" in results["a.csv"].reason
    assert results["b.csv"].status == "charge"


def test_a_file_still_being_copied_waits_for_the_next_run(workspace, cli):
    inbox, db = workspace / "inbox", workspace / "data" / "vigie.duckdb"
    (inbox / "bon.csv").write_text(export("OK"), encoding="utf-8")
    path = inbox / "en_cours.csv"
    path.write_text(HEADER, encoding="utf-8")
    stop = threading.Event()

    def copy():  # a slow copy: one line every 50 ms, the last one half-written for a moment
        with open(path, "a", encoding="utf-8") as fh:
            i = 0
            while not stop.is_set():
                fh.write(f"EC-{i};03/10/2026;DINUM;Visio;OCTO;1 0")
                fh.flush()
                time.sleep(0.025)
                fh.write("00\n")
                fh.flush()
                time.sleep(0.025)
                i += 1

    writer = threading.Thread(target=copy)
    writer.start()
    try:
        code, out, err = cli("ingest", "--source", "orders")
    finally:
        stop.set()
        writer.join()
    assert "en_cours.csv" not in inbox_rows(db) and inbox_rows(db)["bon.csv"][0] == "charge"
    assert "1 fichier(s) en cours d'écriture, lu(s) à la prochaine exécution : « en_cours.csv »" in out
    written = path.read_text(encoding="utf-8").count("EC-")
    code, out, err = cli("ingest", "--source", "orders")
    status, reason = inbox_rows(db)["en_cours.csv"]
    loaded = connect(db).execute("SELECT count(*) FROM raw.inbox_orders WHERE numero_bc LIKE 'EC-%'").fetchone()[0]
    assert status == "charge" and loaded == written
    record("Boîte de dépôt", "fichier encore en cours de copie (il grandit pendant la lecture)",
           "laissé pour l'exécution suivante et annoncé ; lu en entier ensuite")


def test_a_file_younger_than_the_minimum_age_waits(workspace, cli):
    (workspace / "vigie.toml").write_text("[inbox]\nmin_file_age_seconds = 3600\n", encoding="utf-8")
    (workspace / "inbox" / "neuf.csv").write_text(export("N"), encoding="utf-8")
    code, out, err = cli("ingest", "--source", "orders")
    assert "« neuf.csv »" in out and "en cours d'écriture" in out
    assert load_settings().inbox_limits.min_file_age_seconds == 3600


def test_a_file_whose_rows_do_not_add_up_is_refused_in_french(tmp_path):
    """The accounting invariant (rows read = loaded + quarantined) is an exception with a
    French sentence, not an `assert` that `python -O` would drop."""
    (tmp_path / "a.csv").write_text(export("A", rows=2), encoding="utf-8")
    files = orders.scan(tmp_path, orders.InboxRules((), (), settle_seconds=0, min_age_seconds=0))
    result = next(orders.read_new(files, {}, {}, Limits.defaults(), {}))
    result.check()  # as read: 2 rows read, accounted for
    result.rows_loaded -= 1  # one row lost on the way
    with pytest.raises(SourceError, match=r"2 ligne\(s\) lue\(s\) mais 1 chargée\(s\) et 0 en quarantaine"):
        result.check()


def test_an_export_names_its_agreement_by_any_key_even_in_a_warehouse_synced_before_the_keys(workspace, cli):
    """The agreements' keys (id, codes, reference) are stored once at the sync, in
    ref.agreement_keys; a warehouse synced before that table existed is synced again."""
    import duckdb
    import yaml

    from pipelines.config import PACKAGE_DIR
    from pipelines.text import norm_key

    db = workspace / "data" / "vigie.duckdb"
    assert cli("ingest", "--source", "orders")[0] == 0
    doc = yaml.safe_load((PACKAGE_DIR / "agreements" / "acim-2026.yaml").read_text(encoding="utf-8"))
    con = connect(db)
    keys = set(con.execute("SELECT origin, code, code_key FROM ref.agreement_keys WHERE agreement_id = 'acim-2026'")
               .fetchall())
    assert keys == {("id", doc["id"], norm_key(doc["id"])), ("reference", doc["reference"], norm_key(doc["reference"])),
                    *(("code", c, norm_key(c)) for c in doc["codes"])}
    con.close()
    con = duckdb.connect(str(db))  # writable: make it a warehouse of before the table
    con.execute("DELETE FROM ref.agreement_keys")
    con.close()
    (workspace / "inbox" / "bc.csv").write_text(
        "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Accord-cadre\n"
        f"R-1;03/10/2026;DINUM;Visio;OCTO;1 000;{doc['reference']}\n", encoding="utf-8")
    code, out, err = cli("ingest", "--source", "orders")
    assert "Accords-cadres chargés" in out + err
    rows = connect(db).execute("SELECT accord_cadre FROM raw.inbox_orders").fetchall()
    assert rows == [("acim-2026",)], out + err
