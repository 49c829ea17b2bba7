// The parts of http_server.h that need no socket: listen addresses, the token check, response
// helpers.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

#include "base/sha256.h"
#include "server/http_server.h"

namespace tandem::server {
namespace {

constexpr const char* kAddressHint =
    "write HOST:PORT with an IP address, for example 127.0.0.1:7420, :7420 (127.0.0.1), "
    "0.0.0.0:7420 (every interface) or [::1]:7420";

Status BadAddress(std::string_view text, const std::string& why) {
  // The value is the user's own flag; it is quoted, and stripped of control characters so that
  // the message stays one line.
  std::string shown;
  for (char c : text) shown += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return Status::InvalidInput("invalid listen address \"" + shown + "\": " + why)
      .WithHint(kAddressHint);
}

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string ListenAddress::ToString() const {
  return (ipv6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool ListenAddress::loopback() const {
  if (ipv6()) {
    in6_addr v6;
    return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
  }
  in_addr v4;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  ListenAddress address;
  if (text.empty()) return address;
  std::string_view host = text;
  std::string_view port;
  if (text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return BadAddress(text, "missing \"]\"");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return BadAddress(text, "expected \":PORT\" after \"]\"");
      port = rest.substr(1);
      if (port.empty()) return BadAddress(text, "missing port after \":\"");
    }
    in6_addr v6;
    std::string h(host);
    if (inet_pton(AF_INET6, h.c_str(), &v6) != 1) {
      return BadAddress(text, "not an IPv6 address");
    }
    address.host = h;
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) {
      return BadAddress(text, "an IPv6 address must be in brackets");
    }
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) return BadAddress(text, "missing port after \":\"");
    } else if (AllDigits(text)) {
      host = "";  // a port alone
      port = text;
    }
    if (host.empty() || EqualsIgnoreCase(host, "localhost")) {
      address.host = "127.0.0.1";
    } else {
      in_addr v4;
      std::string h(host);
      if (inet_pton(AF_INET, h.c_str(), &v4) != 1) {
        return BadAddress(text, "not an IP address (host names are not resolved)");
      }
      address.host = h;
    }
  }
  if (!port.empty()) {
    if (!AllDigits(port) || port.size() > 5 || std::stoi(std::string(port)) > 65535) {
      return BadAddress(text, "the port must be a number from 0 to 65535");
    }
    address.port = std::stoi(std::string(port));
  }
  return address;
}

const std::string* Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

Response Response::Text(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

Response Response::Json(int status, std::string body) {
  Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = std::move(body);
  return response;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

bool HasBearerToken(const Request& request, std::string_view token) {
  if (token.empty()) return false;
  const std::string* header = request.Header("authorization");
  if (header == nullptr) return false;
  std::string_view value = *header;
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size() ||
      !EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return TokensMatch(value, token);
}

bool TokensMatch(std::string_view value, std::string_view token) {
  if (token.empty()) return false;
  // Comparing digests makes the time independent of the lengths and of where the two differ
  // (the loop runs over all 64 hex digits whatever they hold).
  std::string given = Sha256Hex(value);
  std::string expected = Sha256Hex(token);
  unsigned char differ = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    differ |= static_cast<unsigned char>(given[i] ^ expected[i]);
  }
  return differ == 0;
}

std::optional<Response> CheckToken(const Request& request, std::string_view token) {
  if (token.empty()) {
    return Response::Text(403, "this server is read-only: no token is configured\n");
  }
  if (HasBearerToken(request, token)) return std::nullopt;
  Response response = Response::Text(401, "this request needs \"Authorization: Bearer <token>\"\n");
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

}  // namespace tandem::server
