"""French messages for findings: one sentence an analyst understands without the code.

Pure functions of the finding's row (evidence decoded) and a small lookup context.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pipelines import fr
from pipelines.shell import alias_command

PHASES = {
    "investigation": "investigation", "construction": "construction", "acceleration": "accélération",
    "consolidation": "consolidation", "transfere": "transférée", "opere": "opérée",
    "abandon": "abandonnée", "abandon-investigation": "abandonnée en investigation",
}
RESPONSES = {
    "accepte": "accepté", "refus": "refus", "desistement": "désistement",
    "sans_reponse": "sans réponse", "droit_de_suite": "droit de suite",
}


@dataclass
class Context:
    agreements: dict[str, str]  # id -> short title
    ministries: dict[str, str]  # code -> label

    @classmethod
    def load(cls, con) -> Context:
        return cls(
            dict(con.execute("SELECT agreement_id, short_title FROM ref.agreements").fetchall()),
            dict(con.execute("SELECT ministry, label FROM ref.ministries").fetchall()),
        )

    def agreement(self, agreement_id: str | None) -> str:
        """'l'accord-cadre ACIM 2026' — reads after 'de' or 'à' in every message."""
        if not agreement_id:
            return "l'accord-cadre"
        return f"l'accord-cadre {self.agreements.get(agreement_id, agreement_id)}"

    def ministry(self, code: str | None) -> str:
        return self.ministries.get(code or "", code or "ministère inconnu")


def _d(value) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return fr.day(value)


def _order(row: dict, ev: dict) -> str:
    when = ev.get("date_bc")
    return f"Commande {row['numero_bc']}" + (f" du {_d(when)}" if when else "")


def _who(row: dict) -> str:
    parts = []
    if row.get("acheteur"):
        parts.append(f"acheteur : {row['acheteur']}")
    if row.get("titulaire"):
        parts.append(f"titulaire : {row['titulaire']}")
    if row.get("amount_ht") is not None:
        parts.append(f"{fr.money(row['amount_ht'])} HT")
    return f" ({' ; '.join(parts)})" if parts else ""


def _names(candidates, min_score: float = 0) -> str:
    items = [c for c in (candidates if isinstance(candidates, list) else [])
             if isinstance(c, dict) and float(c.get("score") or 100) >= min_score]
    names = [c.get("nom") or c.get("id") or c.get("titulaire") for c in items if isinstance(c, dict)]
    return ", ".join(n for n in names if n)


def hors_startup(row, ev, ctx):
    base = f"{_order(row, ev)}{_who(row)} : le produit « {ev.get('produit')} » "
    if ev.get("methode") == "ambigu":
        return base + (f"peut désigner plusieurs startups ({_names(ev.get('candidats'))}) : impossible de vérifier "
                       "qu'il s'agit d'une Startup d'État. Précisez l'identifiant beta.gouv.fr.")
    if ev.get("startup_id"):
        later = ev.get("listee_a_partir_du")
        text = base + f"({ev.get('startup_id')}) ne figurait pas sur la liste beta.gouv.fr/startups à cette date"
        if later and row.get("severity") == "alerte":
            text += (f" ; elle y figure depuis le {_d(later)}, moins de {ev.get('delai_de_grace_jours')} jours "
                     "après la commande (les équipes sont souvent listées quelques semaines après leur début) : "
                     "vérifiez que le produit existait bien comme Startup d'État.")
        elif later:
            text += f" ; elle n'y a été listée que le {_d(later)}. Être listée ensuite n'excuse pas la commande."
        else:
            text += ". Le marché ne peut servir qu'à des Startups d'État listées."
        if ev.get("desaccord_historique"):
            text += " L'historique du site et les instantanés de Vigie divergent pour cette startup : à revoir."
        return text
    near = _names(ev.get("candidats"), min_score=80)
    hint = f" Noms approchants, non retenus : {near}." if near else ""
    return base + ("ne correspond à aucune Startup d'État listée sur beta.gouv.fr/startups. Le marché ne peut "
                   "servir qu'à des Startups d'État (seule exception : les produits numériques de la DINUM, "
                   "commandés par la DINUM)." + hint)


def exception_dinum(row, ev, ctx):
    return (f"{_order(row, ev)}{_who(row)} : la DINUM commande pour « {ev.get('produit')} », absent de "
            "beta.gouv.fr/startups. C'est admis pour les produits numériques de la DINUM seulement : "
            "vérifiez qu'il s'agit bien de l'un d'eux.")


def phase_non_eligible(row, ev, ctx):
    eligible = ", ".join(PHASES.get(p, p) for p in ev.get("phases_eligibles") or [])
    if ev.get("phase") is None:
        first = ev.get("premiere_phase")
        return (f"{_order(row, ev)}{_who(row)} : la commande précède la première phase de la startup "
                f"{row.get('startup')}" + (f" (le {_d(first)})" if first else "") + f". Phases éligibles : {eligible}.")
    return (f"{_order(row, ev)}{_who(row)} : à cette date, la startup {row.get('startup')} était en phase "
            f"« {PHASES.get(ev['phase'], ev['phase'])} », non éligible au titre de {ctx.agreement(row['agreement_id'])} "
            f"(phases éligibles : {eligible}).")


def acheteur_non_beneficiaire(row, ev, ctx):
    written = ev.get("acheteur_ecrit")
    name = row.get("acheteur")
    who = f"« {written} »" + (f" ({name})" if name and name != written else "")
    lot = f", lot {ev['lot']}" if ev.get("lot") else ""
    if ev.get("evaluable") is False:
        return (f"{_order(row, ev)} : non évaluable — la liste des bénéficiaires de "
                f"{ctx.agreement(row['agreement_id'])}{lot} n'est pas publiée ; l'acheteur {who} n'a pas pu être "
                "vérifié.")
    return (f"{_order(row, ev)} : l'acheteur {who} n'est pas bénéficiaire de "
            f"{ctx.agreement(row['agreement_id'])}{lot} — {ev.get('raison')}.")


def titulaire_invalide(row, ev, ctx):
    written = ev.get("titulaire_ecrit")
    agreement = ctx.agreement(row["agreement_id"])
    head = f"{_order(row, ev)}{_who({**row, 'titulaire': None})} : "
    if ev.get("valide_jusqu_au") and row.get("holder_id"):
        end = date.fromisoformat(str(ev["valide_jusqu_au"])[:10])
        merged = f" (fusion dans {ev['fusionne_dans_nom']})" if ev.get("fusionne_dans_nom") else ""
        return head + (f"{row.get('titulaire')} n'est plus titulaire de {agreement} depuis le "
                       f"{fr.day(end + timedelta(days=1))}{merged}.")
    if ev.get("valide_depuis") and row.get("holder_id"):
        return head + f"{row.get('titulaire')} n'est titulaire de {agreement} qu'à partir du {_d(ev['valide_depuis'])}."
    if ev.get("methode") == "ambigu":
        return head + (f"« {written} » désigne plusieurs titulaires ({_names(ev.get('candidats'))}) : "
                       "impossible de savoir lequel a reçu la commande.")
    others = [a for a in ev.get("autres_accords") or [] if a != row["agreement_id"]]
    if others:
        return head + (f"« {written} » est titulaire de {', '.join(ctx.agreement(a) for a in others)}, "
                       f"pas de {agreement}.")
    return head + f"« {written} » n'est pas un titulaire de {agreement}."


def hors_periode(row, ev, ctx):
    inferred = "" if ev.get("methode_accord") == "declare" else " (accord-cadre déduit de la date et du titulaire)"
    return (f"{_order(row, ev)}{_who(row)} : date hors de la période de {ctx.agreement(row['agreement_id'])}"
            f"{inferred}, du {_d(ev.get('debut'))} au {_d(ev.get('fin'))}.")


def plafond(row, ev, ctx):
    name = ctx.agreement(row["agreement_id"])
    if row.get("subject_type") == "commande":
        return (f"{_order(row, ev)}{_who(row)} : passée après que le lot {ev['lot']} de {name} a atteint son "
                f"montant maximum de {fr.money(ev['maximum_ht'], 0)} HT (le {_d(ev.get('atteint_le'))}). "
                "Le lot cesse de produire ses effets quand son maximum est atteint (CCAP art. 4).")
    share, threshold = float(ev["part"]), float(ev["seuil"])
    text = (f"{name[0].upper()}{name[1:]}, lot {ev['lot']} : {fr.money(ev['consomme_ht'], 0)} HT commandés, "
            f"soit {fr.percent(share)} du montant maximum de {fr.money(ev['maximum_ht'], 0)} "
            f"(seuil de {fr.percent(threshold, 0)} atteint).")
    if ev.get("atypiques_exclus"):
        text += (f" {ev['atypiques_exclus']} montant(s) atypique(s) non revu(s), soit "
                 f"{fr.money(ev.get('atypiques_exclus_ht'), 0)} HT, ne sont pas comptés.")
    if threshold >= 1:
        return text + " Le lot cesse de produire ses effets quand son maximum est atteint."
    return text + " Un avenant de +15 % devient possible à partir de 75 % de consommation."


def refus_seuil(row, ev, ctx):
    contact = row.get("contact")
    write = f" Écrire à : {contact}." if contact else " Contact du titulaire non publié."
    return (f"{row.get('titulaire')} a refusé {fr.plural(int(ev['total']), 'expression de besoin distincte', 'expressions de besoin distinctes')} sur "
            f"{ctx.agreement(row['agreement_id'])} ({fr.plural(int(ev['refus']), 'refus', 'refus')}, "
            f"{fr.plural(int(ev['desistements']), 'désistement')} ; "
            f"seuil : {ev['seuil']} ; un besoin proposé deux fois compte une fois). À 10, l'acheteur en informe "
            f"tous les bénéficiaires, qui peuvent retirer ce titulaire de leur tourniquet.{write}")


def refus_non_justifie(row, ev, ctx):
    return (f"Besoin {row['numero_besoin']} du {_d(ev.get('date_besoin'))} (rang {ev.get('rang')}, "
            f"acheteur : {row.get('acheteur')}) : {row.get('titulaire')} a répondu "
            f"« {RESPONSES.get(ev.get('reponse'), ev.get('reponse'))} » sans justification"
            + (f" (« {ev['motif_ecrit']} » ne justifie rien)" if ev.get("motif_ecrit") else "")
            + ". Le titulaire doit justifier tout refus auprès du bénéficiaire et de l'acheteur.")


def tourniquet(row, ev, ctx):
    if ev.get("mode") == "sequentiel_besoins":
        return (f"Besoin {ev['besoin']} du {_d(ev.get('date_besoin'))} (acheteur : {row.get('acheteur')}) : le besoin "
                f"précédent de ce bénéficiaire ({ev['besoin_precedent']}) avait d'abord été proposé à "
                f"{ev['premier_precedent']} ; celui-ci devait d'abord aller à {ev['attendu']}, il a été proposé à "
                f"{ev['sollicite']}. Ordre du tourniquet : {' → '.join(ev['ordre'])}.")
    if ev.get("mode") == "valeur" and ev.get("droit_de_suite_sans_antecedent"):
        return (f"{_order(row, ev)}{_who({**row, 'titulaire': None})} : attribuée à {ev['attribue_a']} au titre d'un "
                "droit de suite, mais ce titulaire n'avait reçu aucune commande de ce bénéficiaire pour ce produit "
                f"auparavant ; elle revenait à {ev['attendu']}.")
    if ev.get("mode") == "valeur" and ev.get("saut_trop_tot"):
        return (f"{_order(row, ev)}{_who({**row, 'titulaire': None})} : attribuée à {ev['attribue_a']} en passant le "
                f"tour de {ev['attendu']} faute de réponse, après {ev['jours_ouvres']} jour(s) ouvré(s) seulement "
                f"(il en faut {ev['jours_requis']}, CCAP art. 10.4 ; jours fériés exclus).")
    if ev.get("mode") == "sequentiel":
        return (f"Besoin {ev['besoin']} du {_d(ev.get('date_besoin'))} (acheteur : {row.get('acheteur')}) : "
                f"après {ev['titulaire_precedent']} (rang {ev['rang_precedent']}), le besoin devait passer à "
                f"{ev['attendu']} ; il a été proposé à {ev['sollicite']} (rang {ev['rang']}). "
                f"Ordre du tourniquet : {' → '.join(ev['ordre'])}.")
    cumuls = ", ".join(f"{k} {fr.money_short(v)}" for k, v in (ev.get("cumuls_avant") or {}).items())
    when = "au premier cycle" if ev.get("phase") == "premier_cycle" else "alors que l'ordre A > B > C avait dérivé"
    return (f"{_order(row, ev)}{_who({**row, 'titulaire': None})} : attribuée à {ev['attribue_a']} {when} ; "
            f"elle revenait à {ev['attendu']} (cumuls avant la commande : {cumuls}) et aucun désistement ni "
            "droit de suite ne l'explique.")


def non_declare_dinum(row, ev, ctx):
    half = int(ev.get("semestre") or 0)
    label = f"{'1er' if half % 10 == 1 else '2e'} semestre {half // 10}" if half else "semestre"
    contact = row.get("contact")
    write = f" Écrire à : {contact}." if contact else ""
    none = " (ce titulaire n'a rien déclaré du tout)" if ev.get("declarations_du_titulaire") == 0 else ""
    return (f"{_order(row, ev)}{_who(row)} : absente des déclarations de {row.get('titulaire')} à la DINUM pour le "
            f"{label}, dont l'état était dû le {_d(ev.get('echeance'))}{none}. Les titulaires doivent informer la "
            f"DINUM de toute commande.{write}")


def montant_incoherent(row, ev, ctx):
    ht = ev.get("montant_ht")
    if ht is not None and float(ht) <= 0:
        return f"Commande {row['numero_bc']}{_who({**row, 'amount_ht': None})} : montant HT de {fr.money(ht)}, nul ou négatif."
    expected = ev.get("ttc_attendu")
    gap = abs(float(ev["montant_ttc"]) - float(expected))
    rate = fr.number(1 + float(ev.get("taux_tva") or 0.2), 2)
    return (f"Commande {row['numero_bc']}{_who({**row, 'amount_ht': None})} : TTC de {fr.money(ev['montant_ttc'])} "
            f"pour {fr.money(ht)} HT, au lieu de {fr.money(expected)} (HT × {rate}) : écart de {fr.money(gap)}.")


def source_perimee(row, ev, ctx):
    label = ev.get("label") or row["subject"]
    limit = fr.duration_hours(ev.get("max_age_hours"))
    if not ev.get("data_as_of"):
        tail = f" Dernière erreur : {ev['last_error']}" if ev.get("last_error") else ""
        return f"La source « {label} » n'a jamais été actualisée avec succès (limite : {limit}).{tail}"
    as_of = datetime.fromisoformat(str(ev["data_as_of"]))
    tail = f" Dernière erreur : {ev['last_error']}" if ev.get("last_error") else ""
    return (f"Les données de la source « {label} » datent du {fr.moment(as_of)}, il y a "
            f"{fr.duration_hours(ev.get('age_hours'))} (limite : {limit}).{tail}")


def ministere_different(row, ev, ctx):
    sponsors = ", ".join(f"« {ctx.ministry(m)} »" for m in ev.get("ministeres_sponsors") or []) or "aucun connu"
    incubator = ev.get("ministere_incubateur")
    incubator = f"« {ctx.ministry(incubator)} »" if incubator else "inconnu"
    return (f"Commande {row['numero_bc']} : l'acheteur ({row.get('acheteur')}) relève de "
            f"« {ctx.ministry(ev.get('ministere_acheteur'))} », qui n'est ni le ministère d'un sponsor de la startup "
            f"{row.get('startup')} ({sponsors}) ni celui de son incubateur ({incubator}).")


def hors_perimetre_lot(row, ev, ctx):
    incubator = ev.get("incubateur_nom") or ev.get("incubateur")
    return (f"{_order(row, ev)}{_who(row)} : le produit {row.get('startup')} relève de l'incubateur « {incubator} » "
            f"({ev.get('incubateur')}), exclu du lot {ev.get('lot')} de "
            f"{ctx.agreement(row['agreement_id'])} : « produits numériques opérés par la DINUM (hors OPI) » "
            "(CCAP art. 2, CCTP §3.2).")


KIND_LABELS = {"startup": "le produit", "titulaire": "le titulaire", "acheteur": "l'acheteur"}


def _candidate_label(c: dict) -> str:
    ident = c.get("id") or c.get("titulaire") or c.get("organisme")
    name = c.get("nom") or c.get("name")
    return f"{name} ({ident})" if name and name != ident else str(ident)


def rapprochement_a_revoir(row, ev, ctx):
    if ev.get("conflit"):
        versions = "; ".join(f"{v.get('fichier')} ligne {v.get('ligne')} : {fr.money(v.get('montant_ht'))} HT"
                             for v in ev["conflit"])
        return (f"Commande {row['numero_bc']} : le même numéro porte des valeurs différentes dans des fichiers déposés "
                f"ensemble ({versions}). Seule la dernière version lue est comptée, une seule fois ; vérifiez "
                "laquelle est juste et déposez la correction.")
    parts = []
    for name in ev.get("noms") or []:
        candidates = name.get("candidats")
        if isinstance(candidates, str):
            candidates = json.loads(candidates)
        items = [c for c in candidates or [] if isinstance(c, dict)]
        labels = ", ".join(_candidate_label(c) for c in items)
        example = next((c.get("id") or c.get("titulaire") for c in items), "IDENTIFIANT")
        kind = name.get("type")
        parts.append(f"{KIND_LABELS.get(kind, kind)} « {name.get('ecrit')} » correspond à plusieurs candidats "
                     f"({labels}) ; pour enregistrer le bon : {alias_command(kind, name.get('ecrit') or '', example)}")
    return (f"{_order(row, ev)}{_who(row)} : " + " ; ".join(parts)
            + ". La commande sera jugée de nouveau une fois le rapprochement enregistré.")


def execution_apres_fin(row, ev, ctx):
    return (f"{_order(row, ev)}{_who(row)} : exécution prévue jusqu'au {_d(ev.get('date_fin'))}, au-delà du "
            f"{_d(ev.get('limite'))} — {ev.get('mois_permis')} mois après la fin de {ctx.agreement(row['agreement_id'])} "
            f"le {_d(ev.get('fin_accord'))} (CCAP art. 10.2).")


def montant_atypique(row, ev, ctx):
    why = []
    if ev.get("au_dessus_du_plafond"):
        why.append(f"au-dessus de {fr.money(ev.get('plafond_atypique'), 0)} HT")
    if ev.get("au_dessus_de_la_mediane"):
        why.append(f"plus de {fr.number(float(ev.get('facteur') or 20), 0)} fois la médiane des commandes de l'accord "
                   f"({fr.money(ev.get('mediane_ht'), 0)} HT)")
    if ev.get("marque_a_verifier"):
        why.append("marqué « à vérifier »")
    return (f"Commande {row['numero_bc']}{_who({**row, 'amount_ht': None})} : montant de {fr.money(ev.get('montant_ht'))} "
            f"HT atypique ({' ; '.join(why)}) — probable faute de saisie. Tant qu'il n'est pas revu, il est affiché "
            "mais exclu des totaux, des tendances et du calcul du plafond.")


def render(row: dict, ctx: Context, write) -> str:
    """`write`: the rule's message function, named by its catalogue record (`message`)."""
    evidence = row.get("evidence")
    ev = json.loads(evidence) if isinstance(evidence, str) else (evidence or {})
    message = write(row, ev, ctx)
    where = f" Source : {row['source_file']}, ligne {row['source_line']}." if row.get("source_file") else ""
    return message + where
