SELECT organisation_id, name, acronym, domaine_ministeriel, type
FROM stg.betagouv__organisations
