// SHA-256 (OpenSSL) as lowercase hex, used for migration checksums.
#pragma once

#include <string>
#include <string_view>

namespace tandem {

std::string Sha256Hex(std::string_view data);

// CRLF and lone CR become LF, so a file checked out on Windows has the same checksum.
std::string NormalizeLineEndings(std::string_view text);

}  // namespace tandem
