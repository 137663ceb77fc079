#include "state/connection.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "core/error.hpp"
#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

TEST(Connection, AReadOnlySessionCannotWriteEvenWhenItTries) {
  Cluster cluster;
  auto session = state::connect(cluster.conninfo(), state::Access::read_only);
  pqxx::work tx(*session);
  EXPECT_EQ(tx.exec1("SHOW default_transaction_read_only")[0].as<std::string>(), "on");
  try {
    tx.exec("CREATE TABLE pgparity_must_not_exist (x int)");
    FAIL() << "a read-only session created a table";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "25006");  // read_only_sql_transaction
  }
}

TEST(Connection, AReadOnlySessionKeepsTheServerOptionsOfTheDsn) {
  Cluster cluster;
  auto session =
      state::connect(cluster.conninfo() + " options='-c work_mem=3MB'", state::Access::read_only, "pgparity-test");
  pqxx::nontransaction tx(*session);
  EXPECT_EQ(tx.exec1("SHOW work_mem")[0].as<std::string>(), "3MB");
  EXPECT_EQ(tx.exec1("SHOW default_transaction_read_only")[0].as<std::string>(), "on");
  EXPECT_EQ(tx.exec1("SHOW application_name")[0].as<std::string>(), "pgparity-test");
}

TEST(Connection, AMultiHostDsnAskingForReadWriteFindsThePrimaryAndTheSessionIsStillReadOnly) {
  Cluster primary;
  const auto standby = Cluster::standby_of(primary);
  // The standby first: libpq must pass it by and take the primary.
  const std::string dsn = "host=" + standby->dir() + "," + primary.dir() + " port=" + std::to_string(standby->port()) +
                          "," + std::to_string(primary.port()) + " user=postgres target_session_attrs=read-write";
  auto session = state::connect(dsn, state::Access::read_only);
  pqxx::work tx(*session);
  EXPECT_EQ(tx.exec1("SELECT pg_is_in_recovery()")[0].as<std::string>(), "f");
  EXPECT_EQ(tx.exec1("SHOW default_transaction_read_only")[0].as<std::string>(), "on");
  try {
    tx.exec("CREATE TABLE pgparity_must_not_exist (x int)");
    FAIL() << "a read-only session created a table";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "25006");
  }
}

TEST(Connection, AManagedSessionCanWrite) {
  Cluster cluster;
  auto session = state::connect(cluster.conninfo(), state::Access::read_write);
  pqxx::work tx(*session);
  tx.exec("CREATE TABLE t (x int)");
  tx.commit();
  EXPECT_EQ(cluster.query_value("SELECT to_regclass('t')::text"), "t");
}

TEST(Connection, PgEnvironmentVariablesFillWhatTheDsnLeavesOut) {
  Cluster cluster;
  setenv("PGHOST", cluster.dir().c_str(), 1);
  setenv("PGPORT", std::to_string(cluster.port()).c_str(), 1);
  setenv("PGUSER", "postgres", 1);
  auto session = state::connect("dbname=template1", state::Access::read_only);
  pqxx::nontransaction tx(*session);
  EXPECT_EQ(tx.exec1("SELECT current_database()")[0].as<std::string>(), "template1");
}

}  // namespace
}  // namespace pgparity::testing
