// The pure half of http_client.h: URL parsing and the response parser.
#include <algorithm>
#include <cctype>
#include <charconv>

#include "notify/http_client.h"

namespace tandem::notify {

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl out;
  std::string_view rest;
  std::string scheme = Lower(url.substr(0, std::min<size_t>(url.size(), 8)));
  if (scheme.rfind("https://", 0) == 0) {
    out.tls = true;
    out.port = 443;
    rest = url.substr(8);
  } else if (scheme.rfind("http://", 0) == 0) {
    out.port = 80;
    rest = url.substr(7);
  } else {
    return Status::InvalidInput("the webhook URL must start with http:// or https://");
  }
  size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  size_t path_at = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_at);
  out.target = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
  if (out.target[0] == '?') out.target = "/" + out.target;
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    out.userinfo = PercentDecode(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidInput("the webhook URL has an unterminated IPv6 address");
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Status::InvalidInput("the webhook URL has a malformed host");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return Status::InvalidInput("the webhook URL has no host");
  for (char c : out.host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '\\') {
      return Status::InvalidInput("the webhook URL has a malformed host");
    }
  }
  if (!port_text.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port <= 0 ||
        port > 65535) {
      return Status::InvalidInput("the webhook URL has an invalid port");
    }
    out.port = port;
  }
  for (char c : out.target) {
    // A request line cannot carry these; refusing them also stops header injection.
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Status::InvalidInput("the webhook URL contains spaces or control characters")
          .WithHint("percent-encode them");
    }
  }
  return out;
}

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  std::string wanted = Lower(name);
  for (const auto& [key, value] : headers) {
    if (key == wanted) return value;
  }
  return std::nullopt;
}

ResponseParser::State ResponseParser::Fail(std::string message) {
  error_ = std::move(message);
  return State::kError;
}

ResponseParser::State ResponseParser::Feed(std::string_view data) {
  if (!error_.empty()) return State::kError;
  if (phase_ == Phase::kDone) return State::kDone;
  buffer_.append(data);
  return Step();
}

ResponseParser::State ResponseParser::Step() {
  while (true) {
    switch (phase_) {
      case Phase::kHead: {
        size_t end = buffer_.find("\r\n\r\n");
        if (end == std::string::npos) {
          if (buffer_.size() > 64 * 1024) return Fail("the response headers are too large");
          return State::kNeedMore;
        }
        std::string_view head(buffer_.data(), end);
        size_t line_end = head.find("\r\n");
        std::string_view status_line = head.substr(0, line_end);
        // "HTTP/1.1 200 OK": the reason phrase is optional.
        if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/" ||
            status_line.find(' ') == std::string_view::npos) {
          return Fail("the webhook did not answer with an HTTP status line");
        }
        std::string_view code = status_line.substr(status_line.find(' ') + 1, 3);
        int status = 0;
        auto [ptr, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
        if (ec != std::errc() || ptr != code.data() + 3 || status < 100 || status > 599) {
          return Fail("the webhook answered with a malformed status line");
        }
        HttpResponse response;
        response.status = status;
        std::string_view rest =
            line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
        while (!rest.empty()) {
          size_t next = rest.find("\r\n");
          std::string_view line = rest.substr(0, next);
          rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 2);
          size_t colon = line.find(':');
          if (colon == std::string_view::npos || colon == 0) {
            return Fail("the webhook answered with a malformed header line");
          }
          response.headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                                        std::string(Trim(line.substr(colon + 1))));
        }
        buffer_.erase(0, end + 4);
        if (status < 200) continue;  // 100 Continue and friends: the real answer follows
        response_ = std::move(response);
        if (auto te = response_.Header("transfer-encoding");
            te && Lower(*te).find("chunked") != std::string::npos) {
          chunked_ = true;
          phase_ = Phase::kChunkSize;
        } else if (auto length = response_.Header("content-length")) {
          size_t n = 0;
          auto [p, e] = std::from_chars(length->data(), length->data() + length->size(), n);
          if (e != std::errc() || p != length->data() + length->size()) {
            return Fail("the webhook answered with an invalid Content-Length");
          }
          if (n > kMaxBody) return Fail("the webhook's response body is too large");
          content_length_ = n;
          phase_ = Phase::kBody;
        } else {
          phase_ = Phase::kBody;
        }
        if (status == 204 || status == 304) {
          content_length_ = 0;
          chunked_ = false;
          phase_ = Phase::kBody;
        }
        break;
      }
      case Phase::kBody: {
        response_.body += buffer_;
        buffer_.clear();
        if (response_.body.size() > kMaxBody) return Fail("the webhook's response is too large");
        if (content_length_) {
          if (response_.body.size() >= *content_length_) {
            response_.body.resize(*content_length_);
            phase_ = Phase::kDone;
            return State::kDone;
          }
        }
        return State::kNeedMore;
      }
      case Phase::kChunkSize: {
        size_t end = buffer_.find("\r\n");
        if (end == std::string::npos) {
          if (buffer_.size() > 1024) return Fail("the webhook sent a malformed chunk");
          return State::kNeedMore;
        }
        std::string_view line(buffer_.data(), end);
        line = Trim(line.substr(0, line.find(';')));  // chunk extensions are ignored
        size_t size = 0;
        auto [p, e] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
        if (line.empty() || e != std::errc() || p != line.data() + line.size()) {
          return Fail("the webhook sent a malformed chunk size");
        }
        buffer_.erase(0, end + 2);
        if (size > kMaxBody || response_.body.size() + size > kMaxBody) {
          return Fail("the webhook's response is too large");
        }
        chunk_left_ = size;
        phase_ = size == 0 ? Phase::kTrailers : Phase::kChunkData;
        break;
      }
      case Phase::kChunkData: {
        size_t take = std::min(chunk_left_, buffer_.size());
        response_.body.append(buffer_, 0, take);
        buffer_.erase(0, take);
        chunk_left_ -= take;
        if (chunk_left_ > 0) return State::kNeedMore;
        phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kChunkDataEnd: {
        if (buffer_.size() < 2) return State::kNeedMore;
        if (buffer_.compare(0, 2, "\r\n") != 0) return Fail("the webhook sent a malformed chunk");
        buffer_.erase(0, 2);
        phase_ = Phase::kChunkSize;
        break;
      }
      case Phase::kTrailers: {
        size_t end = buffer_.find("\r\n");
        if (end == std::string::npos) return State::kNeedMore;
        buffer_.erase(0, end + 2);
        if (end == 0) {
          phase_ = Phase::kDone;
          return State::kDone;
        }
        break;  // a trailer field: ignored
      }
      case Phase::kDone:
        return State::kDone;
    }
  }
}

ResponseParser::State ResponseParser::Finish() {
  if (!error_.empty()) return State::kError;
  if (phase_ == Phase::kDone) return State::kDone;
  if (phase_ == Phase::kBody && !content_length_ && !chunked_) {
    phase_ = Phase::kDone;
    return State::kDone;
  }
  if (phase_ == Phase::kHead && buffer_.empty()) {
    return Fail("the webhook closed the connection without answering");
  }
  return Fail("the webhook closed the connection in the middle of its answer");
}

}  // namespace tandem::notify
