-- Tight-loop and reconciliation events whose reconciliation did not succeed
SELECT ts, 'tight_loop' AS event_type, correlation_id, operation_id, retry_count, file, line
FROM events_tight_loop
WHERE reconciliation_success = false
UNION ALL
SELECT ts, 'reconciliation' AS event_type, correlation_id, NULL AS operation_id,
       NULL AS retry_count, file, line
FROM events_reconciliation
WHERE reconciliation_success = false
ORDER BY ts, file, line
