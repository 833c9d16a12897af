"""Findings (stable identity, review, export) and alerts through a real SMTP server
(aiosmtpd) and a real loopback webhook receiver."""

import csv
import email
import io
import json
from email import policy

import pytest
import yaml

from pipelines import warehouse
from pipelines.findings import EXPORT_COLUMNS
from pipelines.rules import finding_id
from tests.conftest import ROOT, connect

SMTP_PASSWORD = "s3cr3t-motdepasse"
HOOK_TOKEN = "T0K3Nsecret9876"


@pytest.fixture
def demo_env(demo_copy, monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    monkeypatch.setenv("VIGIE_INBOX", str(tmp_path / "inbox"))
    (tmp_path / "inbox").mkdir()
    monkeypatch.setenv("VIGIE_BETAGOUV_API", str(demo_copy.parent))  # not used by these commands
    return demo_copy


@pytest.fixture
def channels(smtp_server, webhook_server, monkeypatch, tmp_path):
    # This loopback server has no STARTTLS: the password in clear is allowed explicitly
    # (tests/test_secrets_network.py checks it is refused otherwise).
    (tmp_path / "clair.toml").write_text("[alerts]\nmot_de_passe_smtp_en_clair = true\n", encoding="utf-8")
    monkeypatch.setenv("VIGIE_CONFIG", str(tmp_path / "clair.toml"))
    monkeypatch.setenv("VIGIE_SMTP_URL", f"smtp://vigie:{SMTP_PASSWORD}@127.0.0.1:{smtp_server.port}")
    monkeypatch.setenv("VIGIE_ALERT_TO", "compta@beta.gouv.fr, analyste@numerique.gouv.fr")
    monkeypatch.setenv("VIGIE_WEBHOOK_URL", f"{webhook_server.url}/hooks/{HOOK_TOKEN}")
    return smtp_server, webhook_server


def alertable(con) -> set[str]:
    """The findings the catalogue's policy says deserve an alert (pipelines/rules/catalogue.yaml:
    an open, active finding that is `critique`, or of a rule with alerts_always), worked out
    here in Python from the catalogue file, not with the production query."""
    catalogue = yaml.safe_load((ROOT / "pipelines" / "rules" / "catalogue.yaml").read_text(encoding="utf-8"))
    always = {entry["rule"] for entry in catalogue if entry["alerts_always"]}
    findings = con.execute("SELECT finding_id, rule, severity, active, status FROM findings.findings").fetchall()
    return {fid for fid, rule, severity, active, status in findings
            if active and status == "open" and (severity == "critique" or rule in always)}


# ------------------------------------------------------------------ findings


def test_check_twice_never_duplicates(demo_env, cli):
    con = connect(demo_env)
    before = con.execute("SELECT finding_id, first_seen_at FROM findings.findings ORDER BY 1").fetchall()
    con.close()
    code, out, _ = cli("check")
    assert code == 0 and "dont 0 nouveau(x)" in out
    con = connect(demo_env)
    after = con.execute("SELECT finding_id, first_seen_at FROM findings.findings ORDER BY 1").fetchall()
    assert after == before  # same ids, first seen unchanged
    assert con.execute("SELECT count(*) = count(DISTINCT finding_id) FROM findings.findings").fetchone()[0]
    rule, agreement, subject = con.execute(
        "SELECT rule, agreement_id, subject FROM findings.findings ORDER BY 1 LIMIT 1").fetchone()
    assert finding_id(rule, agreement, subject) in {f for f, _ in after}


def test_review_closes_a_finding_and_keeps_it(demo_env, cli):
    con = connect(demo_env)
    fid = con.execute("SELECT finding_id FROM findings.findings WHERE rule = 'HORS_STARTUP' LIMIT 1").fetchone()[0]
    con.close()
    code, out, _ = cli("review", fid, "--reason", "Produit confirmé hors marché, commande annulée", "--by", "Camille")
    assert code == 0 and "marqué revu par Camille" in out
    con = connect(demo_env)
    assert con.execute("SELECT status, reviewed_by, review_reason FROM findings.findings WHERE finding_id = ?",
                       [fid]).fetchone() == ("reviewed", "Camille", "Produit confirmé hors marché, commande annulée")
    assert con.execute("SELECT event FROM findings.events WHERE finding_id = ? ORDER BY event_at, rowid", [fid]).fetchall() \
        == [("ouvert",), ("revu",)]
    assert fid not in alertable(con)
    con.close()
    code, out, _ = cli("check")  # a new check keeps the review
    assert connect(demo_env).execute("SELECT status FROM findings.findings WHERE finding_id = ?", [fid]).fetchone() \
        == ("reviewed",)


def test_review_needs_a_known_id_and_a_reason(demo_env, cli):
    code, _, err = cli("review", "HS-0000000000", "--reason", "x")
    assert code == 2 and "Aucun constat" in err
    con = connect(demo_env)
    fid = con.execute("SELECT finding_id FROM findings.findings LIMIT 1").fetchone()[0]
    con.close()
    code, _, err = cli("review", fid, "--reason", "   ")
    assert code == 2 and "raison" in err


def test_findings_export_columns_and_filters(demo_env, cli, tmp_path):
    code, out, _ = cli("findings", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out), delimiter=";"))
    assert list(rows[0].keys()) == EXPORT_COLUMNS
    con = connect(demo_env)
    assert len(rows) == con.execute("SELECT count(*) FROM findings.findings WHERE active").fetchone()[0]
    hs = [r for r in rows if r["rule"] == "HORS_STARTUP"]
    # catalogue v2: a startup listed within the grace days after the order gives an alerte
    assert hs and all(r["severity"] in ("critique", "alerte") and r["numero_bc"] and r["message"] for r in hs)
    assert any(r["severity"] == "critique" for r in hs)
    code, out, _ = cli("findings", "--format", "json", "--rule", "REFUS_SEUIL")
    data = json.loads(out)
    assert data and {d["rule"] for d in data} == {"REFUS_SEUIL"}
    assert all(d["titulaire"] and d["status"] == "open" for d in data)
    target = tmp_path / "export" / "constats.csv"
    code, _, err = cli("findings", "--output", str(target))
    assert code == 0 and target.exists() and "écrit" in err


def test_exported_cells_that_a_spreadsheet_would_evaluate_are_neutralised(workspace, cli):
    (workspace / "inbox" / "commandes.csv").write_text(
        "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT\n"
        "FX-1;03/10/2026;Ministère des Armées;=HYPERLINK(\"http://x.invalid\");OCTO;1 000\n"
        "FX-2;03/10/2026;Ministère des Armées;@SUM(A1:A2);OCTO;1 000\n", encoding="utf-8")
    cli("ingest", "--source", "betagouv")
    cli("ingest", "--source", "orders")
    cli("check")
    code, out, _ = cli("findings", "--rule", "HORS_STARTUP")
    rows = {r["numero_bc"]: r for r in csv.DictReader(io.StringIO(out), delimiter=";")}
    assert rows["FX-1"]["startup"].startswith("'=HYPERLINK")
    assert rows["FX-2"]["startup"].startswith("'@SUM")
    con = connect(workspace / "data" / "vigie.duckdb")  # stored as written, never evaluated
    assert con.execute("SELECT startup FROM raw.inbox_orders WHERE numero_bc = 'FX-1'").fetchone()[0].startswith("=HYPER")


def test_a_finding_whose_cause_is_corrected_disappears_and_can_come_back(workspace, cli):
    inbox = workspace / "inbox"
    (inbox / "a.csv").write_text("N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Montant TTC\n"
                                 "MX-1;03/10/2026;DINUM;Visio;OCTO;1 000;1 300\n", encoding="utf-8")
    for argv in (("ingest", "--source", "betagouv"), ("ingest", "--source", "orders"), ("check",)):
        cli(*argv)
    db = workspace / "data" / "vigie.duckdb"
    fid = connect(db).execute("SELECT finding_id FROM findings.findings WHERE rule = 'MONTANT_INCOHERENT'").fetchone()[0]
    (inbox / "b_correction.csv").write_text("N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Montant TTC\n"
                                            "MX-1;03/10/2026;DINUM;Visio;OCTO;1 000;1 200\n", encoding="utf-8")
    cli("ingest", "--source", "orders")
    cli("check")
    con = connect(db)
    assert con.execute("SELECT active FROM findings.findings WHERE finding_id = ?", [fid]).fetchone() == (False,)
    code, out, _ = cli("findings", "--rule", "MONTANT_INCOHERENT")
    assert fid not in out
    con.close()
    (inbox / "c_retour.csv").write_text("N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Montant TTC\n"
                                        "MX-1;03/10/2026;DINUM;Visio;OCTO;1 000;1 500\n", encoding="utf-8")
    cli("ingest", "--source", "orders")
    cli("check")
    con = connect(db)
    assert con.execute("SELECT active FROM findings.findings WHERE finding_id = ?", [fid]).fetchone() == (True,)
    events = [e for (e,) in con.execute("SELECT event FROM findings.events WHERE finding_id = ? ORDER BY event_at, rowid",
                                        [fid]).fetchall()]
    assert events[0] == "ouvert" and "disparu" in events and "reapparu" in events


# ------------------------------------------------------------------ alerts


def _messages(smtp):
    return [email.message_from_bytes(m["data"], policy=policy.default) for m in smtp.messages]


def test_one_digest_per_channel_with_everything_an_analyst_needs(demo_env, channels, cli):
    smtp, hook = channels
    con = connect(demo_env)
    expected = alertable(con)
    active = con.execute("SELECT count(*) FROM findings.findings WHERE active").fetchone()[0]
    con.close()
    assert 0 < len(expected) < active  # the demo has findings to announce, and others not to
    code, out, err = cli("alert")
    assert code == 0, err
    assert len(smtp.messages) == 1 and len(hook.posts) == 1  # one digest, not a flood
    msg = _messages(smtp)[0]
    assert smtp.messages[0]["to"] == ["compta@beta.gouv.fr", "analyste@numerique.gouv.fr"]
    assert smtp.logins == [("vigie", SMTP_PASSWORD)]
    assert msg["Subject"].startswith(f"[Vigie] {len(expected)} nouveaux constats")
    text = msg.get_body(preferencelist=("plain",)).get_content()
    for fid in expected:
        assert fid in text
    assert "Pourquoi :" in text and "Provenance :" in text and "Acheteur :" in text and "Montant :" in text
    assert "Titulaire :" in text and "Startup / produit :" in text and "Commande :" in text
    assert "ne correspond à aucune Startup d'État" in text
    assert "€ HT" in text  # French money
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "<script" not in html.lower()
    payload = hook.posts[0]["json"]
    assert set(payload) >= {"text"} and "nouveaux constats" in payload["text"]
    assert hook.posts[0]["path"] == f"/hooks/{HOOK_TOKEN}"
    for fid in expected:
        assert fid in payload["text"]


def test_nothing_is_sent_twice(demo_env, channels, cli):
    smtp, hook = channels
    cli("alert")
    code, out, _ = cli("alert")
    assert code == 0 and "rien de nouveau" in out
    assert len(smtp.messages) == 1 and len(hook.posts) == 1


def test_a_failed_send_is_retried_at_the_next_run(demo_env, channels, cli):
    smtp, hook = channels
    hook.post_status = 500
    smtp.fail = True
    code, out, _ = cli("alert")
    assert code == 1 and "échec" in out and "nouvel essai" in out
    con = connect(demo_env)
    assert con.execute("SELECT DISTINCT status FROM alerts.deliveries WHERE channel IN ('email', 'webhook')"
                       ).fetchall() == [("echec",)]
    con.close()
    hook.post_status, smtp.fail = 200, False
    code, out, _ = cli("alert")
    assert code == 0
    assert len(smtp.messages) == 1 and len([p for p in hook.posts]) == 2  # one failed post, one good
    con = connect(demo_env)
    assert con.execute("SELECT DISTINCT status, attempts FROM alerts.deliveries WHERE channel = 'email'"
                       ).fetchall() == [("envoye", 2)]


def test_only_new_findings_are_announced_later(demo_env, channels, cli, tmp_path):
    smtp, hook = channels
    cli("alert")
    (tmp_path / "inbox" / "nouvelle.csv").write_text(
        "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Marché\n"
        "NV-1;05/11/2026;Ministère de la Culture;Portail des musées;Theodo;50 000;2026\n", encoding="utf-8")
    cli("ingest", "--source", "orders")
    cli("check")
    cli("alert")
    assert len(smtp.messages) == 2
    second = _messages(smtp)[1].get_body(preferencelist=("plain",)).get_content()
    new_id = connect(demo_env).execute(
        "SELECT finding_id FROM findings.findings WHERE numero_bc = 'NV-1' AND rule = 'HORS_STARTUP'").fetchone()[0]
    assert new_id in second and "1 nouveau constat" in _messages(smtp)[1]["Subject"]


def test_secrets_never_appear_in_logs_or_the_warehouse(demo_env, channels, cli):
    smtp, hook = channels
    hook.post_status = 500
    code, out, err = cli("alert")
    hook.post_status = 200
    cli("alert")
    assert SMTP_PASSWORD not in out + err and HOOK_TOKEN not in out + err
    con = connect(demo_env)
    for schema, table, column in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema NOT IN ('stg', 'int', 'mart')").fetchall():
        hits = con.execute(
            f'SELECT count(*) FROM "{schema}"."{table}" WHERE contains("{column}", ?) OR contains("{column}", ?)',  # noqa: S608 - catalogue names
            [SMTP_PASSWORD, HOOK_TOKEN]).fetchone()[0]
        assert hits == 0, f"secret in {schema}.{table}.{column}"
    assert con.execute("SELECT count(*) FROM alerts.digests WHERE target LIKE '%/hooks/***%'").fetchone()[0] >= 1


def test_dry_run_sends_nothing(demo_env, channels, cli):
    smtp, hook = channels
    code, out, _ = cli("alert", "--dry-run")
    assert code == 0 and "simulation" in out and "Pourquoi :" in out
    assert smtp.messages == [] and hook.posts == []
    assert connect(demo_env).execute(
        "SELECT count(*) FROM alerts.deliveries WHERE channel IN ('email', 'webhook')").fetchone()[0] == 0


def test_without_a_channel_alerts_go_to_the_outbox(demo_db):
    outbox = demo_db.parent / "outbox"
    emls, jsons = sorted(outbox.glob("*.eml")), sorted(outbox.glob("*.json"))
    assert len(emls) == 1 and len(jsons) == 1
    payload = json.loads(jsons[0].read_text(encoding="utf-8"))
    con = connect(demo_db)
    assert {f["finding_id"] for f in payload["findings"]} == alertable(con)
    msg = email.message_from_bytes(emls[0].read_bytes(), policy=policy.default)
    assert msg["Subject"].startswith("[Vigie]") and "Pourquoi :" in msg.get_body(("plain",)).get_content()


def test_bad_channel_configuration_is_a_french_usage_error(demo_env, cli, monkeypatch):
    monkeypatch.setenv("VIGIE_SMTP_URL", "ftp://nowhere")
    code, _, err = cli("alert")
    assert code == 2 and "VIGIE_SMTP_URL doit ressembler" in err
    monkeypatch.setenv("VIGIE_SMTP_URL", "smtp://127.0.0.1:25")
    monkeypatch.delenv("VIGIE_ALERT_TO", raising=False)
    code, _, err = cli("alert")
    assert code == 2 and "VIGIE_ALERT_TO" in err
    assert warehouse.scalar(connect(demo_env), "SELECT count(*) FROM alerts.deliveries WHERE channel = 'email'") == 0


def test_every_order_finding_exports_its_order_date_and_amount(demo_env, cli):
    """The export's date_bc and montant_ht come from each finding; every order-level rule of
    the catalogue must carry them (MINISTERE_DIFFERENT and MONTANT_INCOHERENT did not)."""
    from pipelines.agreements import load_catalogue

    code, out, _ = cli("findings", "--format", "json")
    assert code == 0
    exported = {r["finding_id"]: r for r in json.loads(out)}
    con = connect(demo_env)
    expected = con.execute("""
        SELECT f.finding_id, f.rule, o.date_bc, o.montant_ht FROM findings.findings f
        JOIN mart.orders_enriched o ON o.numero_bc = f.numero_bc AND o.agreement_id IS NOT DISTINCT FROM f.agreement_id
        WHERE f.active AND f.subject_type = 'commande'""").fetchall()
    order_rules = {r["rule"] for r in load_catalogue() if r["subject_type"] == "commande"}
    seen = {rule for _, rule, _, _ in expected}
    assert {"MINISTERE_DIFFERENT", "MONTANT_INCOHERENT"} <= seen <= order_rules | {"PLAFOND", "TOURNIQUET"}
    for fid, rule, date_bc, montant in expected:
        row = exported[fid]
        assert (rule, row["date_bc"]) == (rule, date_bc.isoformat())
        assert row["montant_ht"] == pytest.approx(float(montant))


@pytest.mark.parametrize("rule", sorted(
    r["rule"] for r in __import__("pipelines.agreements", fromlist=["x"]).load_catalogue()
    if r["subject_type"] == "commande"))
def test_every_order_rule_puts_the_order_date_in_its_evidence(rule):
    """Rules the demo does not raise too: their SQL evidence names the order date."""
    path = ROOT / "pipelines" / "rules" / "sql" / f"{rule}.sql"
    text = path.read_text(encoding="utf-8") if path.exists() else \
        (ROOT / "pipelines" / "rules" / f"{rule.lower()}.py").read_text(encoding="utf-8")
    evidences = text.count("to_json({") if path.exists() else text.count("evidence = {")
    assert evidences and text.count("date_bc: o.date_bc") + text.count('"date_bc": o["date_bc"]') >= evidences
