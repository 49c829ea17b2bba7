#include "server/http_parse.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace tandem::server {
namespace {

// RFC 9110 token characters (method and header names).
bool IsTokenChar(unsigned char c) {
  if (std::isalnum(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return IsTokenChar(static_cast<unsigned char>(c));
  });
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> SplitLines(std::string_view head) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= head.size()) {
    size_t end = head.find('\n', pos);
    if (end == std::string_view::npos) end = head.size();
    std::string_view line = head.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = end + 1;
  }
  return lines;
}

ParsedHead Fail(int status, std::string reason) {
  ParsedHead parsed;
  parsed.error = status;
  parsed.error_reason = std::move(reason);
  return parsed;
}

}  // namespace

size_t FindHeadEnd(std::string_view buffer) {
  // The first empty line: "\n" followed by an optional "\r" and "\n".
  size_t pos = 0;
  while (true) {
    size_t nl = buffer.find('\n', pos);
    if (nl == std::string_view::npos) return std::string_view::npos;
    if (nl + 1 < buffer.size() && buffer[nl + 1] == '\n') return nl + 2;
    if (nl + 2 < buffer.size() && buffer[nl + 1] == '\r' && buffer[nl + 2] == '\n') return nl + 3;
    if (nl + 1 >= buffer.size() || (buffer[nl + 1] == '\r' && nl + 2 >= buffer.size())) {
      return std::string_view::npos;  // the rest has not arrived
    }
    pos = nl + 1;
  }
}

ParsedHead ParseHead(std::string_view head) {
  std::vector<std::string_view> lines = SplitLines(head);
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return Fail(400, "empty request");

  // Request line: METHOD SP request-target SP HTTP-version.
  std::string_view line = lines[0];
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Fail(400, "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Fail(400, "malformed request method");
  if (version.substr(0, 5) != "HTTP/") return Fail(400, "malformed HTTP version");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return Fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
  }
  // Origin form only ("/path?query"): no absolute URLs, no "*".
  if (target.empty() || target[0] != '/') return Fail(400, "malformed request target");
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return Fail(400, "malformed request target");
  }

  ParsedHead parsed;
  Request& request = parsed.request;
  request.method = std::string(method);
  request.target = std::string(target);
  size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));

  std::optional<size_t> content_length;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view header = lines[i];
    // Obsolete line folding (a continuation line starting with a space) is refused, as RFC
    // 9112 allows, rather than guessed at.
    if (header.empty() || header[0] == ' ' || header[0] == '\t') {
      return Fail(400, "malformed header line");
    }
    size_t colon = header.find(':');
    if (colon == std::string_view::npos || !IsToken(header.substr(0, colon))) {
      return Fail(400, "malformed header line");
    }
    std::string name(header.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = TrimSpaces(header.substr(colon + 1));
    for (char c : value) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && u != '\t') || u == 0x7f) return Fail(400, "malformed header value");
    }
    if (name == "transfer-encoding") {
      // Chunked request bodies are not needed by any route; refusing them leaves one way to
      // delimit a body (Content-Length) and so no room for request smuggling.
      return Fail(411, "send the body with a Content-Length");
    }
    if (name == "content-length") {
      if (value.empty() || value.size() > 18 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return Fail(400, "malformed Content-Length");
      }
      size_t n = std::stoull(std::string(value));
      if (content_length && *content_length != n) return Fail(400, "conflicting Content-Length");
      content_length = n;
    }
    request.headers.emplace_back(std::move(name), std::string(value));
  }
  parsed.content_length = content_length.value_or(0);
  return parsed;
}

}  // namespace tandem::server
