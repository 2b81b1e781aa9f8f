-- Per container: records, warnings, errors, components, first/last activity and skipped lines
-- Reads _health (the logs files' lines grouped by file, container, component and level, from
-- one typed scan); master.log records count only for containers without files of their own
-- (the `logs` view's rule); unreadable lines count as skipped wherever they are.
WITH per_component AS (
    SELECT
        container_id,
        component_name,
        coalesce(sum(records) FILTER (WHERE keep), 0) AS records,
        coalesce(sum(records) FILTER (WHERE keep AND level = 'WARNING'), 0) AS warnings,
        coalesce(sum(records) FILTER (WHERE keep AND level IN ('ERROR', 'CRITICAL')), 0)
            AS errors,
        min(first_ts) FILTER (WHERE keep) AS first_activity,
        max(last_ts) FILTER (WHERE keep) AS last_activity,
        sum(bad) AS skipped
    FROM (
        SELECT *, source_kind <> 'master'
                  OR NOT list_contains(getvariable('lt_direct'), container_id) AS keep
        FROM _health
    )
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
