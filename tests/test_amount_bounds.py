"""Amounts: an implausible one is quarantined with its reason; a sum of accepted amounts
never overflows the type it is stored in (`vigie check` used to die on DECIMAL(18,2))."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import connect
from tests.reliability import record

HEADER = "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT\n"
HUGE = "900 000 000 000 000"  # under the parser's hard limit (10^15), far above any order


def orders(folder, rows: int, amount: str) -> None:
    lines = "".join(f"GR-{i};03/10/2026;DINUM;Visio;OCTO;{amount}\n" for i in range(rows))
    (folder / "gros.csv").write_text(HEADER + lines + "PETIT-1;03/10/2026;DINUM;Visio;OCTO;1 000\n",
                                     encoding="utf-8")


def test_an_implausible_amount_is_quarantined_with_its_reason(workspace, cli):
    orders(workspace / "inbox", 3, HUGE)
    code, out, err = cli("ingest", "--source", "orders")
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT numero_bc FROM raw.inbox_orders").fetchall() == [("PETIT-1",)]
    reasons = [r[0] for r in con.execute("SELECT reason FROM raw.inbox_quarantine").fetchall()]
    assert len(reasons) == 3 and all("montant invraisemblable" in r and "inbox.max_amount_ht" in r for r in reasons)
    record("Nombres", "montants de 900 000 milliards d'euros dans un export",
           "mis en quarantaine avec la raison « montant invraisemblable » (réglage inbox.max_amount_ht)")


def test_sums_of_accepted_amounts_never_overflow(workspace, cli):
    # Allowed up to the parser's own limit: twenty orders sum beyond DECIMAL(18, 2).
    (workspace / "vigie.toml").write_text("[inbox]\nmax_amount_ht = 999999999999999\n", encoding="utf-8")
    orders(workspace / "inbox", 20, HUGE)
    cli("ingest", "--source", "orders", "--offline")
    db = workspace / "data" / "vigie.duckdb"
    con = connect(db, read_only=False)  # a warehouse made before the columns were widened
    con.execute("ALTER TABLE findings.findings ALTER COLUMN amount_ht TYPE DECIMAL(18, 2)")
    con.close()
    code, out, err = cli("check")
    assert "erreur interne" not in err and "Total :" in out
    # v2 keeps unreviewed atypical amounts out of sums: an analyst confirms them, then they add up
    atypical = [r[0] for r in connect(db).execute(
        "SELECT finding_id FROM findings.findings WHERE active AND rule = 'MONTANT_ATYPIQUE'").fetchall()]
    assert len(atypical) == 20
    for finding_id in atypical:
        assert cli("review", finding_id, "--reason", "montant confirmé", "--by", "analyste")[0] == 0
    code, out, err = cli("check")
    assert "erreur interne" not in err and "Total :" in out
    amounts = [r[0] for r in connect(db).execute(
        "SELECT amount_ht FROM findings.findings WHERE amount_ht IS NOT NULL").fetchall()]
    assert max(amounts) >= Decimal(HUGE.replace(" ", "")) * 20
    record("Nombres", "20 montants acceptés dont la somme dépasse DECIMAL(18,2)",
           "sommes stockées en DECIMAL(38,2) (entrepôts existants élargis à l'ouverture), « vigie check » aboutit")
