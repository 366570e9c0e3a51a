#include "common/status.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

TEST(Status, OkIsZeroAndErrorsAreNegativeWithDistinctNames) {
  EXPECT_EQ(AGN_OK, 0);
  const agn_status errors[] = {AGN_ERR_ARG,     AGN_ERR_RANGE, AGN_ERR_NO_SPACE,
                               AGN_ERR_TRUNCATED, AGN_ERR_CORRUPT, AGN_ERR_STATE,
                               AGN_ERR_FORMAT,  AGN_ERR_CHECKSUM};
  std::set<std::string> names{agn_status_str(AGN_OK)};
  for (agn_status e : errors) {
    EXPECT_LT(e, 0);
    names.insert(agn_status_str(e));
  }
  EXPECT_EQ(names.size(), 1 + sizeof(errors) / sizeof(errors[0]));
  EXPECT_STREQ(agn_status_str(static_cast<agn_status>(-1000)), "unknown status");
}

}  // namespace
