/* Shared by the examples in this directory: format names, and the one place that decides a
 * format is "not in this build" (only when codec_encoder_new says CODEC_E_UNSUPPORTED).
 * Setting CODEC_STRICT_FORMATS=1 in the environment turns those skips into failures. */
#ifndef EXAMPLE_FORMATS_H
#define EXAMPLE_FORMATS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

static inline const char *example_format_name(codec_format f) {
    switch (f) {
    case CODEC_FORMAT_ZSTD: return "zstd";
    case CODEC_FORMAT_LZ4_FRAME: return "lz4";
    case CODEC_FORMAT_LZ4_BLOCKS: return "lz4blocks";
    case CODEC_FORMAT_XZ: return "xz";
    case CODEC_FORMAT_LZMA2_RAW: return "lzma2";
    case CODEC_FORMAT_LZMA_ALONE: return "lzma";
    default: return "?";
    }
}

/* Call with the status of codec_encoder_new: true (after saying so) when the format is not
 * in this build of libcodec and the example should skip it. */
static inline int example_format_missing(codec_status st, codec_format f) {
    const char *strict = getenv("CODEC_STRICT_FORMATS");
    if (st != CODEC_E_UNSUPPORTED || (strict && strcmp(strict, "1") == 0)) return 0;
    printf("%-10s skipped: not in this build of libcodec\n", example_format_name(f));
    return 1;
}

#endif
