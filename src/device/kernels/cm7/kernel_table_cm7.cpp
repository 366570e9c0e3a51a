#include "device/kernels/cm7/cm7_kernels.h"

// The general convolution and the Local NN (about 1,300 instructions) stay the reference ones.
extern "C" const agn_kernel_table agn_kernels_cm7 = {
    agn_conv_dw_s8_cm7, agn_conv_pw_s8_cm7, agn_conv_s8_ref,    agn_split_row_s8_cm7,
    agn_local_s8_ref,   agn_last_split_s8_cm7, agn_cm7_state_size, agn_cm7_prepare,
    agn_cm7_ring_row_bytes, agn_cm7_constant_planes,
};

extern "C" const agn_kernel_table agn_kernels_cm7_unfused = {
    agn_conv_dw_s8_cm7, agn_conv_pw_s8_cm7, agn_conv_s8_ref,    agn_split_row_s8_cm7,
    agn_local_s8_ref,   nullptr,            agn_cm7_state_size, agn_cm7_prepare,
    agn_cm7_ring_row_bytes, nullptr,
};
