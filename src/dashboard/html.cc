#include "dashboard/html.h"

#include <cstdio>

#include "base/duration.h"

namespace tandem::dashboard {

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string UrlDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(pos, end - pos);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string name = UrlDecode(pair.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : UrlDecode(pair.substr(eq + 1));
      out.emplace(std::move(name), std::move(value));
    }
    pos = end + 1;
  }
  return out;
}

std::string Page(const PageOptions& options, std::string_view body) {
  auto link = [&](const char* href, const char* key, const char* label) {
    std::string out = "<a href=\"";
    out += href;
    out += '"';
    if (options.nav == key) out += " aria-current=\"page\"";
    out += '>';
    out += label;
    out += "</a>";
    return out;
  };
  std::string out;
  out.reserve(body.size() + 1024);
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<link rel=\"icon\" href=\"/favicon.ico\" type=\"image/svg+xml\">"
      "<link rel=\"stylesheet\" href=\"/assets/app.css\">"
      "<script src=\"/assets/app.js\" defer></script><title>";
  out += Escape(options.title);
  out += " · tandem</title></head><body><header><nav><strong class=\"brand\">tandem</strong> ";
  out += link("/", "overview", "Overview");
  out += ' ';
  out += link("/jobs", "jobs", "Jobs");
  out += ' ';
  out += link("/events", "events", "Events");
  out += ' ';
  if (options.read_only) {
    out +=
        "<span class=\"badge\" title=\"no token is configured: changes are refused\">"
        "read-only</span>";
  } else if (options.logged_in) {
    out +=
        "<form method=\"post\" action=\"/logout\" class=\"inline\">"
        "<button type=\"submit\" class=\"link\">Log out</button></form>";
  } else {
    out += link("/login", "login", "Log in");
  }
  out +=
      " <span id=\"live\" class=\"live\" title=\"live updates\">static</span></nav></header>"
      "<main>";
  out += body;
  out += "</main><div id=\"message\" role=\"status\"></div></body></html>\n";
  return out;
}

std::string Thousands(long long value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string ShortTime(std::string_view iso) {
  if (iso.size() < 19) return std::string(iso);
  std::string out(iso.substr(0, 19));
  out[10] = ' ';
  return out;
}

std::string ShortDuration(long long ms) { return FormatDuration(Duration(ms)); }

}  // namespace tandem::dashboard
