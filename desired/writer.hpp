#pragma once

#include <map>
#include <string>

#include "desired/manifest.hpp"

namespace pgparity::desired {

/// What a written manifest says beyond the model, as YAML comments.
struct WriteNotes {
  std::string header;                         ///< comment lines at the top ("" for none)
  std::map<std::string, std::string> ratios;  ///< ratio expression text -> a comment beside it
};

/// The manifest as YAML, in a canonical, deterministic form: keys in a fixed
/// order, targets by name, extensions by name, versions always quoted, DSNs as
/// written (${VAR} unexpanded), a policy only where it differs from the defaults.
/// Loading the result gives an equal Manifest.
std::string write_manifest(const Manifest& manifest, const WriteNotes& notes = {});

/// The shortest decimal text that reads back as the same double ("0.05", "1e-06").
std::string format_number(double value);

}  // namespace pgparity::desired
