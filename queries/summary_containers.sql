-- Containers and their components as seen in the logs view
SELECT container_id, list(DISTINCT component_name ORDER BY component_name) AS components
FROM logs
GROUP BY container_id
ORDER BY container_id
