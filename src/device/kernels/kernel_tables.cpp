#include "device/kernels/kernels.h"

extern "C" const agn_named_kernel_table agn_kernel_tables[AGN_KERNEL_TABLE_COUNT] = {
    {"reference", &agn_kernels_reference},
    {"cm7-unfused", &agn_kernels_cm7_unfused},
    {"cm7", &agn_kernels_cm7},
};
