-- ERROR and CRITICAL log records grouped by container, component, message, code and second
-- One scan, several GROUPING SETS; `dimension` says which grouping a row belongs to.
-- $since / $until: TIMESTAMP bounds (NULL for none), until exclusive.
WITH e AS (
    SELECT
        container_id,
        container_id || '/' || coalesce(component_name, '?') AS component,
        message,
        json_extract_string(context, '$.error_code') AS code,
        date_trunc('second', ts) AS second
    FROM logs
    WHERE level IN ('ERROR', 'CRITICAL')
      AND ($since IS NULL OR ts >= $since)
      AND ($until IS NULL OR ts < $until)
)
SELECT
    CASE
        WHEN GROUPING(container_id) = 0 THEN 'container'
        WHEN GROUPING(component) = 0 THEN 'component'
        WHEN GROUPING(message) = 0 THEN 'message'
        WHEN GROUPING(code) = 0 THEN 'code'
        ELSE 'second'
    END AS dimension,
    coalesce(container_id, component, message, code, CAST(second AS VARCHAR)) AS key,
    second,
    count(*) AS count
FROM e
GROUP BY GROUPING SETS ((container_id), (component), (message), (code), (second))
HAVING NOT (GROUPING(code) = 0 AND code IS NULL)
ORDER BY dimension, count DESC, key
