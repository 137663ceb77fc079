#include "planner/keep_config.hpp"

#include "planner/sql.hpp"

namespace pgparity::planner {

namespace {

std::string qualified(const state::ConfigTable& t) {
  return quote_ident(t.schema.str()) + "." + quote_ident(t.name.str());
}

/// Restores the copy into the new table: the columns both have, by name;
/// columns the new table lacks are reported (NOTICE "pgparity: ..."), and a
/// table that is gone, or rows that do not fit, raise and roll back.
std::string restore_table(const std::string& table, const std::string& copy) {
  const std::string t = quote_literal(table);
  const std::string c = quote_literal(copy);
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
         "BEGIN\n"
         "  SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols\n"
         "  FROM pg_catalog.pg_attribute a\n"
         "  WHERE a.attrelid = new_table AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''\n"
         "    AND a.attname IN (SELECT k.attname FROM pg_catalog.pg_attribute k\n"
         "                      WHERE k.attrelid = saved_copy AND k.attnum > 0 AND NOT k.attisdropped);\n"
         "  SELECT pg_catalog.string_agg(k.attname::text, ', ' ORDER BY k.attnum) INTO lost\n"
         "  FROM pg_catalog.pg_attribute k\n"
         "  WHERE k.attrelid = saved_copy AND k.attnum > 0 AND NOT k.attisdropped\n"
         "    AND k.attname NOT IN (SELECT a.attname FROM pg_catalog.pg_attribute a\n"
         "                          WHERE a.attrelid = new_table AND a.attnum > 0 AND NOT a.attisdropped);\n"
         "  IF lost IS NOT NULL THEN\n"
         "    RAISE NOTICE 'pgparity: % no longer has column(s) %; their values were not restored', new_table, lost;\n"
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
         "  END IF;\n"
         "END\n"
         "$pgparity$";
}

}  // namespace

KeepConfigSql keep_config_sql(const std::string& extension, const std::vector<state::ConfigTable>& tables,
                              const std::string& state_schema) {
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
      out.before.push_back("CREATE TABLE " + copy + " AS SELECT * FROM " + table +
                           (t.condition.empty() ? "" : " " + t.condition));
      out.after.push_back(restore_table(table, copy));
      const std::string rows = t.rows ? std::to_string(*t.rows) : "the";
      out.keeps.push_back(rows + (t.rows && *t.rows == 1 ? " row" : " rows") + " of " + t.schema.str() + "." +
                          t.name.str());
    }
    out.after.push_back("DROP TABLE " + copy);
  }
  return out;
}

}  // namespace pgparity::planner
