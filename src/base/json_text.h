// Writing JSON text directly, for outputs too large to build as a DOM first (lint findings over
// a whole corpus: building an nlohmann tree and dumping it took a quarter of lint's time).
#pragma once

#include <string>
#include <string_view>

namespace tandem {

// Appends `value` as a JSON string literal, escaped exactly as nlohmann::json::dump does
// (quote, backslash, \b \f \n \r \t, other control characters as \u00XX; UTF-8 unchanged;
// a byte that is not UTF-8 becomes U+FFFD, as nlohmann's error_handler_t::replace does).
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace tandem
