// Where the test binary finds the tandem binary, the source tree and the shared corpus.
//
// The paths are compiled into one file (paths.cc) rather than defined on every test object, so
// that two checkouts of the repository compile identical test objects and share a compiler
// cache; only paths.cc differs between them.
#pragma once

namespace tandem::testing {

const char* TandemBinaryPath();  // the built `tandem` executable
const char* SourceDir();         // the repository's root
const char* CorpusDir();         // ../shared/corpus beside the repository (may be absent)

}  // namespace tandem::testing

#define TANDEM_BINARY_PATH (::tandem::testing::TandemBinaryPath())
#define TANDEM_SOURCE_DIR (::tandem::testing::SourceDir())
#define TANDEM_CORPUS_DIR (::tandem::testing::CorpusDir())
