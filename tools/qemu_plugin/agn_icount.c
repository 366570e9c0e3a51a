/* agn_icount: a QEMU TCG plugin that counts every executed guest instruction exactly and
 * attributes the counts to firmware stages.
 *
 * Usage: qemu-system-arm ... -plugin libagn_icount.so,out=FILE [-d plugin]
 *
 * Stages: the firmware calls marker functions named agn_stage_mark_<s> (firmware/bsp/stage.h),
 * one `bx lr` each. The plugin recognises them by ELF symbol name when QEMU translates them, so
 * no address has to be agreed on. Instructions are attributed to the stage last entered (stage 0
 * before the first marker); a marker's own instruction counts to the stage it enters.
 *
 * Counting: every other instruction gets an inline 64-bit add, which QEMU runs before the
 * instruction, so the count is exact (interrupt handlers included) and the same on every run.
 *
 * Output (written to FILE when QEMU exits, one JSON object):
 *   {"total": N, "stages": [n0, ..., n15], "entries": [e0, ..., e15]}
 * where n_s are the instructions attributed to stage s (they sum to N) and e_s how many times
 * the marker of stage s ran. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

#define AGN_STAGES 16
static const char kMarkPrefix[] = "agn_stage_mark_";

AGN_QEMU_PLUGIN_EXPORT int qemu_plugin_version = AGN_QEMU_PLUGIN_API_VERSION;

/* One vCPU (the mps2 boards have one core), so plain globals are enough. */
static uint64_t g_total;
static uint64_t g_stage_start;  /* g_total when the current stage was entered */
static unsigned g_stage;
static uint64_t g_stage_count[AGN_STAGES];
static uint64_t g_stage_entries[AGN_STAGES];
static char *g_out_path;

/* Returns the stage number of a marker symbol, or -1. */
static int marker_stage(const char *symbol) {
  if (symbol == NULL || strncmp(symbol, kMarkPrefix, sizeof(kMarkPrefix) - 1) != 0) return -1;
  const char *digits = symbol + sizeof(kMarkPrefix) - 1;
  char *end = NULL;
  errno = 0;
  const long stage = strtol(digits, &end, 10);
  if (errno != 0 || end == digits || *end != '\0' || stage < 0 || stage >= AGN_STAGES) return -1;
  return (int)stage;
}

static void on_marker(unsigned int vcpu_index, void *userdata) {
  (void)vcpu_index;
  const unsigned stage = (unsigned)(uintptr_t)userdata;
  g_stage_count[g_stage] += g_total - g_stage_start;
  g_stage = stage;
  g_stage_entries[stage] += 1;
  g_stage_start = g_total;
  g_total += 1; /* the marker's own instruction */
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    const int stage = marker_stage(qemu_plugin_insn_symbol(insn));
    if (stage >= 0) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS,
                                             (void *)(uintptr_t)stage);
    } else {
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &g_total, 1);
    }
  }
}

static void on_qemu_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  g_stage_count[g_stage] += g_total - g_stage_start;
  g_stage_start = g_total;
  FILE *f = fopen(g_out_path, "w");
  if (f == NULL) {
    qemu_plugin_outs("agn_icount: cannot write the output file\n");
    return;
  }
  fprintf(f, "{\"total\": %" PRIu64 ", \"stages\": [", g_total);
  for (int s = 0; s < AGN_STAGES; ++s) fprintf(f, "%s%" PRIu64, s ? ", " : "", g_stage_count[s]);
  fprintf(f, "], \"entries\": [");
  for (int s = 0; s < AGN_STAGES; ++s) fprintf(f, "%s%" PRIu64, s ? ", " : "", g_stage_entries[s]);
  fprintf(f, "]}\n");
  if (fclose(f) != 0) qemu_plugin_outs("agn_icount: error writing the output file\n");
}

AGN_QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                               int argc, char **argv) {
  (void)info;
  for (int i = 0; i < argc; ++i) {
    if (strncmp(argv[i], "out=", 4) == 0) {
      g_out_path = argv[i] + 4;
    } else {
      qemu_plugin_outs("agn_icount: unknown argument (expected out=FILE)\n");
      return -1;
    }
  }
  if (g_out_path == NULL || *g_out_path == '\0') {
    qemu_plugin_outs("agn_icount: missing out=FILE\n");
    return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
  return 0;
}
