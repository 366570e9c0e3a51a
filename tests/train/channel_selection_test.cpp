#include "train/channel_selection.h"

#include <gtest/gtest.h>

namespace agilenn::train {
namespace {

TEST(ChannelSelection, CountsTopKAmongCorrectSamplesOnly) {
  ChannelScorer scorer(4, 2, ChannelScore::kTopKFrequency);
  const torch::Tensor imp = torch::tensor({{0.1, 0.5, 0.1, 0.3},    // top 2: 1, 3
                                           {0.05, 0.4, 0.15, 0.4},  // 1, 3
                                           {0.2, 0.1, 0.4, 0.3},    // 2, 3
                                           {0.9, 0.05, 0.03, 0.02}});  // wrongly classified: ignored
  scorer.add(imp, torch::tensor({true, true, true, false}));
  EXPECT_EQ(scorer.samples(), 3);
  const std::vector<double> s = scorer.scores();
  EXPECT_NEAR(s[0], 0.0, 1e-7);
  EXPECT_NEAR(s[1], 2.0 / 3, 1e-7);
  EXPECT_NEAR(s[2], 1.0 / 3, 1e-7);
  EXPECT_NEAR(s[3], 1.0, 1e-7);
  EXPECT_EQ(scorer.order(), (std::vector<int64_t>{3, 1, 2, 0}));
}

TEST(ChannelSelection, MeanImportanceCanDisagreeWithFrequency) {
  // Channel 0 is huge once, channel 1 is second everywhere: the two scores rank them differently.
  const torch::Tensor imp = torch::tensor({{0.97, 0.02, 0.01}, {0.0, 0.4, 0.6}, {0.0, 0.4, 0.6}});
  const torch::Tensor all = torch::tensor({true, true, true});
  ChannelScorer freq(3, 1, ChannelScore::kTopKFrequency), mean(3, 1, ChannelScore::kMeanImportance);
  freq.add(imp, all);
  mean.add(imp, all);
  EXPECT_EQ(freq.order(), (std::vector<int64_t>{2, 0, 1}));
  EXPECT_EQ(mean.order(), (std::vector<int64_t>{2, 0, 1}));
  ChannelScorer freq2(3, 2, ChannelScore::kTopKFrequency);
  freq2.add(imp, all);
  EXPECT_EQ(freq2.order(), (std::vector<int64_t>{1, 2, 0}));  // 1 and 2 are in every top 2
  EXPECT_NEAR(mean.scores()[0], 0.97 / 3, 1e-7);
  EXPECT_THROW(ChannelScorer(3, 4, ChannelScore::kMeanImportance), std::invalid_argument);
}

}  // namespace
}  // namespace agilenn::train
