#include "testing/paths.h"

namespace tandem::testing {

// The macros below come from CMake, set on this one file only (see CMakeLists.txt).
const char* TandemBinaryPath() { return TANDEM_BUILT_BINARY; }
const char* SourceDir() { return TANDEM_BUILT_SOURCE_DIR; }
const char* CorpusDir() { return TANDEM_BUILT_CORPUS_DIR; }

}  // namespace tandem::testing
