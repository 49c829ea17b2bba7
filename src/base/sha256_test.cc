#include "base/sha256.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, LineEndingsDoNotChangeTheChecksum) {
  EXPECT_EQ(Sha256Hex(NormalizeLineEndings("a\r\nb\rc\n")),
            Sha256Hex(NormalizeLineEndings("a\nb\nc\n")));
}

}  // namespace
}  // namespace tandem
