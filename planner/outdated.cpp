#include "planner/outdated.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <sstream>

namespace pgparity::planner {

namespace {

/// Natural order: runs of digits compare as numbers, everything else as text.
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
    const bool db = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
    if (da && db) {
      std::size_t ei = i;
      std::size_t ej = j;
      while (ei < a.size() && std::isdigit(static_cast<unsigned char>(a[ei])) != 0) ++ei;
      while (ej < b.size() && std::isdigit(static_cast<unsigned char>(b[ej])) != 0) ++ej;
      const std::string na = a.substr(i, ei - i);
      const std::string nb = b.substr(j, ej - j);
      const std::string ta = na.substr(std::min(na.find_first_not_of('0'), na.size()));
      const std::string tb = nb.substr(std::min(nb.find_first_not_of('0'), nb.size()));
      if (ta.size() != tb.size()) return ta.size() < tb.size();
      if (ta != tb) return ta < tb;
      i = ei;
      j = ej;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

}  // namespace

std::string newest_version(const std::vector<state::AvailableVersion>& versions) {
  std::string best;
  bool best_numeric = false;
  for (const auto& v : versions) {
    const std::string& text = v.version.str();
    const bool numeric = !text.empty() && std::isdigit(static_cast<unsigned char>(text[0])) != 0;
    if (best.empty() || (numeric && !best_numeric) || (numeric == best_numeric && natural_less(best, text))) {
      best = text;
      best_numeric = numeric;
    }
  }
  return best;
}

std::vector<OutdatedRow> outdated(const std::map<std::string, state::TargetState>& observed, const Plan& plan,
                                  const std::vector<std::string>& managed_extensions) {
  std::vector<OutdatedRow> rows;
  for (const auto& [name, target] : observed) {
    for (const auto& db : target.databases) {
      for (const auto& e : db.installed) {
        OutdatedRow row;
        row.target = name;
        row.database = db.name;
        row.extension = e.name.str();
        row.installed = e.version.str();
        const auto* available = target.cluster.find_available(row.extension);
        if (available != nullptr) {
          if (available->default_version) row.server_default = available->default_version->str();
          row.latest = newest_version(available->versions);
        }
        const auto reachable = [&](const std::string& to) {
          return !to.empty() && (to == row.installed || target.cluster.find_path(row.extension, e.version,
                                                                                 Version::from_catalog(to)) != nullptr);
        };
        row.path_to_default = reachable(row.server_default);
        row.path_to_latest = reachable(row.latest);
        if (std::find(managed_extensions.begin(), managed_extensions.end(), row.extension) !=
            managed_extensions.end()) {
          row.desired = row.installed;  // converged, unless a step or a blocker says otherwise
        }
        for (const auto& s : plan.steps) {
          if (s.target != name || s.database != db.name || extension_of(s) != row.extension) continue;
          row.desired = s.kind == StepKind::drop ? "absent" : object_of(s).to;
        }
        for (const auto& b : plan.blockers) {
          if (b.target == name && b.database == db.name && b.extension == row.extension) row.desired = "blocked";
        }
        rows.push_back(std::move(row));
      }
    }
  }
  std::sort(rows.begin(), rows.end(), [](const OutdatedRow& a, const OutdatedRow& b) {
    return std::tie(a.target, a.database, a.extension) < std::tie(b.target, b.database, b.extension);
  });
  return rows;
}

std::string render_outdated_text(const std::vector<OutdatedRow>& rows) {
  std::ostringstream out;
  const std::vector<std::string> header{"where", "extension", "installed", "desired", "default", "latest", "update"};
  std::vector<std::vector<std::string>> table{header};
  for (const auto& r : rows) {
    std::string update = "-";
    if (r.update_available()) update = "yes";
    if (r.latest != r.installed && !r.path_to_latest) update = "no path";
    table.push_back({r.target + "/" + r.database, r.extension, r.installed, r.desired.empty() ? "-" : r.desired,
                     r.server_default.empty() ? "-" : r.server_default, r.latest.empty() ? "-" : r.latest, update});
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& line : table) {
    for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  for (const auto& line : table) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(width[i] - line[i].size() + 2, ' ');
    }
    out << text << "\n";
  }
  std::size_t available = 0;
  for (const auto& r : rows) available += r.update_available() ? 1 : 0;
  out << available << " update" << (available == 1 ? "" : "s") << " available\n";
  return out.str();
}

std::string render_outdated_json(const std::vector<OutdatedRow>& rows) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::size_t available = 0;
  for (const auto& r : rows) {
    available += r.update_available() ? 1 : 0;
    list.push_back({{"target", r.target},
                    {"database", r.database},
                    {"extension", r.extension},
                    {"installed", r.installed},
                    {"desired", r.desired},
                    {"default", r.server_default},
                    {"latest", r.latest},
                    {"path_to_default", r.path_to_default},
                    {"path_to_latest", r.path_to_latest},
                    {"update_available", r.update_available()}});
  }
  return nlohmann::ordered_json{{"apiVersion", "pgparity/v1"},
                                {"kind", "Outdated"},
                                {"updates_available", available},
                                {"extensions", list}}
             .dump(2) +
         "\n";
}

}  // namespace pgparity::planner
