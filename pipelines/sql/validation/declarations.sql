-- Each declaration with whether its holder is a holder of some agreement.
SELECT d.numero_bc, d.titulaire_key, d.titulaire, d.date_bc, d.date_information_dinum, d.montant_ht,
       EXISTS (SELECT 1 FROM core.holder_resolution h WHERE h.raw_value = d.titulaire AND h.holder_id IS NOT NULL)
           AS holder_known
FROM mart.declarations d
