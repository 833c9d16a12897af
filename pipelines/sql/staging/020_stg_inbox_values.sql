-- The raw entity values written in every inbox table: what resolution must explain.
CREATE OR REPLACE VIEW stg.inbox_values AS
SELECT 'commandes' AS kind, startup, titulaire, acheteur FROM raw.commandes
UNION ALL
SELECT 'declarations', startup, titulaire, acheteur FROM raw.declarations
UNION ALL
SELECT 'besoins', startup, titulaire, acheteur FROM raw.besoins;
