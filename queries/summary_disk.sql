-- Files and bytes on disk per file kind (archived files counted apart)
SELECT kind, archived, count(*) AS files, sum(size)::BIGINT AS bytes
FROM _files
GROUP BY ALL
ORDER BY kind, archived
