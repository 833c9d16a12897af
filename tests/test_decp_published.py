"""DECP as published: the resource chosen by id, title, then columns and named by its
title; values that do not cast, impossible dates and mojibake counted per load. Files are
synthetic, in the published columns, with the value forms real files carry (issue #19)."""

import json

import duckdb
import pytest

from tests.conftest import connect
from tests.datagouv_fixture import DECP_ID, dataset, resource
from tests.servers import Route

HEADER = "uid,acheteur_id,acheteur_nom,titulaire_id,titulaire_nom,montant,dateNotification,idAccordCadre,objet\n"
# (uid, buyer, holder, amount, date as published, idAccordCadre) — every row names ACIM 2026
ROWS = [
    ("Q1", "MINISTERE DE L'INTERIEUR", "THEODO", "350000", "2026-05-12+02:00", "25_BAM_044_AC02"),
    ("Q2", "MINISTERE DE L'INTERIEUR", "DOCAPOSTE", "120000", "2026-06-03T09:00:00Z", "25BAM044"),
    ("Q3", "MINISTERE DE L'INTERIEUR", "THEODO", "douze mille", "2026-07-01 00:00:00", "25_BAM_044_AC02"),
    ("Q4", "MinistÃ¨re de l'IntÃ©rieur", "THEODO", "1000", "0218-05-01", "25_BAM_044_AC02"),
    ("Q5", "MINISTERE DE L'INTERIEUR", "THEODO", "1000", "218-05-01", "25_BAM_044_AC02"),
    ("Q6", "COMMUNE DE TRIFOUILLIS", "ENTREPRISE X", "1000", "2026-01-02", ""),
]


def _csv() -> bytes:
    lines = [f'{u},1100000000001{i},"{b}",2200000000002{i},{h},{m},{d},{f},Objet {u}' for i, (u, b, h, m, d, f)
             in enumerate(ROWS)]
    return (HEADER + "\n".join(lines) + "\n").encode("utf-8")


def test_date_forms_real_files_carry_and_what_could_not_be_read(workspace, datagouv, cli):
    datagouv.publish(csv=_csv(), with_parquet=False)
    code, out, err = cli("ingest", "--source", "datagouv")
    assert code == 0, err
    assert f"DECP (« decp.csv ») : {len(ROWS)} ligne(s) lue(s), 5 contrat(s) retenu(s)" in out
    assert "valeurs non lues" in out
    con = connect(workspace / "data" / "vigie.duckdb")
    dates = dict(con.execute('SELECT uid, CAST("dateNotification" AS VARCHAR) FROM raw.decp_contracts').fetchall())
    assert dates == {"Q1": "2026-05-12", "Q2": "2026-06-03", "Q3": "2026-07-01", "Q4": None, "Q5": None}
    quality = {(c, p): (n, e) for c, p, n, e in con.execute(
        "SELECT column_name, problem, values_count, example FROM stg.decp__load_quality").fetchall()}
    assert quality == {
        ("dateNotification", "date_impossible"): (1, "0218-05-01"),
        ("dateNotification", "conversion"): (1, "218-05-01"),
        ("montant", "conversion"): (1, "douze mille"),
        ("acheteur_nom", "mojibake"): (1, "MinistÃ¨re de l'IntÃ©rieur"),
    }
    assert con.execute("SELECT DISTINCT rows_read, rows_kept, rows_dropped, resource_title FROM stg.decp__load_quality"
                       ).fetchall() == [(len(ROWS), 5, 1, "decp.csv")]
    con.close()
    code, out, err = cli("status")
    assert "DECP : ressource « decp.csv »" in out
    assert "montant : 1 valeur(s) illisible(s) (NULL) — ex. « douze mille »" in out
    assert "dateNotification : 1 date(s) impossible(s) (NULL) — ex. « 0218-05-01 »" in out


def _stats_parquet(path) -> bytes:
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 'aife' AS source, 12 AS doublons) TO '{path}' (FORMAT parquet)")
    con.close()
    return path.read_bytes()


def _publish(datagouv, tmp_path, with_contracts: bool):
    base = datagouv.server.url
    stats = _stats_parquet(tmp_path / "stats.parquet")
    datagouv.server.routes["/files/stats.parquet"] = Route(stats, "application/vnd.apache.parquet", etag=False)
    items = [resource("5a5a5a5a-0000-4000-8000-00000000dead", "statistiques_doublons_sources.parquet", "parquet",
                      f"{base}/files/stats.parquet", stats, "application/vnd.apache.parquet")]
    if with_contracts:
        items.append(resource("d1a2b3c4-0000-4000-8000-000000000001", "DECP consolidées (parquet)", "parquet",
                              f"{base}/files/decp.parquet", datagouv.parquet.read_bytes(),
                              "application/vnd.apache.parquet"))
    doc = dataset(DECP_ID, "decp", "Données essentielles de la commande publique", items)
    datagouv.server.routes[f"/api/1/datasets/{DECP_ID}/"] = Route(json.dumps(doc).encode())


def test_a_second_parquet_is_refused_by_its_columns_and_the_contracts_found(workspace, datagouv, cli, tmp_path):
    _publish(datagouv, tmp_path, with_contracts=True)
    code, out, err = cli("ingest", "--source", "datagouv")
    assert code == 0, err
    assert "DECP (« DECP consolidées (parquet) »)" in out
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT resource_title FROM raw.decp_loads").fetchall() == [("DECP consolidées (parquet)",)]


def test_no_contracts_file_names_the_resource_by_its_title_not_the_format(workspace, datagouv, cli, tmp_path):
    _publish(datagouv, tmp_path, with_contracts=False)
    code, out, err = cli("ingest", "--source", "datagouv")
    assert code == 1
    assert "« statistiques_doublons_sources.parquet »" in err and "colonnes" in err and "absentes" in err
    assert "format" not in err.replace("decp_resources", "")
    assert "5a5a5a5a-0000-4000-8000-00000000dead" not in err  # a title, never a uuid alone


@pytest.mark.parametrize("ids, titles, expected", [
    (["r2"], ["decp.parquet"], ["r2", "r1", "r3"]),
    ([], ["decp.csv"], ["r3", "r1", "r2"]),
    ([], [], ["r1", "r2", "r3"]),
])
def test_resource_ranking(ids, titles, expected):
    from pipelines.sources.datagouv import rank_resources

    resources = [{"resource_id": "r1", "title": "decp.parquet", "format": "parquet"},
                 {"resource_id": "r2", "title": "statistiques.parquet", "format": "parquet"},
                 {"resource_id": "r3", "title": "decp.csv", "format": "csv"},
                 {"resource_id": "r4", "title": "notice.pdf", "format": "pdf"}]
    assert [r["resource_id"] for r in rank_resources(resources, ids, titles)] == expected
