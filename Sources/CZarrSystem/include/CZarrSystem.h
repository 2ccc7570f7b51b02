#pragma once

/* System calls the Swift overlay cannot reach (variadic syscall(2)). */

/* Opens `path` (relative) for reading beneath the directory `directory`, following symbolic links
   only while they stay beneath it (Linux openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS).
   Non-blocking (a FIFO does not hang it). Returns the descriptor (close-on-exec), or -1 with errno: EXDEV when the path would leave the
   directory, ENOSYS where the kernel or platform has no openat2. */
int czarr_open_beneath(int directory, const char *path);
