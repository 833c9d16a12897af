"""What a newcomer met on a first day with the CLI: every test goes through `vigie`."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PINNED_NOW, ROOT, VIGIE_VARS, connect, run_vigie, write_inbox

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


def run_into_closed_pipe(*argv: str, unbuffered: bool) -> subprocess.CompletedProcess:
    """`vigie … | head -0`: stdout is a pipe nobody reads any more."""
    env = {k: v for k, v in os.environ.items() if k not in VIGIE_VARS}
    env.update({"VIGIE_NOW": PINNED_NOW, "GX_ANALYTICS_ENABLED": "False"})
    if unbuffered:  # every print reaches the pipe at once, inside the command's run
        env["PYTHONUNBUFFERED"] = "1"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "pipelines", *argv], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, env=env, cwd=ROOT, timeout=300)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("unbuffered", [False, True])
def test_a_reader_that_goes_away_is_no_error(demo_copy, unbuffered):
    before = connect(demo_copy).execute("SELECT count(*) FROM meta.runs WHERE command = 'check'").fetchone()[0]
    done = run_into_closed_pipe("check", "--db", str(demo_copy), unbuffered=unbuffered)
    assert done.returncode == 0, done.stderr
    assert "BrokenPipe" not in done.stderr and "erreur interne" not in done.stderr
    assert "Exception ignored" not in done.stderr
    runs = connect(demo_copy).execute("SELECT status FROM meta.runs WHERE command = 'check'").fetchall()
    assert len(runs) == before + 1 and "echec" not in {r[0] for r in runs}
    done = run_into_closed_pipe("findings", "--db", str(demo_copy), unbuffered=unbuffered)
    assert done.returncode == 0 and "BrokenPipe" not in done.stderr and "Exception ignored" not in done.stderr


@pytest.mark.parametrize("argv", [
    ["check"], ["report", "--month", "2026-10"], ["alert"], ["alert", "--dry-run"], ["validate"], ["status"],
    ["findings"], ["review", "HS-0123456789", "--reason", "vu"], ["alias", "--list"],
    ["alias", "startup", "Nom", "-", "--reason", "vu"], ["alias", "--remove", "startup", "Nom"],
])
def test_commands_that_only_read_refuse_a_missing_warehouse(tmp_path, argv):
    db = tmp_path / "faute-de-frappe" / "vigie.duckdb"
    done = run_vigie(*argv, env={"VIGIE_DB": str(db)}, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"L'entrepôt {db} n'existe pas encore" in done.stderr
    assert "vigie run --db" in done.stderr and "vigie demo --db" in done.stderr
    assert "constat" not in done.stdout
    assert not db.exists() and not db.parent.exists()


@pytest.mark.parametrize("setting", [None, "entrepot/principal.duckdb"])
def test_the_warehouse_of_the_settings_needs_no_db_in_the_advice(tmp_path, setting):
    # The default of settings.toml [paths] db (or the user's file's), relative to where vigie runs.
    env = {}
    if setting:
        (tmp_path / "vigie.toml").write_text(f'[paths]\ndb = "{setting}"\n', encoding="utf-8")
        env["VIGIE_CONFIG"] = str(tmp_path / "vigie.toml")
    done = run_vigie("findings", env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    db = tmp_path / (setting or "data/vigie.duckdb")
    assert f"L'entrepôt {db} n'existe pas encore (--db / VIGIE_DB) : construisez-le avec « vigie run » " in done.stderr
    assert "« vigie demo » pour l'échantillon embarqué" in done.stderr and f"--db {db}" not in done.stderr


@pytest.mark.parametrize("setting", [None, "ailleurs/demo"])
def test_the_demo_writes_in_the_demo_dir_of_the_settings(tmp_path, monkeypatch, setting):
    from argparse import Namespace

    from pipelines import demo

    if setting:
        (tmp_path / "vigie.toml").write_text(f'[paths]\ndemo_dir = "{setting}"\n', encoding="utf-8")
        monkeypatch.setenv("VIGIE_CONFIG", str(tmp_path / "vigie.toml"))
    monkeypatch.chdir(tmp_path)
    settings = demo.demo_settings(Namespace(db=None, inbox=None))
    assert settings.db_path == tmp_path / (setting or "data/demo") / "vigie.duckdb"


def test_a_file_that_is_not_a_warehouse_is_a_configuration_error(tmp_path):
    db = tmp_path / "notes.duckdb"
    db.write_text("ceci n'est pas un entrepôt\n" * 200, encoding="utf-8")
    for argv in (["status"], ["check"]):
        done = run_vigie(*argv, "--db", str(db), cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "n'est pas un fichier DuckDB" in done.stderr and "Traceback" not in done.stderr


def test_a_misspelt_inbox_is_an_error_the_default_one_is_created(tmp_path):
    db, missing = tmp_path / "data" / "vigie.duckdb", tmp_path / "boite-inexistante"
    for argv, env in ((["ingest", "--source", "orders", "--inbox", str(missing)], {}),
                      (["run", "--offline"], {"VIGIE_INBOX": str(missing)})):
        done = run_vigie(*argv, env={"VIGIE_DB": str(db), **env}, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert f"La boîte de dépôt {missing} n'existe pas" in done.stderr and "VIGIE_INBOX" in done.stderr
        assert "aucun fichier nouveau" not in done.stdout
        assert not missing.exists()
    done = run_vigie("ingest", "--source", "orders", env={"VIGIE_DB": str(db)}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "inbox").is_dir() and "aucun fichier nouveau" in done.stdout


def test_every_hint_the_demo_prints_names_the_demo_warehouse(tmp_path):
    import re

    db = tmp_path / "demo" / "vigie.duckdb"
    done = run_vigie("demo", "--db", str(db), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    hints = re.findall(r"« (vigie [^»]*?) »", done.stdout + done.stderr)
    assert "vigie status --db demo/vigie.duckdb" in hints  # the quarantine notes of the sample
    assert all("--db demo/vigie.duckdb" in h for h in hints), hints
    # …and the hint leads to the demo's warehouse, run from where the demo ran.
    shown = run_vigie(*hints[0].split()[1:], cwd=tmp_path)
    assert shown.returncode == 0 and f"Entrepôt : {db}" in shown.stdout


@pytest.mark.parametrize("content, fragments", [
    (b"[http\nattempts = 3\n", ["ligne 1, colonne 6", "« [http »", "« ] » manque"]),
    (b"[http]\nattempts = trois\n", ["ligne 2, colonne 12", "valeur invalide"]),
    (b"[http]\n# r\xe9glage\n", ["n'est pas encodé en UTF-8", "ligne 2", "0xe9"]),
])
def test_a_broken_configuration_file_is_said_in_french(tmp_path, content, fragments):
    config = tmp_path / "vigie.toml"
    config.write_bytes(content)
    done = run_vigie("status", env={"VIGIE_CONFIG": str(config), "VIGIE_DB": str(tmp_path / "v.duckdb")})
    assert done.returncode == 2
    assert f"Le fichier de configuration {config} (VIGIE_CONFIG)" in done.stderr
    for fragment in fragments:
        assert fragment in done.stderr
    for english in ("Expected", "Invalid", "codec", "decode", "position"):
        assert english not in done.stderr


@pytest.mark.parametrize("argv", [["report", "--month", "2026-10", "--output", "/proc/vigie/rapport"],
                                  ["findings", "--output", "/proc/vigie/constats.csv"],
                                  ["report", "--month", "2026-10", "--output", "{file}/rapport"]])
def test_an_output_that_cannot_be_written_is_a_french_usage_error(demo_copy, tmp_path, argv):
    blocker = tmp_path / "un-fichier"
    blocker.write_text("", encoding="utf-8")
    argv = [a.replace("{file}", str(blocker)) for a in argv]
    done = run_vigie(*argv, "--db", str(demo_copy))
    assert done.returncode == 2, done.stderr
    assert "Impossible d'écrire dans" in done.stderr and "(--output)" in done.stderr
    assert "erreur interne" not in done.stderr and "Error" not in done.stderr


def test_an_alias_to_none_then_removed_says_what_happens(workspace, cli):
    name = "1000 premiers jours"  # two startups of the snapshot: a name to review
    write_inbox(workspace / "inbox", "a.csv", HEADER + f"\nP-1;03/10/2026;Ministère du Travail;{name};OCTO;12 000,50;2026\n")
    cli("ingest", "--source", "betagouv")
    cli("ingest", "--source", "orders")
    cli("check")

    def to_review():
        code, out, _ = cli("findings", "--format", "json")
        return [f for f in json.loads(out) if f["rule"] == "RAPPROCHEMENT_A_REVOIR" and f["numero_bc"] == "P-1"]

    [before] = to_review()
    code, out, _ = cli("alias", "startup", name, "-", "--reason", "ni l'une ni l'autre", "--by", "C")
    assert code == 0 and "→ aucune startup connue" in out
    code, out, _ = cli("check")
    assert "1 clos par un rapprochement" in out
    [closed] = to_review()
    assert closed["status"] == "reviewed"
    assert closed["review_reason"] == f"rapprochement : startup « {name} » n'est aucune startup connue — ni l'une ni l'autre"
    code, out, _ = cli("alias", "--remove", "startup", name)
    assert code == 0 and "rouvre les constats que ce rapprochement avait clos" in out and "clôt" not in out
    code, out, _ = cli("check")
    assert "dont 0 nouveau(x) et 1 réapparu(s)" in out
    [reopened] = to_review()
    assert reopened["finding_id"] == before["finding_id"] and reopened["status"] == "open"


def test_an_unknown_option_shows_the_usage_of_its_command():
    done = run_vigie("check", "--frob")
    assert done.returncode == 2
    assert done.stderr.startswith("utilisation : vigie check ")
    assert "vigie check : erreur : arguments non reconnus : --frob" in done.stderr
    assert "Aide : vigie check --help" in done.stderr


def test_version_and_french_argparse_spacing():
    from pipelines import __version__

    done = run_vigie("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"vigie {__version__}"
    done = run_vigie("report", "--month", "octobre")
    assert done.returncode == 2 and "argument --month : « octobre »" in done.stderr and "--month:" not in done.stderr
    done = run_vigie("alias", "--remove", "startup")
    assert done.returncode == 2 and "argument --remove : 2 valeurs sont attendues" in done.stderr


def test_a_finding_id_is_accepted_whatever_its_case(demo_copy):
    con = connect(demo_copy)
    fid = con.execute("SELECT min(finding_id) FROM findings.findings WHERE active").fetchone()[0]
    con.close()
    done = run_vigie("review", f" {fid.lower()}", "--reason", "vu avec le ministère", "--by", "C",
                     "--db", str(demo_copy))
    assert done.returncode == 0, done.stderr
    assert f"Constat {fid} " in done.stdout
    assert connect(demo_copy).execute("SELECT status FROM findings.findings WHERE finding_id = ?",
                                      [fid]).fetchone()[0] == "reviewed"
