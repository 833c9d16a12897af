"""What a newcomer met on a first day with the CLI: every test goes through `vigie`."""

import json

from tests.conftest import write_inbox

HEADER = "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Marché"
BAD_DATE = "31/06/2026"
QUARANTINED = 23  # more than status lists per file


def inbox_with_quarantine(folder):
    rows = [f"Q-{i};{BAD_DATE};Ministère de la Culture;JuriGPT;Theodo;1 000;2026" for i in range(QUARANTINED)]
    rows.append("OK-1;05/11/2026;Ministère de la Culture;JuriGPT;Theodo;1 000;2026")
    write_inbox(folder, "quarantaine.csv", "\n".join([HEADER, *rows]) + "\n")


def test_status_lists_quarantined_lines_with_their_reason(workspace, cli):
    from pipelines.status import QUARANTINE_SHOWN

    inbox_with_quarantine(workspace / "inbox")
    code, out, err = cli("ingest", "--offline")
    assert "« vigie status »" in out
    code, out, err = cli("status")
    assert code == 0, err
    listed = [line.strip() for line in out.splitlines() if line.strip().startswith("quarantaine — ligne")]
    # Line 1 is the header: the bad rows are lines 2 .. QUARANTINED + 1.
    assert listed[0] == f"quarantaine — ligne 2 : date du BC : date impossible « {BAD_DATE} »"
    assert len(listed) == QUARANTINE_SHOWN
    assert f"… et {QUARANTINED - QUARANTINE_SHOWN} autre(s) ligne(s) en quarantaine" in out
    code, out, err = cli("status", "--format", "json")
    entry = next(f for f in json.loads(out)["files"] if f["path"] == "quarantaine.csv")
    assert [q["line"] for q in entry["quarantine"]] == list(range(2, QUARANTINE_SHOWN + 2))
    assert all(BAD_DATE in q["reason"] for q in entry["quarantine"])
    assert entry["quarantine_not_shown"] == QUARANTINED - QUARANTINE_SHOWN
