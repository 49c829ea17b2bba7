// The request head parser of http_server.h, apart from the sockets so that tests can feed it
// every malformed form directly.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "server/http_server.h"

namespace tandem::server {

struct ParsedHead {
  int error = 0;             // 0, or the status to answer with (400, 411, 505)
  std::string error_reason;  // fixed text for the response body, never request data
  Request request;           // method, target, path, query, headers (body not yet read)
  size_t content_length = 0;
};

// Where the head ends in `buffer` (the offset of the first body byte), or npos when the blank
// line has not arrived yet. Accepts CRLF and bare LF line ends.
size_t FindHeadEnd(std::string_view buffer);

// Parses the request line and headers (`head` up to, not including, the blank line).
ParsedHead ParseHead(std::string_view head);

}  // namespace tandem::server
