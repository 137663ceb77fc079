#pragma once

// Every catalog query pgparity runs to observe a server. Each is one round
// trip; $1 is a comma-separated list of validated names (identifiers cannot
// hold commas), so values are always parameters, never pasted into SQL.

namespace pgparity::state::sql {

/// Settings, version and the DSN's database: one row per setting.
inline constexpr const char* settings =
    "SELECT name, setting, coalesce(unit, ''), context, source, pending_restart, "
    "       current_setting('server_version'), current_setting('server_version_num')::int, current_database(), vartype "
    "FROM pg_catalog.pg_settings ORDER BY name";

inline constexpr const char* databases =
    "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname";

/// $1: library names. Needs superuser or pg_read_server_files; callers treat a failure as "cannot tell".
inline constexpr const char* library_files =
    "WITH dir AS (SELECT setting AS path FROM pg_catalog.pg_config WHERE name = 'PKGLIBDIR') "
    "SELECT dir.path, lib, (pg_catalog.pg_stat_file(CASE "
    "    WHEN lib LIKE '$libdir/%' THEN dir.path || substr(lib, 8) "
    "    WHEN lib LIKE '/%' THEN lib ELSE dir.path || '/' || lib END "
    "  || CASE WHEN lib LIKE '%.so' THEN '' ELSE '.so' END, true)).size IS NOT NULL "
    "FROM dir, unnest(string_to_array($1, ',')) AS lib ORDER BY lib";

/// One database in one statement, as a JSON document. $1: the extensions to
/// look at closely (available versions with everything they require, update
/// paths from the installed version, the blast radius of a drop).
inline constexpr const char* database = R"SQL(
WITH RECURSIVE
asked AS (SELECT unnest(string_to_array($1, ','))::text COLLATE "C" AS name),
wanted(name) AS (
  SELECT name FROM asked
  UNION
  SELECT r.req::text COLLATE "C" FROM wanted w
  JOIN pg_catalog.pg_available_extension_versions v ON v.name::text = w.name
  CROSS JOIN LATERAL unnest(v.requires) AS r(req)
),
member AS (SELECT DISTINCT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'),
dropped(root, classid, objid, objsubid) AS (
  SELECT e.extname::text, 'pg_catalog.pg_extension'::regclass::oid, e.oid, 0
  FROM pg_catalog.pg_extension e WHERE e.extname::text IN (SELECT name FROM asked)
  UNION
  SELECT d.root, step.classid, step.objid, step.objsubid
  FROM dropped d, LATERAL (
    -- whatever depends on a dropped object goes with it ...
    SELECT dep.classid, dep.objid, dep.objsubid FROM pg_catalog.pg_depend dep
    WHERE dep.refclassid = d.classid AND dep.refobjid = d.objid
      AND (d.objsubid = 0 OR dep.refobjsubid = d.objsubid) AND dep.deptype <> 'p'
    UNION ALL
    -- ... and so does the object a dropped internal part belongs to (a view of its rule)
    SELECT dep.refclassid, dep.refobjid, 0 FROM pg_catalog.pg_depend dep
    WHERE dep.classid = d.classid AND dep.objid = d.objid AND d.objsubid = 0 AND dep.deptype = 'i'
  ) step
),
visible AS (
  SELECT x.*,
    CASE WHEN x.classid = 'pg_catalog.pg_class'::regclass AND x.objsubid <> 0 THEN 'column'
         WHEN x.classid = 'pg_catalog.pg_class'::regclass THEN (
           SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'm' THEN 'materialized view'
                  WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' WHEN 'v' THEN 'view' WHEN 'S' THEN 'sequence'
                  WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' ELSE 'relation' END
           FROM pg_catalog.pg_class c WHERE c.oid = x.objid)
         WHEN x.classid = 'pg_catalog.pg_extension'::regclass THEN 'extension'
         WHEN x.classid = 'pg_catalog.pg_proc'::regclass THEN 'function'
         WHEN x.classid = 'pg_catalog.pg_type'::regclass THEN 'type'
         WHEN x.classid = 'pg_catalog.pg_constraint'::regclass THEN 'constraint'
         WHEN x.classid = 'pg_catalog.pg_trigger'::regclass THEN 'trigger'
         ELSE 'object' END AS kind
  FROM dropped x
  WHERE NOT EXISTS (SELECT 1 FROM member m WHERE m.classid = x.classid AND m.objid = x.objid)
    AND NOT (x.classid = 'pg_catalog.pg_extension'::regclass
             AND x.objid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = x.root))
    -- internal parts of dropped objects, and parts of extension-owned ones, are not listed
    AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_depend dep
      JOIN dropped y ON y.root = x.root AND y.classid = dep.refclassid AND y.objid = dep.refobjid
      WHERE dep.classid = x.classid AND dep.objid = x.objid AND dep.objsubid = x.objsubid
        AND (dep.deptype = 'i' OR (dep.deptype = 'a' AND EXISTS (
             SELECT 1 FROM member m WHERE m.classid = y.classid AND m.objid = y.objid))))
    -- columns of relations that are dropped whole are not listed apart
    AND NOT (x.objsubid <> 0 AND EXISTS (
      SELECT 1 FROM dropped w WHERE w.root = x.root AND w.classid = x.classid AND w.objid = x.objid AND w.objsubid = 0))
    AND x.classid NOT IN ('pg_catalog.pg_amop'::regclass, 'pg_catalog.pg_amproc'::regclass,
                          'pg_catalog.pg_rewrite'::regclass, 'pg_catalog.pg_attrdef'::regclass)
    AND NOT (x.classid = 'pg_catalog.pg_class'::regclass AND EXISTS (
      SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = x.objid AND c.relnamespace = 'pg_toast'::regnamespace))
)
SELECT json_build_object(
  'database', current_database(),
  'installed', (SELECT coalesce(json_agg(json_build_object(
      'name', e.extname, 'version', e.extversion, 'schema', n.nspname, 'relocatable', e.extrelocatable)
      ORDER BY e.extname), '[]')
    FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace),
  'available', (SELECT coalesce(json_agg(json_build_object(
      'name', v.name, 'version', v.version, 'requires', coalesce(v.requires, '{}'), 'superuser', v.superuser,
      'trusted', v.trusted, 'relocatable', v.relocatable, 'schema', v.schema, 'default', a.default_version)
      ORDER BY v.name, v.version), '[]')
    FROM pg_catalog.pg_available_extension_versions v
    JOIN pg_catalog.pg_available_extensions a ON a.name = v.name
    WHERE v.name::text IN (SELECT name FROM wanted)),
  'paths', (SELECT coalesce(json_agg(json_build_object('name', e.extname, 'from', p.source, 'to', p.target, 'path', p.path)
      ORDER BY e.extname, p.target), '[]')
    FROM pg_catalog.pg_extension e
    CROSS JOIN LATERAL pg_catalog.pg_extension_update_paths(e.extname) p
    WHERE e.extname::text IN (SELECT name FROM asked) AND p.source = e.extversion AND p.path IS NOT NULL
      -- a version whose scripts are gone makes the function fail; only ask where the version still exists
      AND EXISTS (SELECT 1 FROM pg_catalog.pg_available_extension_versions av
                  WHERE av.name = e.extname AND av.version = e.extversion)),
  'blast', (SELECT coalesce(json_agg(json_build_object(
      'name', root, 'object', pg_catalog.pg_describe_object(classid, objid, objsubid), 'kind', kind)
      ORDER BY root, pg_catalog.pg_describe_object(classid, objid, objsubid)), '[]') FROM visible),
  'activity', (SELECT json_build_object(
      'sessions', count(*),
      'active', count(*) FILTER (WHERE state = 'active'),
      'idle_in_transaction', count(*) FILTER (WHERE state LIKE 'idle in transaction%'))
    FROM pg_catalog.pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_catalog.pg_backend_pid() AND backend_type = 'client backend')
)::text
)SQL";

}  // namespace pgparity::state::sql
