// The floor pgparity's observation is measured against: list the databases,
// then, `parallel` at a time, connect to each and run one query listing its
// extensions. usage: pgparity_bench_floor DSN PARALLEL
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: pgparity_bench_floor DSN PARALLEL\n";
    return 2;
  }
  const std::string dsn = argv[1];
  const unsigned parallel = static_cast<unsigned>(std::atoi(argv[2]));
  std::vector<std::string> databases;
  {
    pqxx::connection c(dsn);
    pqxx::read_transaction tx(c);
    for (const auto& row : tx.exec("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate"))
      databases.emplace_back(row[0].c_str());
  }
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> extensions{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < databases.size(); i = next++) {
      pqxx::connection c(dsn + " dbname=" + databases[i]);
      pqxx::read_transaction tx(c);
      extensions += tx.exec("SELECT extname, extversion FROM pg_extension").size();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < parallel; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  std::cout << databases.size() << " databases, " << extensions << " extensions\n";
  return 0;
}
