#include "reconciler/files.hpp"

#include <filesystem>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/error.hpp"

namespace pgparity::reconciler {

void write_file_atomically(const std::string& path, const std::string& text) {
  // A missing folder (pgparity/manifest.yaml in a fresh repository) is made, as git would need it anyway.
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error)
    throw InputError("cannot write " + path + ": cannot create the folder " + parent.string() + ": " + error.message());
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      throw InputError("cannot write " + path + ": " + std::strerror(errno));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temporary.c_str());
    throw InputError("cannot write " + path + ": " + reason);
  }
}

}  // namespace pgparity::reconciler
