-- How many tiered flows lack latency_ms (and so need the publish -> first-record measurement)
SELECT count(*) AS n FROM flows WHERE tier IS NOT NULL AND latency_ms IS NULL
