"""Regenerates the rule table of docs/rules/README.md from the catalogue:
`python -m pipelines.rules.readme`. tests/test_rules_docs.py checks they agree."""

from __future__ import annotations

from pathlib import Path

from pipelines.agreements import load_catalogue

README = Path(__file__).resolve().parents[2] / "docs" / "rules" / "README.md"
START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"
SUBJECTS = {"commande": "commande", "lot": "lot, et commande après le maximum", "titulaire": "titulaire",
            "sollicitation": "sollicitation", "besoin": "besoin (2021), bon de commande (2026)", "source": "source"}


def table(catalogue: list[dict]) -> str:
    lines = ["| Code | Titre | Gravité | Sujet |", "| --- | --- | --- | --- |"]
    for r in catalogue:
        lines.append(f"| [{r['rule']}]({r['rule']}.md) | {r['title']} | {r.get('severity_label') or r['severity']} "
                     f"| {SUBJECTS.get(r['subject_type'], r['subject_type'])} |")
    return "\n".join(lines)


def render(text: str, catalogue: list[dict]) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table(catalogue)}\n{END}{tail}"


def main() -> None:
    README.write_text(render(README.read_text(encoding="utf-8"), load_catalogue()), encoding="utf-8")


if __name__ == "__main__":
    main()
