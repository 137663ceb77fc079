#pragma once

// Every catalog query pgparity runs to observe a server. Each is one round
// trip; $1 is a comma-separated list of validated names (identifiers cannot
// hold commas), so values are always parameters, never pasted into SQL.

namespace pgparity::state::sql {

/// Settings, version and the DSN's database: one row per setting, with its
/// type, range, enum values and whether the role may ALTER SYSTEM it (PG15's
/// parameter privileges; always true for a superuser).
/// search_path and statement_timeout are the two a CatalogRead pins with SET LOCAL:
/// for them, reset_val is what the session runs outside pgparity's transaction.
inline constexpr const char* settings =
    "SELECT name, CASE WHEN name IN ('search_path', 'statement_timeout') THEN reset_val ELSE setting END, "
    "       coalesce(unit, ''), context, source, pending_restart, "
    "       current_setting('server_version'), current_setting('server_version_num')::int, current_database(), "
    "vartype, "
    "       coalesce(min_val, ''), coalesce(max_val, ''), coalesce(array_to_string(enumvals, ','), ''), "
    "       coalesce(boot_val, ''), coalesce(reset_val, ''), pg_catalog.has_parameter_privilege(name, 'ALTER SYSTEM'), "
    "       pg_catalog.has_function_privilege('pg_catalog.pg_reload_conf()', 'EXECUTE'), "
    "       (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) "
    "FROM pg_catalog.pg_settings ORDER BY name";

/// What postgresql.auto.conf holds (ALTER SYSTEM's file), in file order: the
/// last entry of a name wins; and the errors that are not a setting's own (a
/// syntax error, a missing include: name is NULL), which stop the parse, so the
/// entries after them are not listed. A postmaster setting waiting for a restart
/// has an error too ("setting could not be applied"), with its name: not one of these.
/// The last column marks the first entry of a postgresql.base.conf: Patroni's layout (it moves the
/// original postgresql.conf there and includes it from the one it writes).
/// Superuser only by default: callers treat a failure as "cannot tell".
inline constexpr const char* auto_conf =
    "SELECT name, setting, error IS NOT NULL AND name IS NULL, "
    "       coalesce(sourcefile, '') || coalesce(':' || sourceline, '') || ': ' || coalesce(error, ''), "
    "       sourcefile LIKE '%/postgresql.base.conf' "
    "FROM pg_catalog.pg_file_settings "
    "WHERE sourcefile LIKE '%/postgresql.auto.conf' OR (error IS NOT NULL AND name IS NULL) "
    "   OR seqno = (SELECT min(seqno) FROM pg_catalog.pg_file_settings WHERE sourcefile LIKE '%/postgresql.base.conf') "
    "ORDER BY seqno";

/// Which cluster this is, and whether it is a standby. pg_control_system()
/// may be revoked from PUBLIC: callers treat a failure as "cannot tell".
inline constexpr const char* identity = "SELECT (pg_catalog.pg_control_system()).system_identifier::text";
inline constexpr const char* in_recovery = "SELECT pg_catalog.pg_is_in_recovery()";
/// Around a restart or a Patroni change: which cluster, where it answers ("" over a Unix socket), when its
/// postmaster started, and whether it is a standby.
inline constexpr const char* server_now =
    "SELECT (pg_catalog.pg_control_system()).system_identifier::text, "
    "coalesce(pg_catalog.inet_server_addr()::text || ':' || pg_catalog.inet_server_port(), ''), "
    "pg_catalog.pg_postmaster_start_time()::text, pg_catalog.pg_is_in_recovery()";
/// One setting as the session shows it ($1: its name): value, unit, type, and whether a restart is due.
inline constexpr const char* setting_now =
    "SELECT setting, coalesce(unit, ''), vartype, pending_restart FROM pg_catalog.pg_settings WHERE name = $1";
/// A standby's upstream as its WAL receiver sees it: "host port" ("" without pg_read_all_stats, or
/// while it is not streaming). Asked only of a standby.
inline constexpr const char* upstream =
    "SELECT coalesce(sender_host || ' port ' || sender_port, '') FROM pg_catalog.pg_stat_wal_receiver";
/// What the session's login role may do beyond SQL ("" when nothing): SET ROLE can reach every role it
/// is a member of, and a superuser any role, so the login role's rights are what a query could use.
inline constexpr const char* privileged_session_user =
    "SELECT CASE WHEN r.rolsuper THEN r.rolname || ' is a superuser' "
    "WHEN pg_catalog.pg_has_role(r.oid, 'pg_execute_server_program', 'MEMBER') "
    "  THEN r.rolname || ' may run programs on the server (pg_execute_server_program)' "
    "WHEN pg_catalog.pg_has_role(r.oid, 'pg_write_server_files', 'MEMBER') "
    "  THEN r.rolname || ' may write files on the server (pg_write_server_files)' "
    "WHEN pg_catalog.pg_has_role(r.oid, 'pg_read_server_files', 'MEMBER') "
    "  THEN r.rolname || ' may read files on the server (pg_read_server_files)' "
    "WHEN pg_catalog.pg_has_role(r.oid, 'pg_read_all_data', 'MEMBER') "
    "  THEN r.rolname || ' may read every table (pg_read_all_data)' "
    "WHEN pg_catalog.pg_has_role(r.oid, 'pg_read_all_settings', 'MEMBER') "
    "  THEN r.rolname || ' may read secret settings such as primary_conninfo (pg_read_all_settings)' "
    "WHEN r.rolbypassrls THEN r.rolname || ' bypasses row-level security' ELSE '' END "
    "FROM pg_catalog.pg_roles r WHERE r.rolname = session_user";

/// Where a session through a pooler's alias landed: the cluster and the database.
inline constexpr const char* route_end =
    "SELECT (pg_catalog.pg_control_system()).system_identifier::text, pg_catalog.current_database()";

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

/// What the installation offers, the same in every database of a server: the
/// available versions of the extensions in $1 (or of all, for '*') and of
/// everything they require.
/// One statement, a JSON object {versions: [...], names: [...]}.
inline constexpr const char* available = R"SQL(
WITH RECURSIVE
every_version AS MATERIALIZED (SELECT * FROM pg_catalog.pg_available_extension_versions),  -- reads every control file once
wanted(name) AS (
  SELECT unnest(string_to_array($1, ','))::text COLLATE "C" WHERE $1 <> '*'
  UNION
  SELECT name::text COLLATE "C" FROM every_version WHERE $1 = '*'  -- '*': every extension the server offers
  UNION
  SELECT r.req::text COLLATE "C" FROM wanted w
  JOIN every_version v ON v.name::text = w.name
  CROSS JOIN LATERAL unnest(v.requires) AS r(req)
),
versions AS (SELECT * FROM every_version WHERE name::text IN (SELECT name FROM wanted)),
defaults AS (SELECT * FROM pg_catalog.pg_available_extensions WHERE name::text IN (SELECT name FROM wanted))
SELECT json_build_object(
  'versions', coalesce(json_agg(json_build_object(
    'name', v.name, 'version', v.version, 'requires', coalesce(v.requires, '{}'), 'superuser', v.superuser,
    'trusted', v.trusted, 'relocatable', v.relocatable, 'schema', v.schema, 'default', d.default_version)
    ORDER BY v.name, v.version), '[]'),
  -- every name the server offers, from the same scan, for "did you mean" on a misspelt name
  'names', (SELECT json_agg(DISTINCT e.name::text ORDER BY e.name::text) FROM every_version e))::text
FROM versions v JOIN defaults d ON d.name = v.name
)SQL";

/// What tells whether an installation's offers changed, cheaply: the names and
/// default versions of its extensions (pg_available_extensions reads only the
/// primary control files, ~3 ms, against ~50 ms for every version's).
inline constexpr const char* offers_validator =
    "SELECT coalesce(string_agg(name || ' ' || coalesce(default_version, ''), ',' ORDER BY name), '') "
    "FROM pg_catalog.pg_available_extensions";

/// Where a standby's replay stands, and how far behind its last replayed transaction is.
inline constexpr const char* replay =
    "SELECT coalesce(pg_catalog.pg_last_wal_replay_lsn()::text, ''), "
    "extract(epoch FROM now() - pg_catalog.pg_last_xact_replay_timestamp())::float8";

/// The primary's WAL insert position: past every commit record already inserted, written to disk or
/// not (with synchronous_commit = off the write position may still be before a commit).
inline constexpr const char* wal_insert_lsn = "SELECT pg_catalog.pg_current_wal_insert_lsn()::text";

/// Where a standby's replay stands, and whether it is at or past $1 (an LSN as PostgreSQL prints it).
inline constexpr const char* replay_reached =
    "SELECT coalesce(pg_catalog.pg_last_wal_replay_lsn()::text, ''), "
    "coalesce(pg_catalog.pg_last_wal_replay_lsn() >= $1::pg_lsn, false)";

/// Update paths from the versions installed somewhere on the server. $1:
/// "name:version" pairs, comma-separated, each a version the server still
/// has scripts for (pg_extension_update_paths fails on one whose scripts are
/// gone; the caller filters those out). One statement, a JSON array.
inline constexpr const char* update_paths = R"SQL(
WITH pairs AS (
  SELECT split_part(pair, ':', 1) AS name, substr(pair, length(split_part(pair, ':', 1)) + 2) AS version
  FROM unnest(string_to_array($1, ',')) AS pair
)
SELECT coalesce(json_agg(json_build_object('name', k.name, 'from', u.source, 'to', u.target, 'path', u.path)
    ORDER BY k.name, u.source, u.target), '[]')::text
FROM (SELECT DISTINCT name FROM pairs) k
CROSS JOIN LATERAL pg_catalog.pg_extension_update_paths(k.name::name) u
WHERE u.path IS NOT NULL AND (k.name, u.source) IN (SELECT name, version FROM pairs)
)SQL";

/// The extensions installed in the session's database and every schema of it
/// (so a CREATE EXTENSION knows whether its schema exists), in one round trip:
/// one row per schema and extension in it (extension columns null for a schema
/// without one). A LEFT JOIN plans in half the time of the UNION ALL it
/// replaced (0.16 ms against 0.30 ms warm), and on a kept session planning is
/// most of an idle tick's cost; the caller sorts. The schema is the plain
/// nspname (regnamespace::text would quote "MixedCase"): names are quoted
/// exactly once, where SQL is rendered.
inline constexpr const char* installed =
    "SELECT n.nspname, e.extname, e.extversion, e.extrelocatable, "
    "       pg_catalog.has_database_privilege(current_database(), 'CREATE'), "
    // Unsafe for an extension script (the CVE-2023-39417 class): owned by a role that is neither a superuser
    // nor one the session acts as, or open to CREATE by a role other than its owner and the superusers.
    // A superuser is a member of every role, so membership counts only for other roles; the public schema
    // of PostgreSQL 15 belongs to pg_database_owner, which is the database's owner.
    "       NOT (n.nspowner = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) "
    "            OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = n.nspowner) "
    "            OR (NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) "
    "                AND pg_catalog.pg_has_role(n.nspowner, 'MEMBER')) "
    "            OR (n.nspowner = 'pg_database_owner'::regrole AND EXISTS (SELECT 1 FROM pg_catalog.pg_database d "
    "                JOIN pg_catalog.pg_roles o ON o.oid = d.datdba WHERE d.datname = current_database() "
    "                AND (o.rolsuper OR o.rolname = current_user)))) "
    "       OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(n.nspacl) a WHERE a.privilege_type = 'CREATE' "
    "                  AND a.grantee <> n.nspowner "
    "                  AND a.grantee <> (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) "
    "                  AND (a.grantee = 0 OR NOT "
    "                  (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = a.grantee))) "
    "FROM pg_catalog.pg_namespace n LEFT JOIN pg_catalog.pg_extension e ON e.extnamespace = n.oid";

/// Whether extension $1 is installed (read inside a rehearsal's transaction).
inline constexpr const char* extension_installed = "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = $1";

/// Other client sessions on the session's database.
inline constexpr const char* activity =
    "SELECT count(*), count(*) FILTER (WHERE state = 'active'), "
    "       count(*) FILTER (WHERE state LIKE 'idle in transaction%') "
    "FROM pg_catalog.pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_catalog.pg_backend_pid() AND backend_type = 'client backend'";

/// What DROP EXTENSION ... CASCADE of each extension in $1 would take with
/// it, as a JSON array of {name, object, kind, rows}: every non-member object
/// the drop removes (tables and materialized views with their row counts),
/// then the extension's own configuration tables (extconfig) with the rows
/// their extcondition keeps, plus schema, table and condition. Rows are
/// counted with query_to_xml, so the statement stays one read-only round
/// trip; a table the role may not read has rows null.
inline constexpr const char* blast_radius = R"SQL(
WITH RECURSIVE
asked AS (SELECT unnest(string_to_array($1, ','))::text COLLATE "C" AS name),
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
         WHEN x.classid = 'pg_catalog.pg_attrdef'::regclass THEN 'column default'
         WHEN x.classid = 'pg_catalog.pg_policy'::regclass THEN 'policy'
         WHEN x.classid = 'pg_catalog.pg_rewrite'::regclass THEN 'rule'
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
    AND x.classid NOT IN ('pg_catalog.pg_amop'::regclass, 'pg_catalog.pg_amproc'::regclass)
    -- a view's own rule is listed as the view; other rules are user objects
    AND NOT (x.classid = 'pg_catalog.pg_rewrite'::regclass AND EXISTS (
      SELECT 1 FROM pg_catalog.pg_rewrite r WHERE r.oid = x.objid AND r.rulename = '_RETURN'))
    -- a column default goes with its column when the column is dropped
    AND NOT (x.classid = 'pg_catalog.pg_attrdef'::regclass AND EXISTS (
      SELECT 1 FROM pg_catalog.pg_attrdef ad JOIN dropped w
        ON w.root = x.root AND w.classid = 'pg_catalog.pg_class'::regclass AND w.objid = ad.adrelid
       AND (w.objsubid = ad.adnum OR w.objsubid = 0)
      WHERE ad.oid = x.objid))
    AND NOT (x.classid = 'pg_catalog.pg_class'::regclass AND EXISTS (
      SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = x.objid AND c.relnamespace = 'pg_toast'::regnamespace))
),
config AS (
  SELECT e.extname::text AS root, c.oid AS relid, n.nspname::text AS nspname, c.relname::text AS relname,
         c.relkind = 'S' AS sequence, coalesce(e.extcondition[i.ord], '') AS condition, i.ord
  FROM pg_catalog.pg_extension e
  CROSS JOIN LATERAL unnest(e.extconfig) WITH ORDINALITY AS i(relid, ord)
  JOIN pg_catalog.pg_class c ON c.oid = i.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE e.extname::text IN (SELECT name FROM asked)
),
counted AS (
  SELECT v.root, pg_catalog.pg_describe_object(v.classid, v.objid, v.objsubid) AS object, v.kind,
         CASE WHEN v.kind IN ('table', 'materialized view') THEN (
           SELECT CASE WHEN pg_catalog.has_table_privilege(c.oid, 'SELECT') THEN
             (pg_catalog.xpath('/row/n/text()', pg_catalog.query_to_xml(pg_catalog.format(
                'SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint END
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE c.oid = v.objid) END AS rows,
         NULL::text AS nspname, NULL::text AS relname, NULL::text AS condition, 0::bigint AS ord,
         (SELECT e.extname::text FROM pg_catalog.pg_extension e
          WHERE v.classid = 'pg_catalog.pg_extension'::regclass AND e.oid = v.objid) AS extension
  FROM visible v
  UNION ALL
  SELECT f.root, pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass, f.relid, 0),
         CASE WHEN f.sequence THEN 'configuration sequence' ELSE 'configuration table' END,
         CASE WHEN NOT f.sequence AND pg_catalog.has_table_privilege(f.relid, 'SELECT') THEN
           (pg_catalog.xpath('/row/n/text()', pg_catalog.query_to_xml(pg_catalog.format(
              'SELECT count(*) AS n FROM %I.%I %s', f.nspname, f.relname, f.condition), false, true, '')))[1]::text::bigint
         END,
         f.nspname, f.relname, f.condition, f.ord, NULL::text
  FROM config f
)
SELECT coalesce(json_agg(json_build_object(
    'name', root, 'object', object, 'kind', kind, 'rows', rows, 'extension', extension,
    'schema', nspname, 'table', relname, 'condition', condition)
    ORDER BY root, nspname IS NOT NULL, ord, object), '[]')::text
FROM counted
)SQL";

/// Extension membership gone wrong, for doctor: members recorded in pg_depend
/// whose object no longer exists, and C functions that load an extension's
/// module (the probin of its member functions) without being members; plus a
/// 'module' row per module an extension loads (its file is checked with
/// library_files).
inline constexpr const char* integrity = R"SQL(
WITH members AS (
  SELECT e.extname, d.classid, d.objid, d.objsubid
  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
  WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
),
modules AS (
  SELECT DISTINCT m.extname, p.probin FROM members m JOIN pg_catalog.pg_proc p ON p.oid = m.objid
  WHERE m.classid = 'pg_catalog.pg_proc'::regclass AND p.probin IS NOT NULL
)
SELECT 'missing-member', m.extname::text,
       m.classid::regclass::text || ' ' || m.objid || CASE WHEN m.objsubid <> 0 THEN '.' || m.objsubid ELSE '' END,
       'pg_depend says this object is a member of the extension, but the object does not exist'
FROM members m WHERE pg_catalog.pg_describe_object(m.classid, m.objid, m.objsubid) IS NULL
UNION ALL
SELECT 'non-member-function', mo.extname::text, p.oid::regprocedure::text, 'loads ' || p.probin || ' but is not a member'
FROM pg_catalog.pg_proc p JOIN modules mo ON mo.probin = p.probin
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'module', mo.extname::text, mo.probin, '' FROM modules mo
ORDER BY 1, 2, 3
)SQL";

}  // namespace pgparity::state::sql
