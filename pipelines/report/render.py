"""The monthly compliance report: one HTML file that opens offline.

DSFR styles and Marianne fonts are inlined; plotly.js is copied beside the file; no other
host is ever referenced. Everything from the data is escaped by Jinja2 (autoescape), and
plotly escapes `<` inside chart data.
"""

from __future__ import annotations

import math
import shutil
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipelines import fr
from pipelines.config import PARIS
from pipelines.report import charts, figures

HERE = Path(__file__).parent
ASSETS = HERE / "assets"
PLOTLY_JS = "plotly.min.js"


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / PLOTLY_JS


# Columns where the time of day matters (a refresh at 06:30); elsewhere a date is a day.
TIMED_COLUMNS = {"Dernière actualisation réussie"}


def when(value: datetime, timed: bool = True) -> str:
    """'24/11/2026 à 09:00' where the time matters, '24/11/2026' otherwise (never « à 00:00 »)."""
    value = value.astimezone(PARIS) if value.tzinfo else value
    if not timed or (value.hour, value.minute) == (0, 0):
        return fr.day(value)
    return fr.moment(value)


COUNTING_COLUMNS = ("Année", "Lot", "Rang", "Rang dans le tourniquet", "Rang proposé")


def _cell(value, column: str):
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if column in COUNTING_COLUMNS and isinstance(value, int | float):
        return str(int(value))  # a year or a rank, not a quantity: no thousands separator
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if column == "Mois" and isinstance(value, date):
        return fr.month(value.year, value.month)
    if isinstance(value, datetime):
        return when(value, column in TIMED_COLUMNS)
    if isinstance(value, date):
        return fr.day(value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if column.startswith("Part") or column.startswith("Seuil d'"):
            return fr.percent(value)
        if "Montant" in column or column.endswith(" HT") or "HT " in column or column.startswith("dont "):
            return fr.money(value, 0)
        if float(value).is_integer():
            return fr.number(value)
        return fr.number(value, 1)
    return str(value)


# A report is read, not searched: long lists stop here and say how many more there are
# (all of them are in the warehouse, `vigie findings` and the notebooks).
MAX_ROWS = 200


def table(frame: pd.DataFrame, table_id: str, caption: str, hide: tuple[str, ...] = ("agreement_id",),
          max_rows: int | None = MAX_ROWS, detail: tuple[str, ...] = ()) -> dict:
    """A table for the template. Columns in `detail` (long texts: explanations, evidence) are
    not squeezed into a narrow column: they go in a full-width row under their row."""
    columns = [c for c in frame.columns if c not in hide and c not in detail]
    details = [c for c in detail if c in frame.columns]
    shown = frame if max_rows is None else frame.head(max_rows)
    raw = [list(r) for r in shown[columns].itertuples(index=False, name=None)]
    rows = [[_cell(v, c) for v, c in zip(r, columns, strict=True)] for r in raw]
    detail_rows = [[(c, _cell(v, c)) for v, c in zip(r, details, strict=True) if _cell(v, c) not in ("—", "")]
                   for r in shown[details].itertuples(index=False, name=None)] if details else []
    return {"id": table_id, "caption": caption, "columns": columns, "rows": rows, "raw": raw,
            "details": detail_rows, "more": max(0, len(frame) - len(shown)), "count": len(frame)}


class ChartSet:
    """Each chart with the id of the table that is its text alternative."""

    def __init__(self):
        self.count = 0

    def __call__(self, fig, table_id: str) -> dict:
        self.count += 1
        html = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"graphique-{self.count}",
                           config={"displayModeBar": False, "responsive": True, "locale": "fr"})
        title = fig.layout.title.text or ""
        return {"html": html, "table": table_id, "title": title, "id": f"graphique-{self.count}"}


SECTIONS = [
    ("synthese", "Synthèse"),
    ("constats", "Constats à traiter"),
    ("volume", "Volume par ministère"),
    ("startups", "Usage réservé aux Startups d'État"),
    ("refus", "Refus par titulaire, tourniquet et plafonds"),
    ("qualite", "Qualité des données"),
    ("accords", "Accords-cadres suivis"),
]
SEVERITY_LABELS = {"critique": "Critiques", "alerte": "Alertes", "info": "Pour information"}
SEVERITY_BADGES = {"critique": "error", "alerte": "warning", "info": "info"}


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) or value == "" else str(value)


def _finding_groups(frame: pd.DataFrame, titles: dict[str, str], prefix: str) -> list[dict]:
    """Findings grouped by severity then rule, each rule a table with its anchor."""
    groups = []
    for severity in figures.SEVERITIES:
        part = frame[frame["Gravité"] == severity]
        if part.empty:
            continue
        rules = []
        for rule, rows in part.groupby("Règle", sort=True):
            shown = rows[[c for c in ("Date", "Objet", "Accord-cadre", "Montant HT", "Vu le", "Revu par", "Revu le")
                          if c in rows.columns]]
            rules.append({
                "rule": rule, "title": titles.get(rule, rule), "anchor": f"{prefix}-{severity}-{rule}",
                "count": len(rows), "columns": list(shown.columns),
                "rows": [{"id": r["Constat"], "new": bool(r.get("Nouveau", False)),
                          "cells": [_cell(r[c], c) for c in shown.columns],
                          "explanation": r["Explication"], "contact": _text(r.get("Écrire à")),
                          "reason": _text(r.get("Motif")), "history": _text(r.get("Historique"))} for _, r in rows.iterrows()],
            })
        groups.append({"severity": severity, "label": SEVERITY_LABELS[severity], "badge": SEVERITY_BADGES[severity],
                       "count": len(part), "rules": rules})
    return groups


def _grid(frame: pd.DataFrame, titles: dict[str, str]) -> list[dict]:
    return [{"rule": r["Règle"], "title": titles.get(r["Règle"], r["Règle"]),
             "cells": [{"severity": s, "count": int(r[s]), "anchor": f"constats-{s}-{r['Règle']}"}
                       for s in figures.SEVERITIES]} for _, r in frame.iterrows()]


def build_context(con, settings, month_key: str, agreement_id: str | None = None) -> dict:
    """Everything the template shows, section by section. Charts are numbered in the order they are drawn."""
    month = figures.Month.parse(month_key)
    chart = ChartSet()
    data = _figures(con, settings, month, agreement_id)
    return {
        **_heading(settings, month, agreement_id),
        "coverage": figures.month_coverage(con, month),
        "findings": _findings(data, month),
        **_synthesis(con, month, agreement_id, data),
        "charts": _charts(chart, con, month, data),
        "tables": {**_volume_tables(month, data), **_control_tables(con, agreement_id, data),
                   **_quality_tables(con, data)},
        "chart_count": chart.count,
        "quarantine_count": len(data["quarantine"]),
    }


def _figures(con, settings, month: figures.Month, agreement_id: str | None) -> dict:
    """The frames more than one section draws from, narrowed to one agreement when asked."""
    data = {
        "titles": figures.rule_titles(),
        "open_findings": figures.open_findings(con, month, agreement_id),
        "reviewed": figures.reviewed_findings(con, month, agreement_id),
        "set_aside": figures.set_aside_orders(con, agreement_id, month),
        "by_agreement": figures.orders_by_agreement(con, month),
    }
    if agreement_id:
        data["by_agreement"] = data["by_agreement"][data["by_agreement"]["agreement_id"] == agreement_id]
    data |= {
        "severities": figures.findings_by_severity(con, month),
        "volume_ministry": figures.volume(con, month, "ministere", agreement_id),
        "volume_buyer": figures.volume(con, month, "beneficiaire", agreement_id),
        "volume_holder": figures.volume(con, month, "titulaire", agreement_id),
        "trend": figures.trend(con, month, 12, agreement_id),
        "share": figures.startup_share(con, month),
        "startup_findings": figures.startup_findings(con),
        "refusals": figures.refusals(con, agreement_id),
        "lots": figures.lot_consumption(con),
        "sources": figures.sources(con, settings),
        "validation": figures.validation_summary(con),
        "agreements": figures.agreements(con),
    }
    if agreement_id:
        for key in ("agreements", "share", "lots"):
            data[key] = data[key][data[key]["agreement_id"] == agreement_id]
    sources = data["sources"]
    data["stale"] = sources[sources["Périmée"] == "oui"]["Source"].tolist() if not sources.empty else []
    data["quarantine"] = figures.quarantine(con)
    return data


def _heading(settings, month: figures.Month, agreement_id: str | None) -> dict:
    """The title block and the table of contents."""
    return {
        "month": month, "month_label": month.label, "previous_label": month.previous.label,
        "month_of_label": month.of_label, "month_status": month.status(settings.now().date()),
        "today": fr.long_day(settings.now()),
        "generated": when(settings.now()), "generated_long": fr.long_day(settings.now()),
        "agreement_filter": agreement_id,
        "sections": [{"id": i, "number": n, "title": t} for n, (i, t) in enumerate(SECTIONS, start=1)],
    }


def _findings(data: dict, month: figures.Month) -> dict:
    """Section « Constats à traiter »."""
    open_findings, reviewed, titles = data["open_findings"], data["reviewed"], data["titles"]
    return {
        "open": _finding_groups(open_findings, titles, "constats"),
        "reviewed": _finding_groups(reviewed, titles, "revus"),
        "open_count": len(open_findings), "reviewed_count": len(reviewed),
        "new_count": int(open_findings["Nouveau"].sum()) if not open_findings.empty else 0,
        "grid": _grid(figures.findings_grid(open_findings), titles),
        "since": fr.long_day(month.start),
    }


def _synthesis(con, month: figures.Month, agreement_id: str | None, data: dict) -> dict:
    """Section « Synthèse » (with the amounts set aside) and the agreements followed."""
    set_aside, agreements = data["set_aside"], data["agreements"]
    return {
        "set_aside": table(set_aside, "tableau-montants-ecartes", "Commandes écartées des totaux (montant atypique)",
                           max_rows=None, detail=("Pourquoi",)),
        "set_aside_total": fr.money(set_aside["Montant HT écarté"].sum(), 0) if not set_aside.empty else None,
        "set_aside_periods": figures.set_aside_periods(set_aside, month),
        "credit_notes": figures.credit_notes(con, month, agreement_id),
        "agreements": table(agreements[["agreement_id", "short_title", "title", "period_start", "period_end",
                                        "holders", "orders", "Lignes non comptées", "Non publié"]].rename(columns={
            "short_title": "Accord-cadre", "title": "Intitulé", "period_start": "Début", "period_end": "Fin",
            "holders": "Titulaires", "orders": "Commandes reçues", "Non publié": "Ce qui n'est pas publié"}),
            "tableau-accords", "Accords-cadres suivis"),
        "totals": [{"id": r["agreement_id"], "title": r["Accord-cadre"], "orders": int(r["Commandes du mois"]),
                    "amount": fr.money(r["Montant HT du mois"], 0), "ytd_orders": int(r["Commandes depuis janvier"]),
                    "ytd_amount": fr.money(r["Montant HT depuis janvier"], 0)}
                   for _, r in data["by_agreement"].iterrows()],
        "severity_counts": {r["Gravité"]: int(r["Constats ouverts"]) for _, r in data["severities"].iterrows()},
        "changes": figures.changes(con, month),
        "stale": data["stale"],
    }


def _charts(chart: ChartSet, con, month: figures.Month, data: dict) -> dict:
    """Every chart, in the order of the sections (which numbers them)."""
    label = month.label
    return {
        "month": chart(charts.month_vs_previous(
            data["by_agreement"], label, month.previous.label,
            figures.credit_notes_by_agreement(con, month.start, month.end),
            figures.credit_notes_by_agreement(con, month.previous.start, month.start)), "tableau-synthese"),
        "severities": chart(charts.severities(data["severities"]), "tableau-gravites"),
        "ministry": chart(charts.volume_bars(data["volume_ministry"], "Ministère", f"Montant HT par ministère, {label}"),
                          "tableau-ministeres"),
        "trend": chart(charts.trend_lines(data["trend"], "Montant HT par mois et par accord-cadre (12 derniers mois)"),
                       "tableau-tendance"),
        "buyer": chart(charts.volume_bars(data["volume_buyer"], "Bénéficiaire",
                                          f"Montant HT par bénéficiaire, {label}"), "tableau-beneficiaires"),
        "holder": chart(charts.volume_bars(data["volume_holder"], "Titulaire", f"Montant HT par titulaire, {label}"),
                        "tableau-titulaires"),
        "share": chart(charts.startup_share(data["share"]), "tableau-part-startups"),
        "refusals": chart(charts.refusals(data["refusals"]), "tableau-refus"),
        "lots": chart(charts.lot_consumption(data["lots"]), "tableau-plafonds"),
        "sources": chart(charts.source_ages(data["sources"]), "tableau-sources"),
        "validation": chart(charts.validation(data["validation"]), "tableau-validation"),
    }


def _volume_tables(month: figures.Month, data: dict) -> dict:
    """Sections « Synthèse », « Volume par ministère » and « Usage réservé aux Startups d'État »."""
    label = month.label
    return {
        "by_agreement": table(data["by_agreement"], "tableau-synthese", f"Commandes et montants HT, {label}"),
        "severities": table(data["severities"], "tableau-gravites", "Constats ouverts par gravité"),
        "ministry": table(data["volume_ministry"], "tableau-ministeres", f"Commandes par ministère, {label}"),
        "trend": table(data["trend"], "tableau-tendance", "Commandes par mois"),
        "buyer": table(data["volume_buyer"], "tableau-beneficiaires", f"Commandes par bénéficiaire, {label}"),
        "holder": table(data["volume_holder"], "tableau-titulaires", f"Commandes par titulaire, {label}"),
        "share": table(data["share"], "tableau-part-startups", "Part des montants allant à des Startups d'État listées"),
        "startup_findings": table(data["startup_findings"], "tableau-hors-startups",
                                  "Commandes qui ne servent pas une Startup d'État éligible",
                                  detail=("Constat", "Explication", "Preuve", "Provenance")),
    }


def _control_tables(con, agreement_id: str | None, data: dict) -> dict:
    """Section « Refus par titulaire, tourniquet et plafonds »."""
    return {
        "refusals": table(data["refusals"], "tableau-refus", "Refus et désistements par titulaire",
                          detail=("Écrire à",)),
        "reasons": table(figures.refusal_reasons(con, agreement_id), "tableau-justifications",
                         "Justifications des refus et désistements"),
        "tourniquet_summary": table(figures.tourniquet_summary(con), "tableau-tourniquet-synthese",
                                    "Respect du tourniquet"),
        "tourniquet": table(figures.tourniquet(con), "tableau-tourniquet", "Sollicitations ou attributions hors tour",
                            detail=("Explication",)),
        "lots": table(data["lots"], "tableau-plafonds", "Consommation du montant maximum des lots"),
        "contacts": table(figures.holder_contacts(con), "tableau-contacts", "Titulaires et à qui écrire"),
    }


def _quality_tables(con, data: dict) -> dict:
    """Section « Qualité des données »."""
    return {
        "sources": table(data["sources"], "tableau-sources", "Sources et fraîcheur des données"),
        "validation": table(data["validation"], "tableau-validation", "Validation Great Expectations, par table"),
        "validation_failures": table(figures.validation_failures(con), "tableau-validation-echecs",
                                     "Attentes en échec", detail=("Ce que protège l'attente", "Exemples")),
        "quarantine": table(data["quarantine"], "tableau-quarantaine", "Lignes en quarantaine", detail=("Raison",)),
        "files": table(figures.inbox_files(con), "tableau-fichiers", "Fichiers de la boîte de dépôt", max_rows=300,
                       detail=("Remarque",)),
        "review": table(figures.resolution_review(con), "tableau-revue", "Valeurs à revoir (rapprochement)",
                        detail=("Pourquoi la revoir",)),
        "decp_problems": table(figures.decp_read_problems(con), "tableau-decp-lecture",
                               "Valeurs du fichier DECP que Vigie n'a pas pu lire (dernier chargement)"),
        "decp_review": table(figures.decp_review(con), "tableau-decp-revue",
                             "Contrats DECP attribués par le nom ou le SIREN, à revoir", detail=("Objet",)),
        "betagouv_quarantine": table(figures.betagouv_quarantine(con), "tableau-phases-ecartees",
                                     "Phases beta.gouv.fr mises de côté (date impossible)", detail=("Raison",)),
        "decp": table(figures.decp_beside_orders(con), "tableau-decp",
                      "Commandes de la boîte de dépôt et contrats publiés dans DECP"),
    }


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = lambda v: fr.money(v, 0)
    env.filters["nombre"] = fr.number
    env.filters["pluriel"] = lambda n, singular, plural=None: fr.plural(int(n), singular, plural)
    return env


def render(con, settings, month_key: str, output_dir: Path, agreement_id: str | None = None) -> Path:
    context = build_context(con, settings, month_key, agreement_id)
    context["css"] = (ASSETS / "dsfr.min.css").read_text(encoding="utf-8") + "\n" + \
        (HERE / "templates" / "report.css").read_text(encoding="utf-8")
    html = environment().get_template("report.html.j2").render(**context)
    output_dir.mkdir(parents=True, exist_ok=True)
    suffix = f"_{agreement_id}" if agreement_id else ""
    target = output_dir / f"rapport_conformite_{month_key}{suffix}.html"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    js = output_dir / PLOTLY_JS
    if not js.exists() or js.stat().st_size != _plotly_js().stat().st_size:
        shutil.copyfile(_plotly_js(), js)
    return target
