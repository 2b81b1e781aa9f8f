-- Operation executions that took longer than $threshold_ms milliseconds, slowest first
SELECT ts, correlation_id, operation_id, operation_type, venue, status,
       execution_duration_ms, file, line
FROM events_operation_executions
WHERE execution_duration_ms > $threshold_ms
ORDER BY execution_duration_ms DESC, ts
