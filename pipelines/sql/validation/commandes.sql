-- Frame validated by expectations/commandes.json; agreement_known checks that every order
-- is tied to an agreement Vigie knows (declared or inferred).
SELECT o.numero_bc, o.date_bc, o.acheteur, o.startup, o.titulaire, o.montant_ht, o.montant_ttc, o.agreement_id,
       o.lot, o.source_file, o.source_line,
       a.agreement_id IS NOT NULL AS agreement_known
FROM int.orders_enriched o
LEFT JOIN ref.agreements a ON a.agreement_id = o.agreement_id
