// Known instruction sequences between stage markers, so that the agn_icount plugin's per-stage
// counts can be checked exactly (tests/firmware/CMakeLists.txt holds the expected numbers):
//   stage 1, entered twice: (1 marker + 1 movs + 2*100 loop + 1 bl) + (1 + 1 + 2*5 + 1) = 216
//   stage 2, entered once:   1 + 1 + 2*10 + 1 = 23
// Stage 0 (start-up) and stage 3 (the exit path) depend on the compiler and are not checked.
int main() {
  asm volatile(
      "bl agn_stage_mark_1\n\t"
      "movs r0, #100\n"
      "1:\n\t"
      "subs r0, r0, #1\n\t"
      "bne 1b\n\t"
      "bl agn_stage_mark_2\n\t"
      "movs r0, #10\n"
      "2:\n\t"
      "subs r0, r0, #1\n\t"
      "bne 2b\n\t"
      "bl agn_stage_mark_1\n\t"
      "movs r0, #5\n"
      "3:\n\t"
      "subs r0, r0, #1\n\t"
      "bne 3b\n\t"
      "bl agn_stage_mark_3\n\t" ::
          : "r0", "lr", "cc", "memory");
  return 0;
}
