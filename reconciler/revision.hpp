#pragma once

#include <string>

namespace pgparity::reconciler {

/// The revision a manifest file is at, named as Flux names one: "<branch>@sha1:<40 hex>" for the HEAD
/// of the git work tree that holds the file ("HEAD@sha1:…" when HEAD is detached), with "+dirty" when
/// the file differs from that commit (modified, staged or untracked). "" outside a work tree, or in a
/// repository with no commit yet. Read with libgit2; never fails a run: a repository it cannot read
/// gives "".
std::string manifest_revision(const std::string& manifest_path);

/// Why a revision given with --revision is not one pgparity records: empty, longer than 200
/// characters, or holding a control character. "" when it may be recorded.
std::string revision_problem(const std::string& revision);

}  // namespace pgparity::reconciler
