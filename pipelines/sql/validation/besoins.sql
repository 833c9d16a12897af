-- Each solicitation of the tourniquet log, with its resolved holder (referential integrity:
-- every solicitation's holder is a holder of its agreement).
SELECT numero_besoin, rang, reponse, date_besoin, date_reponse, titulaire, holder_id,
       holder_id IS NOT NULL AS holder_known, agreement_id, montant_estime_ht
FROM int.solicitations
