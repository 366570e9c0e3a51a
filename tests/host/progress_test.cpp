#include "host/progress.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace agilenn {
namespace {

TEST(Progress, FormatsRates) {
  EXPECT_EQ(Progress::format_rate(0.5), "0.50");
  EXPECT_EQ(Progress::format_rate(950), "950");
  EXPECT_EQ(Progress::format_rate(63912), "63.9k");
  EXPECT_EQ(Progress::format_rate(12.4e6), "12.4M");
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(Progress::format_duration(0), "0:00");
  EXPECT_EQ(Progress::format_duration(75.4), "1:15");
  EXPECT_EQ(Progress::format_duration(3725), "1:02:05");
  EXPECT_EQ(Progress::format_duration(-1), "--:--");
}

TEST(Progress, NonInteractivePrintsOneSummaryLine) {
  Progress::set_interactive(false);
  ::testing::internal::CaptureStderr();
  {
    Progress p("decode train", 1000, "img");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 250; ++i) p.add();
      });
    }
    for (std::thread& t : threads) t.join();
    p.finish();
    p.finish();  // idempotent
  }
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.rfind("decode train: 1000 img in ", 0), 0u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

TEST(Progress, InteractiveDrawsBarWithEta) {
  Progress::set_interactive(true);
  ::testing::internal::CaptureStderr();
  {
    Progress p("work", 10, "it");
    p.add(5);
  }
  const std::string out = ::testing::internal::GetCapturedStderr();
  Progress::set_interactive(false);
  EXPECT_NE(out.find("work ["), std::string::npos) << out;
  EXPECT_NE(out.find("0/10"), std::string::npos) << out;   // first draw at start
  EXPECT_NE(out.find("5/10"), std::string::npos) << out;   // final line
  EXPECT_NE(out.find("ETA"), std::string::npos) << out;
}

}  // namespace
}  // namespace agilenn
