#pragma once
#include <stddef.h>
#include <stdint.h>

/* CRC-32 (ISO-HDLC, zlib's) by carry-less multiplication (PCLMULQDQ), for the bulk of long buffers. */

/* Whether this CPU can run czarr_crc32_fold (x86-64 with PCLMULQDQ and SSE4.1). */
int czarr_crc32_fold_available(void);

/* Continues the raw (not inverted) CRC-32 register `state` over `length` bytes, where length is at
   least 64 and a multiple of 16; returns the new register. zlib's crc32(c, ...) equals
   ~czarr_crc32_fold(~c, ...). */
uint32_t czarr_crc32_fold(uint32_t state, const unsigned char *bytes, size_t length);
