-- Error codes from system_errors domain events, with their count and highest severity
-- $since / $until: TIMESTAMP bounds (NULL for none), until exclusive.
SELECT
    error_code AS code,
    count(*) AS count,
    min(CASE upper(severity) WHEN 'CRITICAL' THEN 1 WHEN 'HIGH' THEN 2 WHEN 'MEDIUM' THEN 3
        WHEN 'LOW' THEN 4 ELSE 5 END) AS severity_rank
FROM events_system_errors
WHERE error_code IS NOT NULL
  AND ($since IS NULL OR ts >= $since)
  AND ($until IS NULL OR ts < $until)
GROUP BY error_code
ORDER BY count DESC, code
