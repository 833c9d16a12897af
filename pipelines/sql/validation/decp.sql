SELECT "uid" AS uid, "acheteur_id" AS acheteur_id, "titulaire_id" AS titulaire_id,
       CASE WHEN "titulaire_typeIdentifiant" = 'SIRET' THEN "titulaire_id" END AS titulaire_siret,
       "titulaire_typeIdentifiant" AS titulaire_type_identifiant, "montant" AS montant,
       "dateNotification" AS date_notification, "idAccordCadre" AS id_accord_cadre, "vigie_match" AS vigie_match
FROM raw.decp_contracts
