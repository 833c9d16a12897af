"""The command-line contract (spec/CLI.md): every command, French help and errors, exit codes."""

import pytest

from tests.conftest import FAST_HTTP, run_vigie

COMMANDS = ["demo", "ingest", "validate", "check", "alert", "findings", "status", "review", "alias", "report", "run", "schedule"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_french_help(command):
    result = run_vigie(command, "--help")
    assert result.returncode == 0
    assert "utilisation :" in result.stdout
    assert "afficher cette aide" in result.stdout
    assert "--db" in result.stdout and "--inbox" in result.stdout


def test_top_level_help_lists_every_command():
    result = run_vigie("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout
    assert "VIGIE_BETAGOUV_API" in result.stdout


def test_spec_options_exist():
    assert "--source" in run_vigie("ingest", "--help").stdout
    assert "--offline" in run_vigie("ingest", "--help").stdout
    assert "--dry-run" in run_vigie("alert", "--help").stdout
    help_findings = run_vigie("findings", "--help").stdout
    assert "--format" in help_findings and "--rule" in help_findings and "--output" in help_findings
    assert "--reason" in run_vigie("review", "--help").stdout and "VIGIE_REVIEWER" in run_vigie("review", "--help").stdout
    help_alias = run_vigie("alias", "--help").stdout
    assert all(o in help_alias for o in ("--list", "--remove", "--export", "--import", "--by", "KIND RAW TARGET"))
    assert "--offline" in run_vigie("run", "--help").stdout
    assert "xlsx" in help_findings and "--status" in help_findings
    help_report = run_vigie("report", "--help").stdout
    assert "--month" in help_report and "--output" in help_report


@pytest.mark.parametrize("argv, fragment", [
    (["ingest", "--source", "nulle-part"], "choix invalide"),
    (["report"], "arguments obligatoires manquants"),
    (["report", "--month", "octobre"], "AAAA-MM"),
    (["review", "XX-1"], "arguments obligatoires manquants"),
    (["commande-inconnue"], "commande inconnue"),
    (["findings", "--format", "xml"], "choix invalide"),
])
def test_bad_usage_is_french_and_exit_2(argv, fragment):
    result = run_vigie(*argv)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("utilisation : vigie")
    assert "utilisation : utilisation" not in result.stderr


def test_user_errors_are_french_without_traceback(tmp_path):
    env = {"VIGIE_DB": str(tmp_path / "absent.duckdb")}
    result = run_vigie("findings", env=env)
    assert result.returncode == 2  # a path with no warehouse is configuration
    assert "n'existe pas encore" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_vigie("status", env={**env, "VIGIE_CONFIG": str(tmp_path / "nope.toml")})
    assert result.returncode == 2
    assert "introuvable" in result.stderr and "Traceback" not in result.stderr


def test_options_override_environment(workspace, cli, tmp_path):
    other = tmp_path / "autre.duckdb"
    code, out, _ = cli("ingest", "--source", "betagouv", "--db", str(other))
    assert code == 0
    assert other.exists()
    assert not (workspace / "data" / "vigie.duckdb").exists()


def test_global_db_before_the_command(workspace, cli, tmp_path):
    """`vigie --db X ingest` as well as `vigie ingest --db X`: the subcommand must not reset it."""
    other = tmp_path / "global.duckdb"
    code, _, _ = cli("--db", str(other), "ingest", "--source", "betagouv")
    assert code == 0
    assert other.exists()
    assert not (workspace / "data" / "vigie.duckdb").exists()


REQUIRED = {"review": ["HS-1", "--reason", "r"], "report": ["--month", "2026-10"]}


@pytest.mark.parametrize("command", COMMANDS)
def test_common_options_on_either_side_of_every_command(command):
    from pipelines.cli import build_parser

    parser = build_parser()
    before = parser.parse_args(["--db", "x.duckdb", "--inbox", "boite", command, *REQUIRED.get(command, [])])
    assert (before.db, before.inbox) == ("x.duckdb", "boite")
    after = parser.parse_args(["--db", "x.duckdb", command, *REQUIRED.get(command, []), "--db", "y.duckdb"])
    assert after.db == "y.duckdb" and after.inbox is None


@pytest.mark.parametrize("setting, folder", [("", "reports"), ('[schedule]\nreports_dir = "mensuels"\n', "mensuels")])
def test_report_without_output_goes_to_reports_dir(workspace, cli, setting, folder):
    """No --output: the month's folder under settings.toml's [schedule] reports_dir (default reports/)."""
    (workspace / "vigie.toml").write_text(FAST_HTTP + setting, encoding="utf-8")
    assert cli("ingest", "--source", "betagouv")[0] == 0
    code, out, err = cli("report", "--month", "2026-10")
    assert code == 0, err
    written = workspace / folder / "2026-10" / "rapport_conformite_2026-10.html"
    assert written.exists() and str(written.relative_to(workspace)) in out
    assert sorted(p.name for p in workspace.iterdir() if p.name in ("reports", "mensuels")) == [folder]
