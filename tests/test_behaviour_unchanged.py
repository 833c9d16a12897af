"""The reshape of issue #20 changes the code's shape, not what Vigie finds.

The golden files in tests/fixtures/golden/ were recorded once from main at 762e8be (before
the reshape) with `python -m tests.test_behaviour_unchanged`, at the suite's pinned clock:
the demo's findings and the findings on the order-export corpus, every column a user sees
(id, rule, severity, message, evidence…), and `vigie findings`' CSV as printed. Any later
change that moves one of them is a change of behaviour and must say so by re-recording.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from tests.conftest import SNAPSHOT, run_vigie
from tests.fixtures.inbox_corpus.spec import FILES

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
COLUMNS = ("finding_id", "rule", "severity", "agreement_id", "subject_type", "subject", "numero_bc",
           "numero_besoin", "holder_id", "titulaire", "acheteur", "startup", "amount_ht", "message", "evidence",
           "source_file", "source_line", "contact", "active", "status")


def findings_of(db: Path) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM findings.findings ORDER BY finding_id").fetchall()  # noqa: S608 - COLUMNS is this file's constant
    finally:
        con.close()
    return [{k: (str(v) if v is not None and not isinstance(v, bool | int) else v) for k, v in zip(COLUMNS, r, strict=True)}
            for r in rows]


def demo_outputs(folder: Path) -> tuple[list[dict], str]:
    db = folder / "demo.duckdb"
    done = run_vigie("demo", "--db", str(db), cwd=folder)
    assert done.returncode == 0, done.stderr
    csv = run_vigie("findings", "--db", str(db), "--format", "csv", cwd=folder)
    assert csv.returncode == 0, csv.stderr
    return findings_of(db), csv.stdout


def corpus_findings(folder: Path) -> list[dict]:
    db = folder / "corpus.duckdb"
    env = {"VIGIE_DB": str(db), "VIGIE_INBOX": str(FILES), "VIGIE_BETAGOUV_API": str(SNAPSHOT)}
    run_vigie("run", "--offline", env=env, cwd=folder)  # the corpus holds refused files: exit 1 is expected
    assert db.exists()
    return findings_of(db)


def test_demo_findings_are_those_recorded_before_the_reshape(tmp_path):
    findings, csv = demo_outputs(tmp_path)
    expected = json.loads((GOLDEN / "demo_findings.json").read_text(encoding="utf-8"))
    assert len(findings) == len(expected)
    for got, want in zip(findings, expected, strict=True):
        assert got == want
    assert csv == (GOLDEN / "demo_findings.csv").read_text(encoding="utf-8")


def test_corpus_findings_are_those_recorded_before_the_reshape(tmp_path):
    expected = json.loads((GOLDEN / "corpus_findings.json").read_text(encoding="utf-8"))
    assert expected, "the corpus must raise findings for the comparison to mean something"
    assert corpus_findings(tmp_path) == expected


def record(folder: Path) -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    findings, csv = demo_outputs(folder)
    (GOLDEN / "demo_findings.json").write_text(json.dumps(findings, ensure_ascii=False, indent=1), encoding="utf-8")
    (GOLDEN / "demo_findings.csv").write_text(csv, encoding="utf-8")
    corpus = corpus_findings(folder)
    (GOLDEN / "corpus_findings.json").write_text(json.dumps(corpus, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(findings)} demo findings, {len(corpus)} corpus findings recorded in {GOLDEN}")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        record(Path(tmp))
    sys.exit(0)
