/* CRC-32 by folding with carry-less multiplication (Gopal et al., "Fast CRC Computation for
   Generic Polynomials Using PCLMULQDQ Instruction", Intel, 2009), in the bit-reflected domain of
   the polynomial 0x04C11DB7. The constants are x^n mod P for the fold distances used (n = 4*128+64,
   4*128, 128+64, 128, 64, 32, shifted and reflected) and the Barrett constants mu = x^64 / P and P.
   Checked against zlib on every length in the tests. */
#include "CZarrCRC.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define FOLD_TARGET __attribute__((target("pclmul,sse4.1")))

int czarr_crc32_fold_available(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

/* a * k (carry-less, low and high halves) folded onto b. */
FOLD_TARGET static inline __m128i fold(__m128i a, __m128i k, __m128i b) {
  __m128i low = _mm_clmulepi64_si128(a, k, 0x00);
  __m128i high = _mm_clmulepi64_si128(a, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(low, high), b);
}

FOLD_TARGET uint32_t czarr_crc32_fold(uint32_t state, const unsigned char *p, size_t n) {
  const __m128i k_512 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL); /* four lanes apart */
  const __m128i k_128 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL); /* one lane apart */
  const __m128i k_64 = _mm_set_epi64x(0, 0x0163cd6124LL);
  const __m128i barrett = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL); /* mu, P */
  const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);

  __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)state));
  __m128i b = _mm_loadu_si128((const __m128i *)(p + 16));
  __m128i c = _mm_loadu_si128((const __m128i *)(p + 32));
  __m128i d = _mm_loadu_si128((const __m128i *)(p + 48));
  p += 64;
  n -= 64;
  /* Four lanes of 128 bits, each folded 512 bits ahead onto the next block. */
  for (; n >= 64; p += 64, n -= 64) {
    a = fold(a, k_512, _mm_loadu_si128((const __m128i *)p));
    b = fold(b, k_512, _mm_loadu_si128((const __m128i *)(p + 16)));
    c = fold(c, k_512, _mm_loadu_si128((const __m128i *)(p + 32)));
    d = fold(d, k_512, _mm_loadu_si128((const __m128i *)(p + 48)));
  }
  /* The lanes folded into one, then any remaining 16-byte blocks. */
  a = fold(a, k_128, b);
  a = fold(a, k_128, c);
  a = fold(a, k_128, d);
  for (; n >= 16; p += 16, n -= 16) a = fold(a, k_128, _mm_loadu_si128((const __m128i *)p));

  /* 128 bits to 64, then to 32 + 32 ... */
  __m128i t = _mm_clmulepi64_si128(a, k_128, 0x10);
  a = _mm_xor_si128(_mm_srli_si128(a, 8), t);
  t = _mm_srli_si128(a, 4);
  a = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(a, low32), k_64, 0x00), t);
  /* ... and Barrett reduction to the 32-bit remainder. */
  t = _mm_clmulepi64_si128(_mm_and_si128(a, low32), barrett, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), barrett, 0x00);
  a = _mm_xor_si128(a, t);
  return (uint32_t)_mm_extract_epi32(a, 1);
}

#else

int czarr_crc32_fold_available(void) { return 0; }
uint32_t czarr_crc32_fold(uint32_t state, const unsigned char *p, size_t n) {
  (void)p;
  (void)n;
  return state;
}

#endif
