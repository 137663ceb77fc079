#include "state/session_cache.hpp"

#include <algorithm>
#include <pqxx/except>

namespace pgparity::state {

namespace {

std::string key_of(const std::string& dsn, Access access, const std::optional<std::string>& database) {
  return session_conninfo(dsn, access, "pgparity", database);
}

}  // namespace

std::unique_ptr<pqxx::connection> SessionCache::take(const std::string& dsn, Access access,
                                                     const std::optional<std::string>& database) {
  const std::string key = key_of(dsn, access, database);
  std::lock_guard lock(mutex_);
  auto it = kept_.find(key);
  if (it == kept_.end()) return nullptr;
  auto session = std::move(it->second.session);
  kept_.erase(it);
  if (auto born = born_.find(key);
      born != born_.end() && std::chrono::steady_clock::now() - born->second > session_max_age) {
    born_.erase(born);
    return nullptr;  // the old session closes here; the caller opens a new one
  }
  return session;
}

std::size_t SessionCache::kept_for(const std::string& server) const {
  return static_cast<std::size_t>(
      std::count_if(kept_.begin(), kept_.end(), [&](const auto& k) { return k.second.server == server; }));
}

void SessionCache::give_back(const std::string& dsn, Access access, const std::optional<std::string>& database,
                             std::unique_ptr<pqxx::connection> session, int max_connections) {
  if (!session || !session->is_open()) return;
  std::size_t limit = capacity_;
  if (max_connections > 0) limit = std::min(limit, static_cast<std::size_t>(max_connections / share_));
  std::unique_ptr<pqxx::connection> closing;  // closed outside the lock
  std::lock_guard lock(mutex_);
  const std::string key = key_of(dsn, access, database);
  if (kept_.contains(key) || kept_for(dsn) >= limit) {
    closing = std::move(session);
    return;
  }
  born_.emplace(key, std::chrono::steady_clock::now());
  std::string connected = session->dbname();
  kept_.emplace(key, Kept{dsn, std::move(session), true, std::move(connected)});
}

void SessionCache::end_tick() {
  std::lock_guard lock(mutex_);
  std::erase_if(kept_, [&](const auto& k) {
    if (k.second.used) return false;
    born_.erase(k.first);
    return true;
  });
  for (auto& [key, k] : kept_) k.used = false;
}

void SessionCache::retain(const std::function<bool(const std::string& dsn, const std::string& database)>& wanted) {
  std::vector<std::unique_ptr<pqxx::connection>> closing;  // closed outside the lock
  std::lock_guard lock(mutex_);
  for (auto it = kept_.begin(); it != kept_.end();) {
    if (wanted(it->second.server, it->second.database)) {
      ++it;
      continue;
    }
    closing.push_back(std::move(it->second.session));
    born_.erase(it->first);
    it = kept_.erase(it);
  }
}

std::size_t SessionCache::size() const {
  std::lock_guard lock(mutex_);
  return kept_.size();
}

std::optional<SessionCache::Offers> SessionCache::offers(const std::string& dsn, const std::string& validator,
                                                         const std::string& asked) const {
  std::lock_guard lock(mutex_);
  auto it = offers_.find(dsn);
  if (it == offers_.end() || it->second.validator != validator || it->second.asked != asked) return std::nullopt;
  if (std::chrono::steady_clock::now() - it->second.read_at > offers_max_age) return std::nullopt;
  return it->second;
}

void SessionCache::keep_offers(const std::string& dsn, Offers offers) {
  std::lock_guard lock(mutex_);
  offers_[dsn] = std::move(offers);
}

void SessionCache::forget_offers() {
  std::lock_guard lock(mutex_);
  offers_.clear();
}

std::unique_ptr<pqxx::connection> with_session(SessionCache* cache, const std::string& dsn, Access access,
                                               const std::optional<std::string>& database,
                                               const std::function<void(pqxx::connection&)>& read) {
  if (cache != nullptr) {
    if (auto kept = cache->take(dsn, access, database)) {
      try {
        read(*kept);
        return kept;
      } catch (const pqxx::failure&) {
        // Broken or not, this session is done; a real problem shows again on the new one.
      }
    }
  }
  auto session = connect(dsn, access, "pgparity", database);
  read(*session);
  return session;
}

}  // namespace pgparity::state
