"""Collects what the reliability tests tried and what held, for the README's « Fiabilité »
table (tests/artefacts/fiabilite.md, written at the end of the session)."""

from __future__ import annotations

RECORDS: list[tuple[str, str, str]] = []


def record(area: str, tried: str, held: str) -> None:
    RECORDS.append((area, tried, held))


def markdown() -> str:
    lines = ["| Domaine | Ce qui a été essayé | Ce qui a tenu |", "| --- | --- | --- |"]
    lines += [f"| {a} | {t} | {h} |" for a, t, h in sorted(set(RECORDS))]
    return "\n".join(lines) + "\n"


def copy_into_readme() -> None:
    """`python -m tests.reliability`: the last session's table into the README."""
    from pathlib import Path

    from benchmarks.run import write_between

    root = Path(__file__).resolve().parent.parent
    table = (root / "tests" / "artefacts" / "fiabilite.md").read_text(encoding="utf-8")
    write_between(root / "README.md", "fiabilite", table)


if __name__ == "__main__":
    copy_into_readme()
