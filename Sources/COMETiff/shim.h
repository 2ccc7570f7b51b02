#pragma once
#include <tiffio.h>

/* TIFFGetField is variadic, which Swift cannot call: typed, non-variadic wrappers. */
static inline int COMETiff_getUInt16(TIFF *tif, uint32_t tag, uint16_t *value) {
  return TIFFGetField(tif, tag, value);
}
static inline int COMETiff_getUInt32(TIFF *tif, uint32_t tag, uint32_t *value) {
  return TIFFGetField(tif, tag, value);
}
static inline int COMETiff_getString(TIFF *tif, uint32_t tag, char **value) {
  return TIFFGetField(tif, tag, value);
}
