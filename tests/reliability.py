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
