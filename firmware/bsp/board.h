// The emulated board: QEMU's mps2-an500 (Cortex-M7) standing in for an STM32F746.
//
// Start-up (startup.cpp): enable the FPU, copy .data, zero .bss, paint the unused stack with
// AGN_BOARD_STACK_PAINT, run static constructors, call main(), and end the emulation with
// main's return value as QEMU's exit status (semihosting). Faults end it with status
// AGN_BOARD_FAULT_STATUS after printing which fault it was.
//
// Memory figures come from the linker script's symbols (mps2_an500.ld), so they describe the
// image that actually runs.
#ifndef AGILENN_FIRMWARE_BSP_BOARD_H
#define AGILENN_FIRMWARE_BSP_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AGN_BOARD_FLASH_BYTES (1024u * 1024u)  // STM32F746
#define AGN_BOARD_SRAM_BYTES (320u * 1024u)
#define AGN_BOARD_STACK_PAINT 0xA5A5A5A5u
#define AGN_BOARD_FAULT_STATUS 125
#define AGN_BOARD_MODEL_SLOT_ADDRESS 0x000C0000u  // __model_slot in mps2_an500.ld
#define AGN_BOARD_MODEL_SLOT_BYTES (256u * 1024u)

// Flash the image occupies: vector table, code, read-only data and the .data load image.
size_t agn_board_flash_used(void);
// Statically allocated SRAM: .data + .bss (the stack is reported separately).
size_t agn_board_sram_static(void);
// Bytes reserved for the main stack (AGN_STACK_SIZE in the linker script).
size_t agn_board_stack_reserved(void);
// Deepest stack use since reset, found by scanning for the first overwritten paint word from
// the stack limit upwards. Counts in words, so it is exact to 4 bytes.
size_t agn_board_stack_high_water(void);
// The model slot at the end of flash (see mps2_an500.ld), AGN_BOARD_MODEL_SLOT_BYTES long: what
// QEMU's loader put there, or whatever the flash held (zeros in QEMU).
const uint8_t* agn_board_model_slot(void);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_FIRMWARE_BSP_BOARD_H
