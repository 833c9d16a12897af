"""Regenerates the rule table of docs/rules/README.md from the catalogue:
`python -m pipelines.rules.readme`. tests/test_rules_docs.py checks they agree."""

from __future__ import annotations

from pathlib import PurePosixPath

from pipelines.rules import catalogue

DOCS = PurePosixPath("docs/rules")
README = catalogue.REPO_ROOT / DOCS / "README.md"
START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"
SUBJECTS = {"commande": "commande", "lot": "lot, et commande après le maximum", "titulaire": "titulaire",
            "sollicitation": "sollicitation", "besoin": "besoin (2021), bon de commande (2026)", "source": "source"}


def table(records) -> str:
    lines = ["| Code | Titre | Gravité | Sujet |", "| --- | --- | --- | --- |"]
    for r in records:
        page = PurePosixPath(r.doc).relative_to(DOCS)
        lines.append(f"| [{r.rule}]({page}) | {r.title} | {r.severity_label or r.severity} "
                     f"| {SUBJECTS.get(r.subject_type, r.subject_type)} |")
    return "\n".join(lines)


def render(text: str, records) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table(records)}\n{END}{tail}"


def main() -> None:
    README.write_text(render(README.read_text(encoding="utf-8"), catalogue.load()), encoding="utf-8")


if __name__ == "__main__":
    main()
