-- Per container: records, warnings, errors, components, first/last activity and skipped lines
-- Reads _logs_brief (one typed scan of the logs files); master.log lines count only for
-- containers without files of their own (the `logs` view's rule). Grouping by component
-- first keeps the distinct-component count a cheap second step over a few rows.
WITH per_component AS (
    SELECT
        container_id,
        component_name,
        count(*) FILTER (WHERE ok) AS records,
        count(*) FILTER (WHERE ok AND level = 'WARNING') AS warnings,
        count(*) FILTER (WHERE ok AND level IN ('ERROR', 'CRITICAL')) AS errors,
        min(ts) FILTER (WHERE ok) AS first_activity,
        max(ts) FILTER (WHERE ok) AS last_activity,
        count(*) FILTER (WHERE NOT ok) AS skipped
    FROM _logs_brief
    WHERE NOT ok
       OR source_kind <> 'master'
       OR NOT list_contains(getvariable('lt_direct'), container_id)
    GROUP BY container_id, component_name
)
SELECT
    container_id,
    sum(records)::BIGINT AS records,
    sum(warnings)::BIGINT AS warnings,
    sum(errors)::BIGINT AS errors,
    count(*) FILTER (WHERE records > 0) AS components,
    min(first_activity) AS first_activity,
    max(last_activity) AS last_activity,
    sum(skipped)::BIGINT AS skipped
FROM per_component
GROUP BY container_id
ORDER BY container_id NULLS LAST
