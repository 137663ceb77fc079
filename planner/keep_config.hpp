#pragma once

#include <string>
#include <vector>

#include "state/observed.hpp"

namespace pgparity::planner {

/// The SQL a recreate runs around its DROP and CREATE so that the rows of an
/// extension's configuration tables survive, all in the change transaction:
/// `before` copies the rows extcondition keeps (and sequence positions) into
/// tables of pgparity's state schema; `after` restores them into the new
/// extension's tables by column name (raising when none of a table's rows can
/// be put back, which rolls everything back) and drops the copies. What users
/// added to the tables (columns, indexes, triggers, policies, constraints,
/// defaults) and the new version lacks raises too, unless `allow_loss`; the
/// tables' privileges are put back as they were.
struct KeepConfigSql {
  std::vector<std::string> before;
  std::vector<std::string> after;
  std::vector<std::string> keeps;  ///< for people: "2 rows of cron.job", "the position of cron.jobid_seq"
};

KeepConfigSql keep_config_sql(const std::string& extension, const std::vector<state::ConfigTable>& tables,
                              const std::string& state_schema, bool allow_loss);

}  // namespace pgparity::planner
