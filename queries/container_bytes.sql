-- Bytes on disk per container: its container directory files and its metrics file
SELECT container_hint AS container_id, sum(size)::BIGINT AS bytes
FROM _files
WHERE kind IN ('logs', 'metrics') AND container_hint IS NOT NULL
GROUP BY container_hint
