/* Shared by the examples in this directory: the short name of each format. */
#ifndef EXAMPLE_FORMATS_H
#define EXAMPLE_FORMATS_H

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

#endif
