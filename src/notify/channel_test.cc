#include "notify/channel.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "notify/notifier.h"

namespace tandem::notify {
namespace {

TEST(ChannelTest, KeysFiltersAndScrubbing) {
  std::string url = "https://hooks.example.com/services/SECRET123";
  std::string key = ChannelKey("slack", url);
  EXPECT_EQ(key.rfind("slack:", 0), 0u);
  EXPECT_EQ(key.size(), 6u + 16u);
  EXPECT_EQ(key.find("SECRET123"), std::string::npos);
  EXPECT_NE(ChannelKey("webhook", url), key);

  config::NotifyChannel channel;
  EXPECT_TRUE(Wants(channel, "job.running"));
  EXPECT_FALSE(Wants(channel, "notify.failed"));
  channel.events = {"failed", "awaiting-approval"};
  EXPECT_TRUE(Wants(channel, "job.awaiting-approval"));
  EXPECT_FALSE(Wants(channel, "job.succeeded"));

  EXPECT_EQ(Scrub("posting to " + url +
                      " failed, path /services/SECRET123 at "
                      "hooks.example.com",
                  url),
            "posting to *** failed, path *** at ***");

  EXPECT_EQ(ParseRetryAfter(" 30 ").value_or(Duration(-1)), Duration(30'000));
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(ParseRetryAfter("-1"));
}

TEST(ChannelTest, UrlEnvIsReadWhenSending) {
  config::NotifyChannel channel;
  channel.kind = "slack";
  channel.url_env = "TANDEM_TEST_NOTIFY_URL_ENV";
  unsetenv("TANDEM_TEST_NOTIFY_URL_ENV");
  auto missing = ResolveUrl(channel);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("TANDEM_TEST_NOTIFY_URL_ENV"), std::string::npos);
  setenv("TANDEM_TEST_NOTIFY_URL_ENV", "http://127.0.0.1/x", 1);
  EXPECT_EQ(ResolveUrl(channel).value(), "http://127.0.0.1/x");
  unsetenv("TANDEM_TEST_NOTIFY_URL_ENV");
}

}  // namespace
}  // namespace tandem::notify
