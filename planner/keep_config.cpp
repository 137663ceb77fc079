#include "planner/keep_config.hpp"

#include "planner/sql.hpp"

namespace pgparity::planner {

namespace {

std::string qualified(const state::ConfigTable& t) {
  return quote_ident(t.schema.str()) + "." + quote_ident(t.name.str());
}

/// What users add to a configuration table that a recreate would drop without a word: indexes,
/// triggers, policies and constraints on it, its column defaults, and its privileges (GRANT/REVOKE).
/// One row per object (kind, name), and one `privileges` row with relacl, saved before the DROP.
std::string save_objects(const std::string& table, const std::string& objects) {
  const std::string t = quote_literal(table) + "::regclass";
  return "CREATE TABLE " + objects +
         " AS "
         "SELECT 'index'::text AS kind, i.indexrelid::regclass::text AS name FROM pg_catalog.pg_index i "
         "WHERE i.indrelid = " +
         t + " UNION ALL SELECT 'trigger', tgname::text FROM pg_catalog.pg_trigger WHERE tgrelid = " + t +
         " AND NOT tgisinternal"
         " UNION ALL SELECT 'policy', polname::text FROM pg_catalog.pg_policy WHERE polrelid = " +
         t + " UNION ALL SELECT 'constraint', conname::text FROM pg_catalog.pg_constraint WHERE conrelid = " + t +
         " UNION ALL SELECT 'column default', a.attname::text FROM pg_catalog.pg_attrdef d JOIN "
         "pg_catalog.pg_attribute "
         "a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = " +
         t + " UNION ALL SELECT 'privileges', c.relacl::text FROM pg_catalog.pg_class c WHERE c.oid = " + t;
}

/// Restores the copy into the new table: the columns both have, by name. Columns, indexes, triggers,
/// policies, constraints and defaults the new table lacks raise and roll everything back (with
/// policy.allow_data_loss they are reported, NOTICE "pgparity: ..."); so do a table that is gone and
/// rows that do not fit. The table's privileges are put back as they were (GRANT/REVOKE), since the
/// new script grants its own defaults.
std::string restore_table(const std::string& table, const std::string& copy, const std::string& objects,
                          bool allow_loss) {
  const std::string t = quote_literal(table);
  const std::string c = quote_literal(copy);
  const std::string report = allow_loss ? "RAISE NOTICE" : "RAISE EXCEPTION";
  const std::string hint =
      allow_loss ? "" : "; nothing was changed (policy.allow_data_loss: true lets the recreate drop them)";
  return "DO $pgparity$\n"
         "DECLARE\n"
         "  new_table regclass := " +
         t +
         "::regclass;\n"
         "  saved_copy regclass := " +
         c +
         "::regclass;\n"
         "  cols text;\n"
         "  lost text;\n"
         "  kept bigint;\n"
         "  restored bigint;\n"
         "  old_acl aclitem[];\n"
         "  new_acl aclitem[];\n"
         "  owner oid;\n"
         "  r record;\n"
         "BEGIN\n"
         "  SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols\n"
         "  FROM pg_catalog.pg_attribute a\n"
         "  WHERE a.attrelid = new_table AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''\n"
         "    AND a.attname IN (SELECT k.attname FROM pg_catalog.pg_attribute k\n"
         "                      WHERE k.attrelid = saved_copy AND k.attnum > 0 AND NOT k.attisdropped);\n"
         "  FOR r IN SELECT k.attname::text AS name FROM pg_catalog.pg_attribute k\n"
         "    WHERE k.attrelid = saved_copy AND k.attnum > 0 AND NOT k.attisdropped\n"
         "      AND k.attname NOT IN (SELECT a.attname FROM pg_catalog.pg_attribute a\n"
         "                            WHERE a.attrelid = new_table AND a.attnum > 0 AND NOT a.attisdropped)\n"
         "    ORDER BY k.attnum LOOP\n"
         "    EXECUTE pg_catalog.format('SELECT count(*) FROM %s WHERE %I IS NOT NULL', saved_copy, r.name) INTO "
         "kept;\n"
         "    IF kept > 0 THEN\n"
         "      " +
         report + " 'pgparity: % no longer has column %; its % value(s) would be lost" + hint +
         "', new_table, r.name, kept;\n"
         "    ELSE\n"
         "      RAISE NOTICE 'pgparity: % no longer has column %; it held no value', new_table, r.name;\n"
         "    END IF;\n"
         "  END LOOP;\n"
         "  SELECT pg_catalog.string_agg(o.kind || ' ' || o.name, ', ' ORDER BY o.kind, o.name) INTO lost\n"
         "  FROM " +
         objects +
         " o WHERE o.kind <> 'privileges' AND NOT EXISTS (\n"
         "    SELECT 1 FROM pg_catalog.pg_index i WHERE o.kind = 'index' AND i.indrelid = new_table\n"
         "      AND pg_catalog.split_part(i.indexrelid::regclass::text, '.', -1) = pg_catalog.split_part(o.name, '.', "
         "-1)\n"
         "    UNION ALL SELECT 1 FROM pg_catalog.pg_trigger g WHERE o.kind = 'trigger' AND g.tgrelid = new_table\n"
         "      AND g.tgname = o.name\n"
         "    UNION ALL SELECT 1 FROM pg_catalog.pg_policy p WHERE o.kind = 'policy' AND p.polrelid = new_table\n"
         "      AND p.polname = o.name\n"
         "    UNION ALL SELECT 1 FROM pg_catalog.pg_constraint n WHERE o.kind = 'constraint' AND n.conrelid = "
         "new_table\n"
         "      AND n.conname = o.name\n"
         "    UNION ALL SELECT 1 FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_attribute a\n"
         "      ON a.attrelid = d.adrelid AND a.attnum = d.adnum\n"
         "      WHERE o.kind = 'column default' AND d.adrelid = new_table AND a.attname = o.name);\n"
         "  IF lost IS NOT NULL THEN\n"
         "    " +
         report + " 'pgparity: the new % has no %" + hint +
         "', new_table, lost;\n"
         "  END IF;\n"
         "  EXECUTE pg_catalog.format('SELECT count(*) FROM %s', saved_copy) INTO kept;\n"
         "  IF kept > 0 AND cols IS NULL THEN\n"
         "    RAISE EXCEPTION 'pgparity: cannot restore % rows of %: it has none of their columns', kept, new_table;\n"
         "  END IF;\n"
         "  IF kept > 0 THEN\n"
         "    EXECUTE pg_catalog.format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s',\n"
         "                              new_table, cols, cols, saved_copy);\n"
         "    GET DIAGNOSTICS restored = ROW_COUNT;\n"
         "    IF restored <> kept THEN\n"
         "      RAISE EXCEPTION 'pgparity: restored % of % rows of %', restored, kept, new_table;\n"
         "    END IF;\n"
         // A serial or identity column's sequence that is not in extconfig starts again at 1 with the new
         // table: set it past the rows put back, so the next insert does not collide with them.
         "    FOR r IN SELECT a.attname::text AS name,\n"
         "                    pg_catalog.pg_get_serial_sequence(new_table::text, a.attname::text) AS seq\n"
         "             FROM pg_catalog.pg_attribute a\n"
         "             WHERE a.attrelid = new_table AND a.attnum > 0 AND NOT a.attisdropped LOOP\n"
         "      CONTINUE WHEN r.seq IS NULL;\n"
         "      EXECUTE pg_catalog.format('SELECT pg_catalog.setval(%L, GREATEST(max(%I)::bigint, '\n"
         "        '(SELECT s.last_value FROM %s s))) FROM %s HAVING max(%I) IS NOT NULL',\n"
         "        r.seq, r.name, r.seq, new_table, r.name);\n"
         "    END LOOP;\n"
         "  END IF;\n"
         "  SELECT o.name::aclitem[] INTO old_acl FROM " +
         objects +
         " o WHERE o.kind = 'privileges';\n"
         "  SELECT c.relacl, c.relowner INTO new_acl, owner FROM pg_catalog.pg_class c WHERE c.oid = new_table;\n"
         "  IF old_acl IS DISTINCT FROM new_acl THEN\n"
         "    FOR r IN SELECT DISTINCT e.grantee FROM pg_catalog.aclexplode(\n"
         "               coalesce(new_acl, pg_catalog.acldefault('r', owner))) e LOOP\n"
         "      EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %s', new_table,\n"
         "        CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE "
         "pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r.grantee)) END);\n"
         "    END LOOP;\n"
         "    FOR r IN SELECT e.grantee, e.privilege_type, e.is_grantable FROM pg_catalog.aclexplode(\n"
         "               coalesce(old_acl, pg_catalog.acldefault('r', owner))) e LOOP\n"
         "      EXECUTE pg_catalog.format('GRANT %s ON %s TO %s%s', r.privilege_type, new_table,\n"
         "        CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE "
         "pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r.grantee)) END,\n"
         "        CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);\n"
         "    END LOOP;\n"
         "  END IF;\n"
         "END\n"
         "$pgparity$";
}

}  // namespace

KeepConfigSql keep_config_sql(const std::string& extension, const std::vector<state::ConfigTable>& tables,
                              const std::string& state_schema, bool allow_loss) {
  KeepConfigSql out;
  int n = 0;
  for (const auto& t : tables) {
    // One copy per configuration table, named after the extension and its place in extconfig.
    const std::string copy =
        quote_ident(state_schema) + "." + quote_ident("keep_" + extension.substr(0, 40) + "_" + std::to_string(++n));
    const std::string table = qualified(t);
    if (t.sequence) {
      out.before.push_back("CREATE TABLE " + copy + " AS SELECT last_value, is_called FROM " + table);
      // A sequence the new version no longer has is not an error: setval(NULL) does nothing.
      out.after.push_back("SELECT pg_catalog.setval(pg_catalog.to_regclass(" + quote_literal(table) +
                          "), last_value, is_called) FROM " + copy);
      out.keeps.push_back("the position of " + t.schema.str() + "." + t.name.str());
    } else {
      const std::string objects = quote_ident(state_schema) + "." +
                                  quote_ident("keep_" + extension.substr(0, 40) + "_" + std::to_string(n) + "_objects");
      out.before.push_back("CREATE TABLE " + copy + " AS SELECT * FROM " + table +
                           (t.condition.empty() ? "" : " " + t.condition));
      out.before.push_back(save_objects(table, objects));
      out.after.push_back(restore_table(table, copy, objects, allow_loss));
      out.after.push_back("DROP TABLE " + objects);
      const std::string rows = t.rows ? std::to_string(*t.rows) : "the";
      out.keeps.push_back(rows + (t.rows && *t.rows == 1 ? " row" : " rows") + " of " + t.schema.str() + "." +
                          t.name.str());
    }
    out.after.push_back("DROP TABLE " + copy);
  }
  return out;
}

}  // namespace pgparity::planner
