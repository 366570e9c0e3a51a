#include "train/data/tensor.h"

#include <gtest/gtest.h>

namespace agilenn::data {
namespace {

TEST(Tensor, NormalisesToNchw) {
  ImageSet set;
  set.height = 1;
  set.width = 2;
  set.channels = 3;
  set.classes = {"a", "b"};
  set.pixels = {0, 51, 255, 255, 102, 0,  /* image 1 */ 10, 20, 30, 40, 50, 60};
  set.labels = {1, 0};
  const torch::Tensor x = images_to_tensor(set, {1, 0}, {0.5, 0.0, 0.0}, {0.5, 1.0, 2.0});
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{2, 3, 1, 2}));
  // batch 1 = image 0: R channel (0, 255) -> (0/255 - 0.5)/0.5 = -1, (1 - 0.5)/0.5 = 1.
  EXPECT_NEAR(x[1][0][0][0].item<float>(), -1.0f, 1e-6);
  EXPECT_NEAR(x[1][0][0][1].item<float>(), 1.0f, 1e-6);
  EXPECT_NEAR(x[1][1][0][0].item<float>(), 0.2f, 1e-6);
  EXPECT_NEAR(x[1][2][0][0].item<float>(), 0.5f, 1e-6);
  EXPECT_NEAR(x[0][2][0][1].item<float>(), 60.0f / 255.0f / 2.0f, 1e-6);
  const torch::Tensor y = labels_to_tensor(set, {1, 0});
  EXPECT_EQ(y[0].item<int64_t>(), 0);
  EXPECT_EQ(y[1].item<int64_t>(), 1);
}

TEST(Tensor, GreyscaleIsRepeatedToThreeChannels) {
  ImageSet set;
  set.height = 1;
  set.width = 1;
  set.channels = 1;
  set.classes = {"0"};
  set.pixels = {255};
  set.labels = {0};
  const torch::Tensor x = images_to_tensor(set, {0}, {0.0}, {1.0});
  ASSERT_EQ(x.size(1), 3);
  EXPECT_FLOAT_EQ(x[0][2][0][0].item<float>(), 1.0f);
  EXPECT_THROW(images_to_tensor(set, {0}, {0.0, 0.0}, {1.0, 1.0}), std::invalid_argument);
  EXPECT_THROW(images_to_tensor(set, {1}, {0.0}, {1.0}), std::out_of_range);
}

}  // namespace
}  // namespace agilenn::data
