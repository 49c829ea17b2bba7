// The one helper that turns a name into an SQL identifier. Every identifier tandem puts into
// SQL text goes through QuoteIdentifier; every value goes through a bound parameter instead.
#pragma once

#include <string>
#include <string_view>

namespace tandem::pg {

// Always double-quotes, doubling embedded quotes: users -> "users", a"b -> "a""b".
std::string QuoteIdentifier(std::string_view name);

// schema.name with both parts quoted.
std::string QuoteQualified(std::string_view schema, std::string_view name);

}  // namespace tandem::pg
