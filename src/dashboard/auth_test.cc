// Where a request came from, as the same-origin check reads it, and the text helpers every page
// uses to escape what comes from a database.
#include "dashboard/auth.h"

#include <gtest/gtest.h>

#include "dashboard/html.h"

namespace tandem::dashboard {
namespace {

server::Request With(std::vector<std::pair<std::string, std::string>> headers) {
  server::Request request;
  request.method = "POST";
  request.path = "/api/jobs/1/pause";
  request.headers = std::move(headers);
  return request;
}

TEST(DashboardOrigin, ComparesOriginSecFetchSiteAndRefererWithTheHost) {
  EXPECT_EQ(RequestOrigin(With({{"host", "dash:7420"}, {"origin", "http://dash:7420"}})),
            Origin::kSame);
  EXPECT_EQ(RequestOrigin(With({{"host", "dash:7420"}, {"origin", "http://dash:7421"}})),
            Origin::kCross);
  EXPECT_EQ(RequestOrigin(With({{"host", "dash:7420"}, {"origin", "null"}})), Origin::kCross);
  EXPECT_EQ(RequestOrigin(With({{"host", "dash"}, {"sec-fetch-site", "same-site"}})),
            Origin::kCross);
  EXPECT_EQ(RequestOrigin(With({{"host", "dash"}, {"sec-fetch-site", "same-origin"}})),
            Origin::kSame);
  // A same Origin does not excuse a cross-site Sec-Fetch-Site.
  EXPECT_EQ(RequestOrigin(With(
                {{"host", "dash"}, {"origin", "https://dash"}, {"sec-fetch-site", "cross-site"}})),
            Origin::kCross);
  EXPECT_EQ(RequestOrigin(With({{"host", "dash"}, {"referer", "https://dash/targets/a"}})),
            Origin::kSame);
  EXPECT_EQ(RequestOrigin(With({{"host", "dash"}, {"referer", "https://dash.evil/x"}})),
            Origin::kCross);
  EXPECT_EQ(RequestOrigin(With({{"host", "dash"}})), Origin::kUnknown);
  // Behind a proxy, the host the browser used.
  EXPECT_EQ(RequestOrigin(With({{"host", "127.0.0.1:7420"},
                                {"x-forwarded-host", "ops.example.com"},
                                {"origin", "https://ops.example.com"}})),
            Origin::kSame);
}

TEST(DashboardAuth, SessionsAreRandomIdsNotTheToken) {
  Auth auth("the-token");
  EXPECT_FALSE(auth.Login("the-toke").has_value());
  auto session = auth.Login("the-token");
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(session->size(), 64u);
  EXPECT_EQ(session->find("the-token"), std::string::npos);
  EXPECT_NE(*auth.Login("the-token"), *session);
  server::Request request = With({{"cookie", "a=b; tandem_session=" + *session}});
  EXPECT_TRUE(auth.HasSession(request));
  auth.Logout(request);
  EXPECT_FALSE(auth.HasSession(request));
  Auth read_only("");
  EXPECT_TRUE(read_only.read_only());
  EXPECT_FALSE(read_only.Login("").has_value());
}

TEST(DashboardHtml, EscapesAndDecodes) {
  EXPECT_EQ(Escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
  EXPECT_EQ(UrlEncode("a b/é"), "a%20b%2F%C3%A9");
  EXPECT_EQ(UrlDecode("a+b%2Fc%zz%"), "a b/c%zz%");
  auto query = ParseQuery("state=failed&group=eu+west&state=ok&empty");
  EXPECT_EQ(query["state"], "failed");
  EXPECT_EQ(query["group"], "eu west");
  EXPECT_EQ(query.count("empty"), 1u);
  EXPECT_EQ(Thousands(1234567), "1,234,567");
  EXPECT_EQ(ShortTime("2026-11-30T13:58:46.123Z"), "2026-11-30 13:58:46");
}

}  // namespace
}  // namespace tandem::dashboard
