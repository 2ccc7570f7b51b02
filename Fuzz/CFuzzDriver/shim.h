// libFuzzer's entry point for programs that have their own main (compiler-rt, FuzzerDriver.cpp).
// Linked only when the driver is built with -sanitize=fuzzer (scripts/fuzz); nothing else uses it.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
