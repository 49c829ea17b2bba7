#include "notify/http_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "testing/http_receiver.h"

namespace tandem::notify {
namespace {

using testing::HttpReceiver;

TEST(HttpUrlTest, ParsesSchemesPortsAndTargets) {
  auto url = ParseHttpUrl("https://hooks.slack.com/services/T0/B0/SECRET");
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "hooks.slack.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->target, "/services/T0/B0/SECRET");

  url = ParseHttpUrl("HTTP://127.0.0.1:8080?a=1#frag");
  ASSERT_TRUE(url.ok());
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/?a=1");

  url = ParseHttpUrl("http://[::1]:9000/x");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9000);

  url = ParseHttpUrl("https://bot:p%40ss@example.com/hook");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->userinfo, "bot:p@ss");
  EXPECT_EQ(url->host, "example.com");
}

TEST(HttpUrlTest, RefusesWithoutQuotingTheUrl) {
  for (const char* bad :
       {"ftp://example.com/SECRET123", "https:///SECRET123", "http://example.com:99999/SECRET123",
        "http://example.com/a b SECRET123", "http://example.com/SECRET123\r\nX: y", "SECRET123"}) {
    auto url = ParseHttpUrl(bad);
    ASSERT_FALSE(url.ok()) << bad;
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidInput);
    EXPECT_EQ(url.status().ToString().find("SECRET123"), std::string::npos) << bad;
  }
}

ResponseParser::State FeedAll(ResponseParser& parser, std::string_view text, size_t piece) {
  ResponseParser::State state = ResponseParser::State::kNeedMore;
  for (size_t i = 0; i < text.size() && state == ResponseParser::State::kNeedMore; i += piece) {
    state = parser.Feed(text.substr(i, piece));
  }
  return state;
}

TEST(ResponseParserTest, ContentLengthInAnyPieces) {
  std::string text =
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 5\r\n\r\nslowX";
  for (size_t piece : {1, 3, 1000}) {
    ResponseParser parser;
    ASSERT_EQ(FeedAll(parser, text, piece), ResponseParser::State::kDone) << piece;
    EXPECT_EQ(parser.response().status, 429);
    EXPECT_EQ(parser.response().Header("RETRY-AFTER").value_or(""), "7");
    EXPECT_EQ(parser.response().body, "slowX");
  }
}

TEST(ResponseParserTest, ChunkedWithExtensionsAndTrailers) {
  std::string text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n";
  for (size_t piece : {1, 2, 7, 1000}) {
    ResponseParser parser;
    ASSERT_EQ(FeedAll(parser, text, piece), ResponseParser::State::kDone) << piece;
    EXPECT_EQ(parser.response().body, "Wikipedia in\r\n\r\nchunks.");
  }
}

TEST(ResponseParserTest, BodyToTheEndOfTheConnectionAndInterimResponses) {
  ResponseParser parser;
  EXPECT_EQ(parser.Feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 503 Busy\r\nX: y\r\n\r\nnot now"),
            ResponseParser::State::kNeedMore);
  EXPECT_EQ(parser.Finish(), ResponseParser::State::kDone);
  EXPECT_EQ(parser.response().status, 503);
  EXPECT_EQ(parser.response().body, "not now");

  ResponseParser no_content;
  EXPECT_EQ(no_content.Feed("HTTP/1.1 204 No Content\r\n\r\n"), ResponseParser::State::kDone);
}

TEST(ResponseParserTest, RefusesMalformedAnswers) {
  for (const char* bad :
       {"SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    ResponseParser parser;
    EXPECT_EQ(parser.Feed(bad), ResponseParser::State::kError) << bad;
    EXPECT_FALSE(parser.error().empty());
  }
  ResponseParser cut;
  EXPECT_EQ(cut.Feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
            ResponseParser::State::kNeedMore);
  EXPECT_EQ(cut.Finish(), ResponseParser::State::kError);
}

TEST(HttpClientTest, PostsToAServerAndReadsItsAnswer) {
  HttpReceiver receiver;
  receiver.Script({HttpReceiver::Reply{201, {{"X-Id", "9"}}, "created", false, false},
                   HttpReceiver::Reply{200, {}, "chunked answer body", true, false}});
  auto response = HttpPost(receiver.Url("/hooks/SECRET123?x=1"), R"({"a":1})");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->Header("x-id").value_or(""), "9");
  EXPECT_EQ(response->body, "created");

  response = HttpPost(receiver.Url("/second"), "{}");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "chunked answer body");

  auto requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/hooks/SECRET123?x=1");
  EXPECT_EQ(requests[0].body, R"({"a":1})");
  EXPECT_EQ(requests[0].Header("content-type"), "application/json");
  EXPECT_EQ(requests[0].Header("host"), "127.0.0.1:" + std::to_string(receiver.port()));
}

TEST(HttpClientTest, SendsBasicAuthorizationFromTheUrl) {
  HttpReceiver receiver;
  std::string url = "http://bot:pw@127.0.0.1:" + std::to_string(receiver.port()) + "/h";
  ASSERT_TRUE(HttpPost(url, "{}").ok());
  ASSERT_EQ(receiver.Requests().size(), 1u);
  EXPECT_EQ(receiver.Requests()[0].Header("authorization"), "Basic Ym90OnB3");
}

TEST(HttpClientTest, TimesOutOnAHangingServerWithoutNamingIt) {
  HttpReceiver receiver;
  receiver.SetDefault(HttpReceiver::Reply{200, {}, "", false, /*hang=*/true});
  HttpPostOptions options;
  options.timeout = Duration(300);
  auto started = std::chrono::steady_clock::now();
  auto response = HttpPost(receiver.Url("/hooks/SECRET123"), "{}", options);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("timed out"), std::string::npos);
  EXPECT_EQ(response.status().ToString().find("SECRET123"), std::string::npos);
  EXPECT_EQ(response.status().ToString().find("127.0.0.1"), std::string::npos);
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::milliseconds(2000));
}

TEST(HttpClientTest, CancelReturnsPromptly) {
  HttpReceiver receiver;
  receiver.SetDefault(HttpReceiver::Reply{200, {}, "", false, /*hang=*/true});
  std::atomic<bool> cancel{false};
  HttpPostOptions options;
  options.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  auto started = std::chrono::steady_clock::now();
  auto response = HttpPost(receiver.Url("/x"), "{}", options);
  auto took = std::chrono::steady_clock::now() - started;
  canceller.join();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInterrupted);
  EXPECT_LT(took, std::chrono::milliseconds(1500));  // 200 ms, then one 100 ms poll at most
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailableWithoutTheUrl) {
  int port;
  {
    HttpReceiver closed;  // a port that was free a moment ago and is closed now
    port = closed.port();
  }
  auto response = HttpPost("http://127.0.0.1:" + std::to_string(port) + "/hooks/SECRET123", "{}");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("could not connect"), std::string::npos);
  EXPECT_EQ(response.status().ToString().find("SECRET123"), std::string::npos);
  EXPECT_EQ(response.status().ToString().find(std::to_string(port)), std::string::npos);
}

}  // namespace
}  // namespace tandem::notify
