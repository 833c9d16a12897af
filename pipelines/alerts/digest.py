"""One digest per run and channel: pure rendering of the findings to announce.

Each finding says the order, buyer, startup, holder, amount, why it breaks the rule,
where it came from, and whom to write to. Text for email and webhook, an HTML
alternative for email (everything escaped).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from pipelines import fr

SEVERITY_FR = {"critique": "CRITIQUE", "alerte": "alerte", "info": "info"}


@dataclass
class Digest:
    digest_id: str
    subject: str
    text: str
    markdown: str
    html: str
    findings: list[dict]


def _facts(f: dict) -> list[tuple[str, str]]:
    facts = []
    for key, label in (("numero_bc", "Commande"), ("numero_besoin", "Besoin"), ("acheteur", "Acheteur"),
                       ("startup", "Startup / produit"), ("titulaire", "Titulaire")):
        if f.get(key):
            facts.append((label, str(f[key])))
    if f.get("amount_ht") is not None:
        facts.append(("Montant", f"{fr.money(f['amount_ht'])} HT"))
    if f.get("source_file"):
        where = f["source_file"] + (f", ligne {f['source_line']}" if f.get("source_line") else "")
        facts.append(("Provenance", where))
    if f.get("contact"):
        facts.append(("Contact du titulaire", f["contact"]))
    return facts


def build(findings: list[dict], titles: dict[str, str], now: datetime, digest_id: str) -> Digest:
    critical = sum(f["severity"] == "critique" for f in findings)
    n = len(findings)
    subject = (f"[Vigie] {fr.plural(n, 'nouveau constat', 'nouveaux constats')} à examiner"
               + (f" dont {critical} critique{'s' if critical > 1 else ''}" if critical else "")
               + " — marché interministériel beta")
    intro = (f"Vigie a relevé {fr.plural(n, 'nouveau constat', 'nouveaux constats')} le {fr.long_day(now)} "
             f"à {now.strftime('%H:%M')}.")
    outro = ("Pour marquer un constat comme revu (il n'alertera plus) : "
             "vigie review IDENTIFIANT --reason \"…\". Liste complète : vigie findings.")
    text_parts, md_parts, html_parts = [intro, ""], [f"**{html.escape(intro)}**", ""], [f"<p>{html.escape(intro)}</p>"]
    for i, f in enumerate(findings, 1):
        title = titles.get(f["rule"], f["rule"])
        head = f"{i}. [{SEVERITY_FR.get(f['severity'], f['severity'])}] {title} ({f['rule']}) — {f['finding_id']}"
        text_parts.append(head)
        text_parts.append(f"   Pourquoi : {f['message']}")
        text_parts += [f"   {label} : {value}" for label, value in _facts(f)]
        text_parts.append("")
        md_parts.append(f"#### {i}. {_md(title)} — `{f['finding_id']}` ({SEVERITY_FR.get(f['severity'])})")
        md_parts.append(_md(f["message"]))
        md_parts += [f"- **{label}** : {_md(value)}" for label, value in _facts(f)]
        md_parts.append("")
        html_parts.append(f"<h3>{i}. {html.escape(title)} <small>({html.escape(f['rule'])}, "
                          f"{html.escape(f['finding_id'])})</small></h3>")
        html_parts.append(f"<p><strong>Pourquoi :</strong> {html.escape(f['message'])}</p><ul>")
        html_parts += [f"<li><strong>{html.escape(label)} :</strong> {html.escape(value)}</li>" for label, value in _facts(f)]
        html_parts.append("</ul>")
    text_parts.append(outro)
    md_parts.append(f"_{_md(outro)}_")
    html_parts.append(f"<p><em>{html.escape(outro)}</em></p>")
    body_html = ("<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>"
                 f"{html.escape(subject)}</title></head><body>{''.join(html_parts)}</body></html>")
    return Digest(digest_id, subject, "\n".join(text_parts), "\n".join(md_parts), body_html, findings)


def _md(text: str) -> str:
    """Keep markdown from reading data as formatting (or as a mention)."""
    out = str(text)
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out.replace("@", "@\u200b")
