"""Plotly charts of the report and notebooks, built from the frames of `figures`.

French number formats (decimal comma, thin space for thousands), DSFR colours.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from pipelines import fr

# DSFR illustrative palette (blue France, then "couleurs illustratives")
PALETTE = ["#000091", "#E1000F", "#009081", "#C3992A", "#6A6AF4", "#A558A0", "#E4794A", "#417DC4"]
SEVERITY_COLOURS = {"critique": "#CE0500", "alerte": "#B34000", "info": "#0063CB"}


SHORT_MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]


def short_month(value) -> str:
    """date(2026, 7, 1) -> 'juil. 2026' (axis labels)."""
    return f"{SHORT_MONTHS[value.month - 1]} {value.year}"


def money_tick(value: float) -> str:
    """Axis labels in French: '150 M€', '500 k€', '2,5 M€', '0 €'."""
    size = abs(value)
    number, unit = (value / 1e6, "M€") if size >= 1e6 else ((value / 1e3, "k€") if size >= 1e3 else (value, "€"))
    return f"{fr.number(number, 0 if float(round(number, 6)).is_integer() else 1)}{fr.NBSP}{unit}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values from min(low, 0) to at least high."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if high - low <= 0:
        return [0.0]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = [first]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(ticks[-1] + step)
    return ticks


def money_axis(fig: go.Figure, values, axis: str = "y") -> go.Figure:
    """Amount axis with French ticks (plotly's own would read '150M €')."""
    series = pd.to_numeric(pd.Series(list(values)), errors="coerce").dropna()
    if series.empty:
        return fig
    ticks = nice_ticks(series.min(), series.max())
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(tickmode="array", tickvals=ticks, ticktext=[money_tick(t) for t in ticks], range=[ticks[0], ticks[-1]])
    return fig


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 16}},
        separators=", ",  # decimal comma, space for thousands
        font={"family": "Marianne, arial, sans-serif", "size": 13, "color": "#161616"},
        paper_bgcolor="white", plot_bgcolor="white", height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10}, legend={"orientation": "h", "y": -0.15},
        colorway=PALETTE,
    )
    fig.update_xaxes(gridcolor="#EEEEEE", automargin=True)
    fig.update_yaxes(gridcolor="#EEEEEE", automargin=True)
    return fig


def _empty(title: str, text: str = "Aucune donnée pour cette période.") -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, 200)


def month_vs_previous(frame: pd.DataFrame, month_label: str, previous_label: str,
                      notes: dict | None = None, previous_notes: dict | None = None) -> go.Figure:
    """Amounts ordered, credit notes apart (`notes`: agreement_id -> (count, HT)): a credit note
    alone in a month is no negative order bar; the hover says it."""
    title = f"Montant HT commandé (hors avoirs) : {month_label} et {previous_label}"
    if frame.empty:
        return _empty(title)

    def gross(column: str, by: dict | None) -> tuple[list[float], list[str]]:
        values, texts = [], []
        for agreement, amount in zip(frame["agreement_id"], frame[column], strict=True):
            n, ht = (by or {}).get(agreement, (0, 0.0))
            values.append(float(amount) - ht)
            texts.append(f" ; et {fr.plural(n, 'avoir')} de {fr.money(ht, 0)} HT" if n else "")
        return values, texts

    before, before_text = gross("Montant HT du mois précédent", previous_notes)
    now, now_text = gross("Montant HT du mois", notes)
    fig = go.Figure([
        go.Bar(name=previous_label, x=frame["Accord-cadre"], y=before, customdata=before_text,
               marker_color="#CACAFB",
               hovertemplate="%{x}<br>%{y:,.0f} € HT%{customdata}<extra>" + previous_label + "</extra>"),
        go.Bar(name=month_label, x=frame["Accord-cadre"], y=now, customdata=now_text, marker_color="#000091",
               hovertemplate="%{x}<br>%{y:,.0f} € HT%{customdata}<extra>" + month_label + "</extra>"),
    ])
    fig.update_layout(barmode="group")
    money_axis(fig, [*before, *now])
    return _layout(fig, title)


def severities(frame: pd.DataFrame) -> go.Figure:
    title = "Constats ouverts par gravité"
    if frame.empty:
        return _empty(title, "Aucun constat ouvert.")
    fig = go.Figure(go.Bar(
        x=frame["Gravité"], y=frame["Constats ouverts"],
        marker_color=[SEVERITY_COLOURS.get(s, "#666") for s in frame["Gravité"]],
        customdata=[fr.plural(int(n), "constat") for n in frame["Constats ouverts"]],
        hovertemplate="%{x} : %{customdata}<extra></extra>"))
    return _layout(fig, title, 300)


def volume_bars(frame: pd.DataFrame, dimension: str, title: str) -> go.Figure:
    if frame.empty:
        return _empty(title)
    fig = go.Figure()
    for i, (agreement, part) in enumerate(frame.groupby("Accord-cadre", sort=True)):
        part = part.sort_values("Montant HT")
        fig.add_bar(name=agreement, y=part[dimension], x=part["Montant HT"], orientation="h",
                    marker_color=PALETTE[i % len(PALETTE)],
                    customdata=[fr.plural(int(n), "commande") for n in part["Commandes"]],
                    hovertemplate="%{y}<br>%{x:,.0f} € HT (%{customdata})<extra>" + agreement + "</extra>")
    fig.update_layout(barmode="group")
    money_axis(fig, frame["Montant HT"], "x")
    return _layout(fig, title, max(300, 40 * frame[dimension].nunique() + 120))


def trend_lines(frame: pd.DataFrame, title: str) -> go.Figure:
    if frame.empty:
        return _empty(title)
    fig = go.Figure()
    for i, (agreement, part) in enumerate(frame.groupby("Accord-cadre", sort=True)):
        fig.add_scatter(name=agreement, x=[short_month(m) for m in part["Mois"]], y=part["Montant HT"],
                        mode="lines+markers", line={"color": PALETTE[i % len(PALETTE)]},
                        hovertemplate="%{x}<br>%{y:,.0f} € HT<extra>" + agreement + "</extra>")
    money_axis(fig, frame["Montant HT"])
    fig.update_xaxes(type="category")
    return _layout(fig, title)


def startup_share(frame: pd.DataFrame) -> go.Figure:
    title = "Part des montants HT cumulés allant à des Startups d'État listées"
    if frame.empty:
        return _empty(title)
    total = frame["Montant HT cumulé"].where(frame["Montant HT cumulé"] != 0)
    listed = frame["dont Startups d'État listées (cumul)"]
    other = frame["Montant HT cumulé"] - listed
    fig = go.Figure([
        go.Bar(name="Startups d'État listées", x=frame["Accord-cadre"], y=100 * listed / total, marker_color="#009081",
               customdata=listed, hovertemplate="%{x}<br>%{y:,.1f} % (%{customdata:,.0f} € HT)<extra></extra>"),
        go.Bar(name="Hors Startups d'État (à vérifier)", x=frame["Accord-cadre"], y=100 * other / total,
               marker_color="#CE0500", customdata=other,
               hovertemplate="%{x}<br>%{y:,.1f} % (%{customdata:,.0f} € HT)<extra></extra>"),
    ])
    fig.update_layout(barmode="stack")
    fig.update_yaxes(ticksuffix="\u00a0%", range=[0, 100])
    return _layout(fig, title)


def refusals(frame: pd.DataFrame) -> go.Figure:
    title = "Refus et désistements par titulaire (seuil : 10 sur toute la durée de l'accord-cadre)"
    if frame.empty:
        return _empty(title, "Aucune sollicitation enregistrée.")
    labels = frame["Titulaire"] + " (" + frame["Accord-cadre"] + ")"
    fig = go.Figure([
        go.Bar(name="Refus", y=labels, x=frame["Refus"], orientation="h", marker_color="#E1000F",
               hovertemplate="%{y}<br>%{x} refus<extra></extra>"),
        go.Bar(name="Désistements", y=labels, x=frame["Désistements"], orientation="h", marker_color="#E4794A",
               customdata=[fr.plural(int(n), "désistement") for n in frame["Désistements"]],
               hovertemplate="%{y}<br>%{customdata}<extra></extra>"),
    ])
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    threshold = int(frame["Seuil"].dropna().max()) if frame["Seuil"].notna().any() else 10
    fig.add_vline(x=threshold, line_dash="dash", line_color="#161616",
                  annotation_text=f"seuil de {threshold}", annotation_position="top right")
    return _layout(fig, title, max(320, 45 * len(frame) + 140))


def lot_consumption(frame: pd.DataFrame) -> go.Figure:
    title = "Consommation du montant maximum de chaque lot"
    known = frame[frame["Maximum HT"].notna()] if not frame.empty else frame
    if known.empty:
        return _empty(title, "Aucun lot dont le montant maximum est publié.")
    labels = known["Accord-cadre"] + " — lot " + known["Lot"].astype(str)
    fig = go.Figure(go.Bar(x=labels, y=known["Part consommée"] * 100, marker_color="#000091",
                           customdata=known["Consommé HT"],
                           hovertemplate="%{x}<br>%{y:,.1f} % (%{customdata:,.0f} € HT)<extra></extra>"))
    fig.add_hline(y=75, line_dash="dot", line_color="#B34000", annotation_text="75 % : avenant possible")
    fig.add_hline(y=100, line_dash="dash", line_color="#CE0500", annotation_text="100 % : maximum atteint")
    fig.update_yaxes(ticksuffix="\u00a0%", rangemode="tozero")
    return _layout(fig, title)


def validation(frame: pd.DataFrame) -> go.Figure:
    title = "Validation des données (dernière exécution)"
    if frame.empty:
        return _empty(title, "Aucune validation enregistrée.")
    fig = go.Figure([
        go.Bar(name="Satisfaites", x=frame["Table"], y=frame["Satisfaites"], marker_color="#009081"),
        go.Bar(name="Non bloquantes en échec", x=frame["Table"], y=frame["Non bloquantes en échec"], marker_color="#B34000"),
        go.Bar(name="Bloquantes en échec", x=frame["Table"], y=frame["Bloquantes en échec"], marker_color="#CE0500"),
    ])
    fig.update_layout(barmode="stack")
    return _layout(fig, title, 320)


def source_ages(frame: pd.DataFrame) -> go.Figure:
    title = "Âge des données de chaque source, face à sa limite (en jours)"
    if frame.empty:
        return _empty(title)
    age = frame["Âge (jours)"].fillna(-1)
    fig = go.Figure([
        go.Bar(name="Âge des données", x=frame["Source"], y=age.clip(lower=0),
               marker_color=["#CE0500" if s == "oui" else "#009081" for s in frame["Périmée"]],
               hovertemplate="%{x}<br>%{y:,.1f} jours<extra></extra>"),
        go.Scatter(name="Limite", x=frame["Source"], y=frame["Limite (jours)"], mode="markers",
                   marker={"symbol": "line-ew-open", "size": 40, "color": "#161616"},
                   hovertemplate="limite : %{y:,.0f} jours<extra></extra>"),
    ])
    return _layout(fig, title, 320)
