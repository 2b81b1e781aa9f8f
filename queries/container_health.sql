-- Per container: records, warnings, errors, components, first/last activity and skipped lines
-- Reads _logs_brief (one typed scan of the logs files); master.log lines count only for
-- containers without files of their own (the `logs` view's rule).
SELECT
    container_id,
    count(*) FILTER (WHERE ok) AS records,
    count(*) FILTER (WHERE ok AND level = 'WARNING') AS warnings,
    count(*) FILTER (WHERE ok AND level IN ('ERROR', 'CRITICAL')) AS errors,
    count(DISTINCT component_name) FILTER (WHERE ok) AS components,
    min(ts) FILTER (WHERE ok) AS first_activity,
    max(ts) FILTER (WHERE ok) AS last_activity,
    count(*) FILTER (WHERE NOT ok) AS skipped
FROM _logs_brief
WHERE NOT ok
   OR source_kind <> 'master'
   OR NOT list_contains(getvariable('lt_direct'), container_id)
GROUP BY container_id
ORDER BY container_id NULLS LAST
