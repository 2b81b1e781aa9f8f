-- Per tier (or per tier and route when $by_route): flow count and p50/p90/p99/max latency in ms
-- Percentiles are quantile_cont (linear interpolation). A flow without latency_ms is measured
-- from its timestamp to the first record of the same correlation id in the target container
-- strictly after it. $derive = false skips that join (and its scan of every log file) when
-- every flow carries latency_ms. Without $by_route, source and target are NULL.
WITH f AS (
    SELECT row_number() OVER () AS n, tier, source, target, correlation_id, ts, latency_ms
    FROM flows
    WHERE tier IS NOT NULL
),
derived AS (
    SELECT f.n, date_diff('microsecond', f.ts, min(l.ts)) / 1000.0 AS ms
    FROM f
    JOIN logs AS l
      ON l.correlation_id = f.correlation_id AND l.container_id = f.target AND l.ts > f.ts
    WHERE $derive AND f.latency_ms IS NULL
    GROUP BY f.n, f.ts
),
lat AS (
    SELECT
        f.tier,
        CASE WHEN $by_route THEN f.source END AS source,
        CASE WHEN $by_route THEN f.target END AS target,
        coalesce(f.latency_ms, d.ms) AS ms
    FROM f LEFT JOIN derived AS d USING (n)
)
SELECT
    tier,
    source,
    target,
    count(*) AS count,
    count(ms) AS measured,
    quantile_cont(ms, 0.5) AS p50_ms,
    quantile_cont(ms, 0.9) AS p90_ms,
    quantile_cont(ms, 0.99) AS p99_ms,
    max(ms) AS max_ms
FROM lat
GROUP BY tier, source, target
ORDER BY CASE tier WHEN 'fast' THEN 1 WHEN 'standard' THEN 2 WHEN 'reliable' THEN 3 ELSE 4 END,
         tier, source, target
