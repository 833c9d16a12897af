-- Frame validated by expectations/startups.json
SELECT startup_id, name, incubator_id, ministry, ministry_source, current_phase,
       len(sponsors) AS sponsors_count
FROM mart.startups
