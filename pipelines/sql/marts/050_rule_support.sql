-- Aggregates some rules and the report share.

-- Consumption of each lot's maximum: purchase orders of the inbox, plus the marchés
-- subséquents published in DECP for lots executed that way.
CREATE OR REPLACE VIEW mart.lot_consumption AS
WITH orders AS (
    SELECT agreement_id, lot, sum(montant_ht) AS ht, count(*) AS n
    FROM mart.orders_enriched WHERE agreement_id IS NOT NULL GROUP BY ALL
), decp AS (
    SELECT agreement_id, lot, sum(montant) AS ht, count(DISTINCT uid) AS n
    FROM (SELECT DISTINCT uid, agreement_id, lot, montant FROM mart.decp_contracts WHERE agreement_id IS NOT NULL)
    GROUP BY ALL
)
SELECT
    l.agreement_id, l.lot, l.title, l.execution, l.estimated_ht, l.maximum_ht,
    coalesce(o.ht, 0) + coalesce(d.ht, 0) AS consumed_ht,
    coalesce(o.n, 0) AS orders,
    coalesce(d.n, 0) AS decp_contracts,
    (coalesce(o.ht, 0) + coalesce(d.ht, 0)) / nullif(l.maximum_ht, 0) AS share
FROM ref.agreement_lots l
LEFT JOIN orders o USING (agreement_id, lot)
LEFT JOIN decp d USING (agreement_id, lot);

-- Refusals and withdrawals per holder over the whole agreement. A holder that merged
-- into another (Benext into OCTO) counts with it.
CREATE OR REPLACE VIEW mart.holder_refusals AS
WITH s AS (
    SELECT s.*, coalesce(h.merged_into, s.holder_id) AS counted_holder,
           list_contains(a.refusal_responses, s.reponse) AS counts_as_refusal
    FROM mart.solicitations s
    JOIN ref.agreements a ON a.agreement_id = s.agreement_id
    LEFT JOIN ref.holders h ON h.agreement_id = s.agreement_id AND h.holder_id = s.holder_id
    WHERE s.holder_id IS NOT NULL
)
SELECT
    s.agreement_id,
    s.counted_holder AS holder_id,
    hh.name AS holder_name,
    hh.rank AS holder_rank,
    hh.contact_email,
    count(*) AS solicitations,
    count(*) FILTER (WHERE s.reponse = 'accepte' OR s.reponse = 'droit_de_suite') AS accepted,
    count(*) FILTER (WHERE s.reponse = 'refus') AS refusals,
    count(*) FILTER (WHERE s.reponse = 'desistement') AS withdrawals,
    count(*) FILTER (WHERE s.reponse = 'sans_reponse') AS no_answer,
    count(*) FILTER (WHERE s.counts_as_refusal) AS total,
    count(*) FILTER (WHERE s.counts_as_refusal AND s.motif IS NULL) AS unjustified,
    list({besoin: s.numero_besoin, date: s.date_besoin, reponse: s.reponse, motif: s.motif,
          acheteur: s.buyer_name, titulaire_ecrit: s.titulaire, rang: s.rang}
         ORDER BY s.date_besoin, s.numero_besoin, s.rang)
        FILTER (WHERE s.counts_as_refusal) AS needs
FROM s
JOIN ref.holders hh ON hh.agreement_id = s.agreement_id AND hh.holder_id = s.counted_holder
GROUP BY ALL;
