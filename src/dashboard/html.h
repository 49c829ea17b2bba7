// Text helpers for the dashboard's pages and routes: HTML escaping (everything shown from a
// database goes through Escape), percent-decoding of query strings and form bodies, and the
// page frame every page shares (the <main> element, /assets/app.css and /assets/app.js).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace tandem::dashboard {

// &, <, >, " and ' as entities: safe in element text and in quoted attribute values.
std::string Escape(std::string_view text);

// Percent-encoding for a path segment or a query value (unreserved characters kept).
std::string UrlEncode(std::string_view text);
// '+' as space and %XX decoded; a malformed escape is kept as written.
std::string UrlDecode(std::string_view text);
// "a=1&b=x+y" -> {a: "1", b: "x y"}; the first of a repeated name wins.
std::map<std::string, std::string> ParseQuery(std::string_view query);

struct PageOptions {
  std::string title;  // escaped here
  std::string nav;    // which nav link is current: "overview", "jobs", "events", "login"
  bool read_only = false;
  bool logged_in = false;
};
// The whole document around `body` (HTML already escaped by the caller).
std::string Page(const PageOptions& options, std::string_view body);

// 1234567 -> "1,234,567".
std::string Thousands(long long value);
// "2026-11-30T13:58:46.123Z" -> "2026-11-30 13:58:46" ("" stays "").
std::string ShortTime(std::string_view iso);
// 1234 ms -> "1.2s", 65000 -> "1m05s".
std::string ShortDuration(long long ms);

}  // namespace tandem::dashboard
