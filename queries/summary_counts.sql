-- Record counts and time span of every view, by kind, level, container and component
SELECT 'logs' AS kind, source_kind AS sub, level, container_id, component_name,
       count(*) AS records, min(ts) AS first, max(ts) AS last
FROM logs GROUP BY ALL
UNION ALL
SELECT 'flows', coalesce(tier, 'internal'), NULL, NULL, NULL, count(*), min(ts), max(ts)
FROM flows GROUP BY ALL
UNION ALL
SELECT 'correlations', NULL, level, NULL, NULL, count(*), min(ts), max(ts)
FROM correlations GROUP BY ALL
UNION ALL
SELECT 'metrics', record_type, NULL, NULL, NULL, count(*), min(ts), max(ts)
FROM metrics GROUP BY ALL
UNION ALL
SELECT 'events', event_type, NULL, NULL, NULL, count(*), min(ts), max(ts)
FROM events GROUP BY ALL
ORDER BY kind, sub NULLS FIRST, level NULLS FIRST, container_id NULLS FIRST,
         component_name NULLS FIRST
