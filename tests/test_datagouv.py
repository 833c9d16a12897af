"""data.gouv.fr against a loopback server: datasets, DECP filtered by DuckDB reading the
file directly, downloads verified, resumed, atomic, never repeated for an unchanged file."""

import json

from pipelines import warehouse
from tests.conftest import connect
from tests.datagouv_fixture import DECP_ID, DECP_ROWS, KEPT, SLUG_2026
from tests.servers import Route


def ingest(cli):
    code, out, err = cli("ingest", "--source", "datagouv")
    return code, out, err


def test_datasets_and_decp_filtered_to_the_agreements(workspace, datagouv, cli):
    code, out, err = ingest(cli)
    assert code == 0, err
    noise = 200  # write_decp's default: rows of other buyers around the fixture's own
    assert "3 jeu(x) de données" in out
    assert (f"DECP (« decp.parquet ») : {len(DECP_ROWS) + noise} ligne(s) lue(s), {len(KEPT)} contrat(s) retenu(s)"
            in out), out
    con = connect(workspace / "data" / "vigie.duckdb")
    ids = dict(con.execute("SELECT config_key, dataset_id FROM raw.datagouv_datasets").fetchall())
    assert ids == {"acim-2021": "61a0000000000000000002021", "acim-2026": "67b0000000000000000002026", "decp": DECP_ID}
    resources = con.execute("SELECT title, format, checksum_type, filesize IS NOT NULL FROM raw.datagouv_resources "
                            "WHERE dataset_id = ? ORDER BY title", [DECP_ID]).fetchall()
    assert resources == [("decp.csv", "csv", "sha1", True), ("decp.parquet", "parquet", "sha1", True)]
    kept = dict(con.execute('SELECT "uid", vigie_match FROM raw.decp_contracts').fetchall())
    assert kept == KEPT
    assert con.execute("SELECT format FROM raw.decp_loads").fetchall() == [("parquet",)]  # parquet preferred
    # every published column is there, typed
    columns = {r[0] for r in con.execute("DESCRIBE raw.decp_contracts").fetchall()}
    assert {"uid", "idAccordCadre", "titulaire_typeIdentifiant", "donneesActuelles", "sourceFile"} <= columns
    tied = con.execute("SELECT uid, agreement_id, lot, match_method FROM mart.decp_contracts "
                       "WHERE agreement_id IS NOT NULL ORDER BY uid").fetchall()
    # DINUM ordering from OCTO in 2025 with no idAccordCadre: attributed by name, to review
    assert tied == [("11000000000011MS01", "acim-2026", 2, "id_accord_cadre"),
                    ("11000000000011MS02", "acim-2026", 2, "id_accord_cadre"),
                    ("12000000000012AC01", "acim-2021", None, "nom")]
    assert con.execute("SELECT uid, method FROM mart.decp_review").fetchall() == [("12000000000012AC01", "nom")]
    lot2 = con.execute("SELECT consumed_ht, decp_contracts FROM mart.lot_consumption "
                       "WHERE agreement_id = 'acim-2026' AND lot = 2").fetchone()
    amounts = {row[0]: row[5] for row in DECP_ROWS}  # the fixture's amounts of the contracts tied to lot 2
    lot2_uids = [uid for uid, _, lot, _ in tied if lot == 2]
    assert (float(lot2[0]), lot2[1]) == (sum(amounts[uid] for uid in lot2_uids), len(lot2_uids))


def test_an_unchanged_resource_is_not_downloaded_again(workspace, datagouv, cli):
    ingest(cli)
    assert datagouv.downloads("decp.parquet") == 1
    before = warehouse.table_fingerprints(connect(workspace / "data" / "vigie.duckdb"))
    code, out, _ = ingest(cli)
    assert code == 0 and "inchangés" in out
    assert datagouv.downloads("decp.parquet") == 1
    statuses = [r["status"] for r in datagouv.server.log if r["path"].startswith("/api/1/datasets/")][-3:]
    assert statuses == [304, 304, 304]
    assert warehouse.table_fingerprints(connect(workspace / "data" / "vigie.duckdb")) == before


def test_checksum_mismatch_is_refused_and_the_previous_file_kept(workspace, datagouv, cli):
    ingest(cli)
    local = workspace / "data" / "telechargements" / "decp" / "d1a2b3c4-0000-4000-8000-000000000001.parquet"
    original = local.read_bytes()
    datagouv.publish(parquet=original + b"\x00corrompu", checksum="0" * 40)
    code, out, err = ingest(cli)
    assert code == 1
    assert "empreinte sha1 différente" in err and "fichier précédent est conservé" in err
    assert "Ressource DECP « decp.parquet »" in err  # named by its title
    assert local.read_bytes() == original
    assert not local.with_name(local.name + ".part").exists()
    con = connect(workspace / "data" / "vigie.duckdb")
    assert dict(con.execute('SELECT "uid", vigie_match FROM raw.decp_contracts').fetchall()) == KEPT
    assert con.execute("SELECT last_status FROM meta.source_state WHERE source = 'datagouv'").fetchone() == ("echec",)


def test_an_interrupted_download_leaves_nothing_half_written_and_resumes(workspace, datagouv, cli, monkeypatch):
    (workspace / "vigie.toml").write_text("[http]\nattempts = 1\nbackoff_seconds = 0.01\n", encoding="utf-8")
    datagouv.grow(150_000)
    assert datagouv.parquet.stat().st_size > 4 * (1 << 18)
    datagouv.server.routes["/files/decp.parquet"].faults = ["truncate"]
    code, out, err = ingest(cli)
    assert code == 1 and "data.gouv.fr" in err
    folder = workspace / "data" / "telechargements" / "decp"
    assert not (folder / "d1a2b3c4-0000-4000-8000-000000000001.parquet").exists()
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT count(*) FROM raw.decp_contracts").fetchone()[0] == 0
    con.close()
    code, out, err = ingest(cli)  # the next run resumes where the last one stopped
    assert code == 0, err
    ranges = [r["headers"].get("Range") for r in datagouv.server.requests_to("/files/decp.parquet")]
    assert ranges[0] is None and ranges[-1] and ranges[-1].startswith("bytes=")
    assert (folder / "d1a2b3c4-0000-4000-8000-000000000001.parquet").read_bytes() == datagouv.parquet.read_bytes()
    assert dict(connect(workspace / "data" / "vigie.duckdb").execute(
        'SELECT "uid", vigie_match FROM raw.decp_contracts').fetchall()) == KEPT


def test_csv_when_no_parquet_is_published(workspace, datagouv, cli):
    datagouv.publish(with_parquet=False)
    code, out, err = ingest(cli)
    assert code == 0, err
    con = connect(workspace / "data" / "vigie.duckdb")
    assert dict(con.execute('SELECT "uid", vigie_match FROM raw.decp_contracts').fetchall()) == KEPT
    assert con.execute("SELECT format FROM raw.decp_loads").fetchall() == [("csv",)]


def test_a_new_agreement_code_refilters_without_downloading(workspace, datagouv, cli, monkeypatch, tmp_path):
    ingest(cli)
    extra = tmp_path / "accords"
    extra.mkdir()
    from tests.conftest import ROOT

    doc = (ROOT / "pipelines" / "agreements" / "ll-support.yaml").read_text(encoding="utf-8")
    (extra / "ll-support.yaml").write_text(doc.replace("codes: [ll-support,", "codes: [ll-support, 2024-AC-999,"),
                                           encoding="utf-8")
    monkeypatch.setenv("VIGIE_AGREEMENTS_DIR", str(extra))
    code, out, err = ingest(cli)
    assert code == 0, err
    assert datagouv.downloads("decp.parquet") == 1
    kept = dict(connect(workspace / "data" / "vigie.duckdb").execute(
        'SELECT "uid", vigie_match FROM raw.decp_contracts').fetchall())
    assert kept == {**KEPT, "14000000000014X002": "accord_cadre"}


def test_offline_mode_does_not_touch_the_network(workspace, datagouv, cli):
    code, out, _ = cli("ingest", "--source", "datagouv", "--offline")
    assert code == 0 and "hors ligne" in out
    assert datagouv.server.log == []


def test_dataset_ids_are_kept_in_the_documents(workspace, datagouv, cli):
    ingest(cli)
    con = connect(workspace / "data" / "vigie.duckdb")
    slug = con.execute("SELECT slug FROM raw.datagouv_datasets WHERE config_key = 'acim-2026'").fetchone()[0]
    assert slug == SLUG_2026


def test_a_dataset_of_a_shape_nobody_foresaw_is_that_source_s_recorded_failure(workspace, datagouv, cli):
    """The source runner turns any failure into the source's own, recorded, in French."""
    doc = json.loads(datagouv.server.routes[f"/api/1/datasets/{DECP_ID}/"].body)
    doc["resources"] = 5  # neither a list nor a link to pages
    datagouv.server.routes[f"/api/1/datasets/{DECP_ID}/"] = Route(json.dumps(doc).encode())
    code, _out, err = ingest(cli)
    assert code == 1
    assert "La source « datagouv » a échoué sur une erreur inattendue (TypeError" in err, err
    assert "Traceback" not in err
    status, error = connect(workspace / "data" / "vigie.duckdb").execute(
        "SELECT last_status, last_error FROM meta.source_state WHERE source = 'datagouv'").fetchone()
    assert status == "echec" and "erreur inattendue" in error
