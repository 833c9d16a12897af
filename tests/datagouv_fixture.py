"""A loopback data.gouv.fr: dataset documents shaped like the API's `/api/1/datasets/{id}/`
answers, and small DECP files in the published columns (pipelines/reference/decp_schema.json).

No real data.gouv.fr payload could be recorded offline: the documents follow the fields
the API documents (id, slug, title, organization, resources[] with id, title, format,
url, filesize, mime, last_modified, checksum{type, value}). DECP values are synthetic.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from pipelines.sources.datagouv import decp_columns
from tests.servers import LoopbackServer, Route

SLUG_2021 = "realisation-de-services-publics-numeriques-en-mode-produit-coordonnes-par-le-programme-interministeriel-beta-gouv"
SLUG_2026 = "accord-cadre-interministeriel-realisation-de-services-publics-numeriques-en-mode-produit-agile-pilote-par-limpact"
DECP_ID = "608c055b35eb4e6ee20eb325"

# (uid, acheteur_id, acheteur_nom, titulaire_id, titulaire_nom, montant, dateNotification, idAccordCadre, objet)
DECP_ROWS = [
    ("11000000000011MS01", "11000000000011", "MINISTERE DE L'INTERIEUR", "22000000000022", "THEODO",
     350000.0, "2026-05-12", "25_BAM_044_AC02", "Marché subséquent : produit numérique"),
    ("11000000000011MS02", "11000000000011", "MINISTERE DE L'INTERIEUR", "33000000000033", "DOCAPOSTE",
     120000.0, "2026-06-03", "25BAM044", "Marché subséquent : maintenance"),
    ("12000000000012AC01", "12000000000012", "DIRECTION INTERMINISTERIELLE DU NUMERIQUE", "44000000000044",
     "OCTO TECHNOLOGY", 80000.0, "2025-02-10", None, "Prestations agiles hors accord-cadre"),
    ("13000000000013X001", "13000000000013", "COMMUNE DE TRIFOUILLIS", "44000000000044", "OCTO TECHNOLOGY",
     50000.0, "2025-03-01", None, "Site de la commune"),
    ("14000000000014X002", "14000000000014", "DEPARTEMENT DU NORD", "55000000000055", "ENTREPRISE GENERALE",
     900000.0, "2025-04-01", "2024-AC-999", "Travaux de voirie"),
]
KEPT = {"11000000000011MS01": "accord_cadre", "11000000000011MS02": "accord_cadre",
        "12000000000012AC01": "titulaire_beneficiaire"}


def write_decp(folder: Path, rows=DECP_ROWS, noise: int = 200) -> tuple[Path, Path]:
    """decp.parquet and decp.csv with every published column, `noise` extra rows."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    columns = decp_columns()
    con.execute("CREATE TABLE decp (" + ", ".join(f'"{n}" {t}' for n, t in columns) + ")")
    for uid, buyer, buyer_name, holder, holder_name, amount, notified, framework, subject in rows:
        con.execute(
            'INSERT INTO decp ("uid", "id", "acheteur_id", "acheteur_nom", "titulaire_id", "titulaire_typeIdentifiant", '
            '"titulaire_nom", "montant", "dateNotification", "idAccordCadre", "objet", "donneesActuelles", "nature") '
            "VALUES (?, ?, ?, ?, ?, 'SIRET', ?, ?, ?, ?, ?, TRUE, 'Marché')",
            [uid, uid[14:], buyer, buyer_name, holder, holder_name, amount, notified, framework, subject])
    con.execute(
        'INSERT INTO decp ("uid", "acheteur_id", "acheteur_nom", "titulaire_id", "titulaire_typeIdentifiant", '
        '"titulaire_nom", "montant", "dateNotification", "donneesActuelles") '
        "SELECT '9' || lpad(i::VARCHAR, 13, '0') || 'N', '9' || lpad(i::VARCHAR, 13, '0'), 'ACHETEUR ' || i, "
        "'8' || lpad(i::VARCHAR, 13, '0'), 'SIRET', 'TITULAIRE ' || i, 1000 + i, DATE '2024-01-01' + i::INTEGER, TRUE "
        "FROM range(?) t(i)", [noise])
    parquet, csv = folder / "decp.parquet", folder / "decp.csv"
    con.execute(f"COPY decp TO '{parquet}' (FORMAT parquet)")
    con.execute(f"COPY decp TO '{csv}' (HEADER, DELIMITER ',')")
    con.close()
    return parquet, csv


def dataset(dataset_id: str, slug: str, title: str, resources: list[dict]) -> dict:
    return {
        "id": dataset_id, "slug": slug, "title": title, "acronym": None, "archived": None, "private": False,
        "created_at": "2021-10-01T10:00:00+00:00", "last_modified": "2026-11-20T06:00:00+00:00",
        "last_update": "2026-11-20T06:00:00+00:00", "frequency": "daily", "license": "lov2",
        "description": title, "deleted": None, "tags": ["commande-publique"],
        "organization": {"id": "534fff75a3a7292c64a77de4", "name": "Direction interministérielle du numérique",
                         "slug": "direction-interministerielle-du-numerique"},
        "page": f"https://www.data.gouv.fr/fr/datasets/{slug}/", "uri": f"https://www.data.gouv.fr/api/1/datasets/{slug}/",
        "resources": resources,
    }


def resource(resource_id: str, title: str, fmt: str, url: str, body: bytes | None, mime: str) -> dict:
    return {
        "id": resource_id, "title": title, "format": fmt, "url": url, "latest": url, "type": "main",
        "filetype": "file", "mime": mime, "filesize": len(body) if body is not None else None,
        "last_modified": "2026-11-20T05:00:00+00:00", "created_at": "2021-10-01T10:00:00+00:00",
        "checksum": {"type": "sha1", "value": hashlib.sha1(body).hexdigest()} if body is not None else None,
        "description": "", "extras": {}, "harvest": None, "metrics": {"views": 0}, "preview_url": None, "schema": {},
    }


class DataGouv:
    """The server and the knobs tests turn."""

    def __init__(self, folder: Path, noise: int = 200, files: tuple[Path, Path] | None = None):
        """files: (parquet, csv) to publish instead of small generated ones (the benchmarks')."""
        self.folder = folder
        self.server = LoopbackServer().start()
        self.parquet, self.csv = files or write_decp(folder, noise=noise)
        self.publish()

    def grow(self, noise: int) -> None:
        """Republish bigger files (several read chunks), same rows of interest."""
        self.parquet, self.csv = write_decp(self.folder, noise=noise)
        self.publish()

    @property
    def api(self) -> str:
        return self.server.url + "/api/1"

    def publish(self, parquet: bytes | None = None, csv: bytes | None = None, checksum: str | None = None,
                with_parquet: bool = True) -> None:
        parquet = self.parquet.read_bytes() if parquet is None else parquet
        csv = self.csv.read_bytes() if csv is None else csv
        base = self.server.url
        self.server.routes["/files/decp.parquet"] = Route(parquet, "application/vnd.apache.parquet", etag=False)
        self.server.routes["/files/decp.csv"] = Route(csv, "text/csv", etag=False)
        decp_resources = []
        if with_parquet:
            r = resource("d1a2b3c4-0000-4000-8000-000000000001", "decp.parquet", "parquet", f"{base}/files/decp.parquet",
                         parquet, "application/vnd.apache.parquet")
            if checksum:
                r["checksum"]["value"] = checksum
            decp_resources.append(r)
        decp_resources.append(resource("d1a2b3c4-0000-4000-8000-000000000002", "decp.csv", "csv",
                                       f"{base}/files/decp.csv", csv, "text/csv"))
        documents = {
            SLUG_2021: dataset("61a0000000000000000002021", SLUG_2021, "Marché interministériel beta (2021)", [
                resource("a0000000-0000-4000-8000-000000002021", "CCTP", "pdf", f"{base}/files/cctp-2021.pdf", None,
                         "application/pdf")]),
            SLUG_2026: dataset("67b0000000000000000002026", SLUG_2026, "Accord-cadre 25_BAM_044 (2026)", [
                resource("a0000000-0000-4000-8000-000000002026", "CCAP 25_BAM_044", "pdf", f"{base}/files/ccap-2026.pdf",
                         None, "application/pdf")]),
            DECP_ID: dataset(DECP_ID, "donnees-essentielles-de-la-commande-publique-fichiers-consolides",
                             "Données essentielles de la commande publique - fichiers consolidés", decp_resources),
        }
        for key, doc in documents.items():
            self.server.routes[f"/api/1/datasets/{key}/"] = Route(json.dumps(doc).encode())

    def downloads(self, name: str) -> int:
        return len([r for r in self.server.requests_to(f"/files/{name}") if r["status"] in (200, 206)])

    def stop(self):
        self.server.stop()
