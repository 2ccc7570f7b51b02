#pragma once
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

/* libjpeg reports errors by calling error_exit, which must not return: it jumps back here (Swift
   cannot set a jump point itself). */
struct COMEJpeg_error {
  struct jpeg_error_mgr manager;
  jmp_buf jump;
};

static void COMEJpeg_errorExit(j_common_ptr info) {
  struct COMEJpeg_error *error = (struct COMEJpeg_error *)info->err;
  longjmp(error->jump, 1);
}

/* One JPEG stream (tables included, no JFIF marker) of `height` rows of `width` 8-bit pixels of
   `components` samples (1: grey; 3: RGB, stored as YCbCr with chroma halved in both directions, as
   TIFF Photometric YCbCr with YCbCrSubSampling 2 2 says). The stream is malloc'ed into *out (free
   it); returns 0, or -1 on an error. */
static inline int COMEJpeg_compress(const unsigned char *pixels, int width, int height, int components, int quality,
                                    unsigned char **out, unsigned long *outSize) {
  struct jpeg_compress_struct info;
  struct COMEJpeg_error error;
  *out = NULL;
  *outSize = 0;
  info.err = jpeg_std_error(&error.manager);
  error.manager.error_exit = COMEJpeg_errorExit;
  if (setjmp(error.jump)) {
    jpeg_destroy_compress(&info);
    free(*out);
    *out = NULL;
    return -1;
  }
  jpeg_create_compress(&info);
  jpeg_mem_dest(&info, out, outSize);
  info.image_width = (JDIMENSION)width;
  info.image_height = (JDIMENSION)height;
  info.input_components = components;
  info.in_color_space = components == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&info); /* RGB input: YCbCr, luma 2 x 2, chroma 1 x 1 */
  jpeg_set_quality(&info, quality, TRUE);
  info.write_JFIF_header = FALSE;
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)info.next_scanline * (size_t)width * (size_t)components);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  return 0;
}
