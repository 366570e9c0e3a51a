#include "device/kernels/kernels.h"

extern "C" const agn_kernel_table agn_kernels_reference = {
    agn_conv_s8_ref, agn_conv_s8_ref, agn_conv_s8_ref, agn_split_row_s8_ref, agn_local_s8_ref, nullptr, nullptr, nullptr,
    nullptr,         nullptr,
};

extern "C" agn_conv_row_fn agn_kernel_for_op(const agn_kernel_table* table, unsigned op) {
  switch (op) {
    case AGN_OP_DEPTHWISE: return table->depthwise;
    case AGN_OP_POINTWISE: return table->pointwise;
    default: return table->conv;
  }
}
