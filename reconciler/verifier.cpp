#include "reconciler/verifier.hpp"

#include "planner/sql.hpp"

#include <pqxx/pqxx>

#include "core/error.hpp"
#include "state/catalog_read.hpp"
#include "state/observe.hpp"

namespace pgparity::reconciler {

std::string verify_database(pqxx::connection_base& session, const std::vector<planner::Step>& steps,
                            const std::map<Identifier, std::string>& health) {
  const state::DatabaseState after = state::observe_database(session);
  std::string problems;
  for (const auto& s : steps) {
    if (planner::is_gate(s.kind)) continue;
    const planner::StepObject o = planner::object_of(s);
    if (s.kind == planner::StepKind::schema) {
      if (!after.has_schema(o.name)) problems += "; schema " + o.name + " is absent, expected present";
      continue;
    }
    if (std::string_view(o.key) != "extension") continue;  // settings are checked by their own unit
    const state::InstalledExtension* e = after.find(o.name);
    const std::string installed = e == nullptr ? "" : e->version.str();
    const std::string& expected = o.to;  // "" after a drop
    if (installed != expected) {
      problems += "; " + o.name + " is " + (installed.empty() ? "absent" : installed) + ", expected " +
                  (expected.empty() ? "absent" : expected);
    }
  }
  for (const auto& [extension, sql] : health) {
    if (after.find(extension.str()) == nullptr) continue;
    try {
      pqxx::read_transaction tx(session);
      tx.exec(std::string("SET LOCAL statement_timeout = '") + state::observation_statement_timeout + "'");
      tx.exec_params(planner::health_query(sql));  // one query, never a COMMIT or a COPY
    } catch (const std::exception& e) {
      problems += "; health query for " + extension.str() + " failed: " + one_line(e.what());
    }
  }
  return problems;
}

}  // namespace pgparity::reconciler
