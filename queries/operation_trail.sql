-- Every domain event of one operation ($operation_id), by operation_id or in operation_ids
SELECT ts, event_type, correlation_id, file, line, record
FROM events
WHERE json_extract_string(record, '$.operation_id') = $operation_id
   OR list_contains(json_extract_string(record, '$.operation_ids[*]'), $operation_id)
ORDER BY ts, file, line
