#pragma once
#include <stdarg.h>
#include <stdio.h>
#include <tiffio.h>

/* The last error libtiff reported on one handle (per-handle handlers, libtiff >= 4.5). */
typedef struct {
  char message[1024];
} COMETiffErrors;

static inline int COMETiff_onError(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
  (void)tif;
  COMETiffErrors *e = (COMETiffErrors *)user;
  if (e) {
    int n = 0;
    if (module) n = snprintf(e->message, sizeof e->message, "%s: ", module);
    if (n < 0 || n >= (int)sizeof e->message) n = 0;
    vsnprintf(e->message + n, sizeof e->message - (size_t)n, fmt, ap);
  }
  return 1; /* handled: do not print */
}

static inline int COMETiff_onWarning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
  (void)tif; (void)user; (void)module; (void)fmt; (void)ap;
  return 1; /* warnings (unknown tags and the like) are not errors */
}

/* TIFFOpenExt with handlers that keep messages in `errors` instead of printing them, and no single
   allocation inside libtiff larger than `maxAlloc` bytes (0: libtiff's default). */
static inline TIFF *COMETiff_open(const char *path, const char *mode, COMETiffErrors *errors, int64_t maxAlloc) {
  TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
  if (!opts) return NULL;
  if (maxAlloc > 0) TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)maxAlloc);
  TIFFOpenOptionsSetErrorHandlerExtR(opts, COMETiff_onError, errors);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, COMETiff_onWarning, NULL);
  TIFF *tif = TIFFOpenExt(path, mode, opts);
  TIFFOpenOptionsFree(opts);
  return tif;
}

/* TIFFGetField and TIFFSetField are variadic, which Swift cannot call: typed wrappers. */
static inline int COMETiff_getU16(TIFF *tif, uint32_t tag, uint16_t *v) { return TIFFGetField(tif, tag, v); }
static inline int COMETiff_getU32(TIFF *tif, uint32_t tag, uint32_t *v) { return TIFFGetField(tif, tag, v); }
static inline int COMETiff_getFloat(TIFF *tif, uint32_t tag, float *v) { return TIFFGetField(tif, tag, v); }
static inline int COMETiff_getString(TIFF *tif, uint32_t tag, char **v) { return TIFFGetField(tif, tag, v); }
static inline int COMETiff_getDefaultedU16(TIFF *tif, uint32_t tag, uint16_t *v) { return TIFFGetFieldDefaulted(tif, tag, v); }
static inline int COMETiff_getDefaultedU32(TIFF *tif, uint32_t tag, uint32_t *v) { return TIFFGetFieldDefaulted(tif, tag, v); }
static inline int COMETiff_getExtraSamples(TIFF *tif, uint16_t *count, uint16_t **values) {
  return TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, count, values);
}
static inline int COMETiff_setU16(TIFF *tif, uint32_t tag, uint16_t v) { return TIFFSetField(tif, tag, (int)v); }
static inline int COMETiff_setU32(TIFF *tif, uint32_t tag, uint32_t v) { return TIFFSetField(tif, tag, v); }
static inline int COMETiff_setDouble(TIFF *tif, uint32_t tag, double v) { return TIFFSetField(tif, tag, v); }
static inline int COMETiff_setString(TIFF *tif, uint32_t tag, const char *v) { return TIFFSetField(tif, tag, v); }
static inline int COMETiff_setExtraSamples(TIFF *tif, uint16_t count, const uint16_t *values) {
  return TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, (int)count, values);
}
