// The floors pgparity is measured against.
//
//   pgparity_bench_floor DSN PARALLEL                  observation: list the databases, then, PARALLEL
//                                                      at a time, connect to each and list its extensions
//   pgparity_bench_floor DSN PARALLEL SQL LIKE         a change by hand: connect to each database whose
//                                                      name is LIKE the pattern and send SQL as one
//                                                      simple query (as `psql -c` does): one round trip
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5) {
    std::cerr << "usage: pgparity_bench_floor DSN PARALLEL [SQL LIKE]\n";
    return 2;
  }
  const std::string dsn = argv[1];
  const unsigned parallel = static_cast<unsigned>(std::atoi(argv[2]));
  const std::string change = argc == 5 ? argv[3] : "";
  std::vector<std::string> databases;
  {
    pqxx::connection c(dsn);
    pqxx::read_transaction tx(c);
    const std::string like = argc == 5 ? " AND datname LIKE " + tx.quote(argv[4]) : "";
    for (const auto& row : tx.exec("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate" + like))
      databases.emplace_back(row[0].c_str());
  }
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> rows{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < databases.size(); i = next++) {
      pqxx::connection c(dsn + " dbname=" + databases[i]);
      if (change.empty()) {
        pqxx::nontransaction tx(c);  // one query, one round trip: nothing that observes does less
        rows += tx.exec("SELECT extname, extversion FROM pg_extension").size();
      } else {
        pqxx::nontransaction tx(c);
        tx.exec(change);
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < parallel; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  std::cout << databases.size() << " databases, " << rows << " extensions\n";
  return 0;
}
