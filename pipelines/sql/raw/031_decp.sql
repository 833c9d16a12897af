-- DECP tabular columns exactly as published (pipelines/reference/decp_schema.json);
-- identifiers kept as text so that SIRETs keep their leading zeros.
CREATE TABLE IF NOT EXISTS raw.decp_contracts (
    "uid" VARCHAR,
    "id" VARCHAR,
    "nature" VARCHAR,
    "acheteur_id" VARCHAR,
    "acheteur_nom" VARCHAR,
    "titulaire_id" VARCHAR,
    "titulaire_typeIdentifiant" VARCHAR,
    "titulaire_nom" VARCHAR,
    "objet" VARCHAR,
    "montant" DOUBLE,
    "type" VARCHAR,
    "codeCPV" VARCHAR,
    "procedure" VARCHAR,
    "techniques" VARCHAR,
    "dureeMois" BIGINT,
    "dureeRestanteMois" DOUBLE,
    "offresRecues" BIGINT,
    "dateNotification" DATE,
    "datePublicationDonnees" DATE,
    "formePrix" VARCHAR,
    "typesPrix" VARCHAR,
    "attributionAvance" BOOLEAN,
    "tauxAvance" DOUBLE,
    "marcheInnovant" BOOLEAN,
    "modalitesExecution" VARCHAR,
    "considerationsSociales" VARCHAR,
    "considerationsEnvironnementales" VARCHAR,
    "ccag" VARCHAR,
    "sousTraitanceDeclaree" BOOLEAN,
    "typeGroupementOperateurs" VARCHAR,
    "origineUE" DOUBLE,
    "origineFrance" DOUBLE,
    "lieuExecution_code" VARCHAR,
    "lieuExecution_typeCode" VARCHAR,
    "idAccordCadre" VARCHAR,
    "titulaire_distance" BIGINT,
    "acheteur_categorie" VARCHAR,
    "acheteur_commune_code" VARCHAR,
    "acheteur_commune_nom" VARCHAR,
    "acheteur_departement_code" VARCHAR,
    "acheteur_departement_nom" VARCHAR,
    "acheteur_region_code" VARCHAR,
    "acheteur_region_nom" VARCHAR,
    "acheteur_latitude" DOUBLE,
    "acheteur_longitude" DOUBLE,
    "titulaire_categorie" VARCHAR,
    "titulaire_commune_code" VARCHAR,
    "titulaire_commune_nom" VARCHAR,
    "titulaire_departement_code" VARCHAR,
    "titulaire_departement_nom" VARCHAR,
    "titulaire_region_code" VARCHAR,
    "titulaire_region_nom" VARCHAR,
    "titulaire_latitude" DOUBLE,
    "titulaire_longitude" DOUBLE,
    "modification_id" BIGINT,
    "donneesActuelles" BOOLEAN,
    "sourceDataset" VARCHAR,
    "sourceFile" VARCHAR,
    "vigie_resource_id" VARCHAR,
    "vigie_checksum" VARCHAR,
    "vigie_match" VARCHAR      -- why the row was kept: accord_cadre | titulaire_beneficiaire
);

-- What each DECP load read (columns added after the first release).
ALTER TABLE raw.decp_loads ADD COLUMN IF NOT EXISTS resource_title VARCHAR;
ALTER TABLE raw.decp_loads ADD COLUMN IF NOT EXISTS rows_read BIGINT;  -- rows in the file; dropped = read - kept

-- What a DECP load could not read, counted over the whole file. Grain: load x column x
-- problem. problem: conversion (the value does not cast to the column's type: loaded as
-- NULL) | date_impossible (before 2000 or after next year: loaded as NULL) | mojibake
-- (UTF-8 read as Latin-1 upstream: kept as is). example: one such value, as published.
CREATE TABLE IF NOT EXISTS raw.decp_load_quality (
    loaded_at       TIMESTAMPTZ NOT NULL,
    resource_id     VARCHAR NOT NULL,
    resource_title  VARCHAR,
    column_name     VARCHAR NOT NULL,
    problem         VARCHAR NOT NULL,
    values_count    BIGINT NOT NULL,
    example         VARCHAR
);
