-- Operation executions whose status is failed (the seed's jq 'select(.status == "failed")')
SELECT ts, correlation_id, operation_id, operation_type, venue, status, error_code,
       error_message, execution_duration_ms, file, line
FROM events_operation_executions
WHERE lower(status) IN ('failed', 'failure', 'error')
ORDER BY ts, file, line
