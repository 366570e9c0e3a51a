// The stage marker functions (see stage.h): agn_stage_mark_0 .. agn_stage_mark_15, each one
// `bx lr` with its own symbol and size so that QEMU's symbol lookup names it.
#include "bsp/stage.h"

asm(R"(
  .pushsection .text.agn_stage_marks, "ax", %progbits
  .syntax unified
  .thumb
  .balign 4
  .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
  .global agn_stage_mark_\n
  .type agn_stage_mark_\n, %function
  .thumb_func
agn_stage_mark_\n:
  bx lr
  .size agn_stage_mark_\n, 2
  .endr
  .popsection
)");

static_assert(AGN_STAGE_MAX == 16, "stage.cpp defines 16 markers");
