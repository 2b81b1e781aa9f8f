-- The value of one position ($position_key) in every positions snapshot that holds it
SELECT ts, correlation_id,
       try_cast(positions ->> $position_key AS DOUBLE) AS value,
       total_value_usd, file, line
FROM events_positions
WHERE positions ->> $position_key IS NOT NULL
ORDER BY ts, file, line
