"""`vigie`: the command line every other part is tested through (spec/CLI.md).

Exit codes: 0 done; 1 done but something needs a look (blocking expectation, rejected
file, unreachable source); 2 bad usage or configuration. Never a traceback for a user
error: a French sentence saying what is wrong and what to do.
"""

from __future__ import annotations

import argparse
import re
import sys

from pipelines.errors import VigieError


def epilog(paths) -> str:
    """The options every command shares, with settings.toml's [paths] as their defaults."""
    return (
        "Options communes, aussi lues dans l'environnement : --db (VIGIE_DB, défaut "
        f"{paths.db}), --inbox (VIGIE_INBOX, défaut {paths.inbox}). Sources : VIGIE_BETAGOUV_API, "
        "VIGIE_DATAGOUV_API. Alertes : VIGIE_SMTP_URL, VIGIE_ALERT_TO, VIGIE_WEBHOOK_URL (sans canal : "
        "dossier outbox à côté de l'entrepôt). Revues et rapprochements : VIGIE_REVIEWER (qui, à défaut de --by)."
    )


_ARGPARSE_FR = [
    (r"argument COMMANDE: invalid choice: (.*?) \(choose from (.*)\)", r"commande inconnue \1 (commandes : \2)"),
    (r"the following arguments are required: (.*)", r"arguments obligatoires manquants : \1"),
    (
        r"argument (.*?): invalid choice: (.*?) \(choose from (.*)\)",
        r"argument \1 : choix invalide \2 (choix possibles : \3)",
    ),
    (r"unrecognized arguments: (.*)", r"arguments non reconnus : \1"),
    (r"argument (.*?): expected one argument", r"argument \1 : une valeur est attendue"),
    (r"argument (.*?): expected (\d+) arguments", r"argument \1 : \2 valeurs sont attendues"),
    (r"argument (.*?): invalid (.*?) value: (.*)", r"argument \1 : valeur invalide \3"),
    (
        r"invalid choice: (.*?) \(choose from (.*)\)",
        r"commande inconnue \1 (commandes possibles : \2)",
    ),
    # Whatever argparse said of an argument (our own French type errors): French spacing.
    (r"^argument ([^\s:]+): ", r"argument \1 : "),
]


class FrenchFormatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        # argparse asks with prefix="" to build a subcommand's prog: keep that one bare.
        return super().add_usage(usage, actions, groups, prefix="utilisation : " if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, with_help: bool = True, **kwargs):
        kwargs.setdefault("formatter_class", FrenchFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        if with_help:
            self.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")

    def error(self, message):
        for pattern, repl in _ARGPARSE_FR:
            message = re.sub(pattern, repl, message)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {message}\nAide : {self.prog} --help\n")


def _month(value: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise argparse.ArgumentTypeError(f"« {value} » n'est pas un mois AAAA-MM (ex. 2026-10)")
    return value


def _common_options(default) -> Parser:
    common = Parser(prog="vigie", with_help=False)
    common._optionals.title = "options communes"
    common.add_argument("--db", metavar="CHEMIN", default=default, help="fichier de l'entrepôt DuckDB (VIGIE_DB)")
    common.add_argument(
        "--inbox", metavar="DOSSIER", default=default, help="boîte de dépôt des exports de commandes (VIGIE_INBOX)"
    )
    return common


def build_parser() -> Parser:
    from pipelines.config import default_paths

    paths = default_paths()  # read now, not at import
    common = _common_options(None)
    # A subcommand's parser writes its defaults over what the main parser already parsed:
    # without SUPPRESS, `vigie --db X demo` would lose X to the subcommand's default None.
    sub_common = _common_options(argparse.SUPPRESS)

    parser = Parser(
        prog="vigie",
        description="Vigie : veille de conformité du marché interministériel beta (ACIM 2021 et 2026).",
        epilog=epilog(paths),
        parents=[common],
    )
    from pipelines import __version__

    parser.add_argument("--version", action="version", version=f"vigie {__version__}",
                        help="afficher la version de Vigie et quitter")
    sub = parser.add_subparsers(
        dest="command", title="commandes", metavar="COMMANDE", parser_class=Parser
    )
    parser.commands = sub  # to answer a subcommand's unknown option with that subcommand's usage

    def add(name, help_text, description):
        return sub.add_parser(
            name, help=help_text, description=description, parents=[sub_common], epilog=epilog(paths)
        )

    # In this order in `vigie --help`.
    _add_chain_commands(add, paths)
    _add_findings_commands(add)
    _add_alias_command(add)
    _add_scheduled_commands(add)
    return parser


def _add_chain_commands(add, paths) -> None:
    """demo, ingest, validate, check, alert: the chain's steps one by one."""
    add(
        "demo",
        "toute la chaîne sur l'échantillon embarqué, sans réseau",
        "Lit l'échantillon embarqué (instantané réel de beta.gouv.fr et exports de commandes d'exemple), "
        f"écrit un entrepôt dans {paths.demo_dir}/, les constats, les alertes qui seraient envoyées (outbox) et "
        "le rapport HTML du dernier mois de l'échantillon, puis affiche où se trouve chaque résultat.",
    )

    p = add(
        "ingest",
        "charger les sources dans l'entrepôt",
        "Lit les sources (API beta.gouv.fr, data.gouv.fr, fichiers de la boîte de dépôt) et les écrit "
        "dans l'entrepôt. Chaque source est chargée en une transaction : en cas d'échec, l'entrepôt reste "
        "tel qu'il était.",
    )
    p.add_argument(
        "--source",
        choices=["betagouv", "datagouv", "orders", "all"],
        default="all",
        help="source à charger (défaut : all)",
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help="ne rien demander au réseau : beta.gouv.fr depuis le dernier instantané conservé (l'instantané "
             "embarqué sur un entrepôt neuf), data.gouv.fr non actualisé",
    )

    add(
        "validate",
        "vérifier les tables avec les suites Great Expectations",
        "Lit chaque table de l'entrepôt, la valide avec la suite correspondante de expectations/, enregistre "
        "les résultats dans l'entrepôt (validation.results) ; sortie 1 si une attente bloquante échoue.",
    )

    add(
        "check",
        "évaluer les règles de conformité",
        "Lit l'entrepôt, évalue chaque règle du catalogue pour chaque accord-cadre, enregistre les constats "
        "(findings.findings, sans doublon) et affiche un résumé par règle et gravité.",
    )

    p = add(
        "alert",
        "envoyer les alertes des nouveaux constats",
        "Envoie un récapitulatif des nouveaux constats critiques (et de tout nouveau HORS_STARTUP) par "
        "courriel (VIGIE_SMTP_URL, VIGIE_ALERT_TO) et par webhook (VIGIE_WEBHOOK_URL), ou les dépose dans "
        "le dossier outbox si aucun canal n'est configuré. Un envoi échoué est retenté à la prochaine exécution.",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="afficher ce qui serait envoyé, sans rien envoyer"
    )


def _add_findings_commands(add) -> None:
    """findings, status, review: reading and judging what the chain found."""
    p = add(
        "findings",
        "exporter les constats",
        "Lit findings.findings et écrit les constats en CSV (séparateur « ; », montants à virgule décimale, "
        "UTF-8 avec BOM dans un fichier : s'ouvre en colonnes dans Excel en français), JSON, ou XLSX (le fichier "
        "de l'analyste : en-têtes en français, montants en euros, dates, filtre, une feuille de tous les "
        "constats puis une par gravité). Sortie standard par défaut ; xlsx demande --output.",
    )
    p.add_argument("--format", choices=["csv", "json", "xlsx"], default="csv", help="format (défaut : csv)")
    p.add_argument("--rule", metavar="CODE", help="seulement les constats de cette règle")
    p.add_argument("--status", choices=["open", "reviewed", "all"], default="all",
                   help="open : à traiter ; reviewed : revus (y compris clos par un rapprochement) ; all (défaut)")
    p.add_argument("--output", metavar="FICHIER", help="écrire dans ce fichier plutôt qu'à l'écran")

    p = add(
        "status",
        "état des sources et des fichiers de la boîte de dépôt",
        "Lit l'entrepôt : pour chaque source, sa dernière actualisation réussie et son âge ; pour chaque "
        "fichier de la boîte de dépôt, son type, son empreinte, les lignes lues / chargées / en "
        "quarantaine, son statut (charge, rejete, doublon) et la raison.",
    )
    p.add_argument(
        "--format", choices=["text", "json"], default="text", help="format (défaut : text)"
    )

    p = add(
        "review",
        "marquer un constat comme revu",
        "Marque un constat « reviewed » avec la raison donnée : il reste dans l'historique et n'alerte plus. "
        "Le revoir encore remplace la raison ; chaque décision reste dans l'historique (findings.reviews). "
        "Écrit dans l'entrepôt.",
    )
    p.add_argument(
        "finding_id", metavar="FINDING_ID", help="identifiant du constat (voir « vigie findings »)"
    )
    p.add_argument("--reason", required=True, metavar="TEXTE", help="pourquoi ce constat est revu")
    p.add_argument("--by", metavar="NOM", help="qui le revoit (défaut : VIGIE_REVIEWER, sinon l'utilisateur du système)")


def _add_alias_command(add) -> None:
    """alias: teaching Vigie what a name means."""
    p = add(
        "alias",
        "enseigner à Vigie à quoi correspond un nom (startup, titulaire, acheteur)",
        "Enregistre dans l'entrepôt (findings.aliases) à quoi correspond un nom tel qu'il est écrit dans les "
        "fichiers, avec qui, quand et pourquoi ; la cible est vérifiée dans le référentiel (identifiant de "
        "startup de beta.gouv.fr, titulaire d'un accord-cadre, organisme connu ; « - » : aucun d'eux). Le "
        "prochain « vigie check » l'applique et clôt les constats qu'il règle, avec cette raison.\n\n"
        "exemples :\n"
        "  vigie alias startup \"1000 premiers jours\" 1000.jours --reason \"l'application, pas Blues\"\n"
        "  vigie alias acheteur \"Min. Transition écologique\" ministere:environnement --reason \"sigle usuel\"\n"
        "  vigie alias --list\n"
        "  vigie alias --remove startup \"1000 premiers jours\"\n"
        "  vigie alias --export rapprochements.csv   puis, chez un collègue :   vigie alias --import "
        "rapprochements.csv",
    )
    p.usage = ("vigie alias KIND RAW TARGET --reason TEXTE [--by NOM]\n"
               "       vigie alias --list | --remove KIND RAW | --export FICHIER | --import FICHIER")
    p.add_argument("kind", nargs="?", metavar="KIND", help="startup, titulaire ou acheteur")
    p.add_argument("raw", nargs="?", metavar="RAW", help="le nom tel qu'il est écrit dans les fichiers")
    p.add_argument("target", nargs="?", metavar="TARGET",
                   help="identifiant de startup, de titulaire ou d'organisme ; « - » pour aucun")
    p.add_argument("--reason", metavar="TEXTE", help="pourquoi (obligatoire pour enregistrer)")
    p.add_argument("--by", metavar="NOM", help="qui (défaut : VIGIE_REVIEWER, sinon l'utilisateur du système)")
    p.add_argument("--list", action="store_true", help="afficher les rapprochements enregistrés")
    p.add_argument("--remove", nargs=2, metavar=("KIND", "RAW"), help="oublier un rapprochement")
    p.add_argument("--export", metavar="FICHIER", help="écrire les rapprochements dans un fichier CSV (UTF-8, « ; »)")
    p.add_argument("--import", dest="import_file", metavar="FICHIER",
                   help="enregistrer les rapprochements d'un fichier écrit par --export")


def _add_scheduled_commands(add) -> None:
    """report, run, schedule: what the scheduler launches, and itself."""
    p = add(
        "report",
        "écrire le rapport mensuel HTML",
        "Lit l'entrepôt et écrit un rapport HTML autonome (sans aucune ressource externe) dans "
        "reports/AAAA-MM/ ou dans le dossier donné.",
    )
    p.add_argument("--month", required=True, type=_month, metavar="AAAA-MM", help="mois du rapport")
    p.add_argument("--output", metavar="DOSSIER", help="dossier de sortie (défaut : reports/AAAA-MM/)")
    p.add_argument("--agreement", metavar="ID", help="un seul accord-cadre (ex. acim-2026) ; défaut : tous")
    p.add_argument("--pdf", action="store_true", help="écrire aussi le rapport en PDF (imprimé par Chromium)")

    p = add(
        "run",
        "la tâche planifiée : ingest, validate, check, alert",
        "Charge toutes les sources (seulement ce qui a changé), valide, évalue les règles et envoie les "
        "alertes. Une seule exécution à la fois : une seconde exécution simultanée s'arrête avec un message.",
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help="sans réseau : beta.gouv.fr depuis le dernier instantané conservé (l'instantané embarqué sur un "
             "entrepôt neuf), data.gouv.fr non actualisé",
    )

    add(
        "schedule",
        "rester actif et lancer run chaque jour, report chaque mois",
        "Planificateur : lance « vigie run » et « vigie report » selon les expressions cron de la configuration "
        "(fuseau Europe/Paris). S'arrête proprement sur SIGTERM ou Ctrl-C.",
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # `vigie check --frob`: the usage of `check`, not of `vigie`
        where = parser.commands.choices.get(args.command, parser) if args.command else parser
        where.error(f"unrecognized arguments: {' '.join(unknown)}")
    if not args.command:
        parser.print_help()
        return 2
    from pipelines import commands, logs

    logs.setup()
    try:
        code = getattr(commands, f"cmd_{args.command}")(args)
        sys.stdout.flush()  # a reader gone away shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _reader_gone()
    except VigieError as exc:
        print(f"vigie : {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("vigie : interrompu.", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: say so in French, keep the detail for developers
        import traceback

        from pipelines.config import debug_enabled
        from pipelines.secrets import redact

        if debug_enabled():
            print(redact(traceback.format_exc()), file=sys.stderr)
        print(
            f"vigie : erreur interne inattendue ({exc.__class__.__name__} : {redact(str(exc))}). L'entrepôt n'a pas été "
            "modifié par l'étape en cours. Relancez avec VIGIE_DEBUG=1 pour le détail technique.",
            file=sys.stderr,
        )
        return 1


def _reader_gone() -> int:
    """`vigie … | head`: the reader closed the pipe. Like any Unix tool, stop quietly;
    what was already written to the warehouse stays. Python's own flush at exit would
    fail again on the closed pipe: point stdout at /dev/null first."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (tests capturing stdout)
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
