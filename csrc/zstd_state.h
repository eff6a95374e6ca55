/* libcodec <-> csrc/zstd_state.c: a streaming zstd decoder's state as plain data.
 * Mirrored by src/zstd/shim.rs; the field order below is part of the saved-state format
 * (whose build fingerprint pins it), so fields are only ever appended. */
#ifndef CODEC_ZSTD_STATE_H
#define CODEC_ZSTD_STATE_H

#include <stddef.h>
#include <stdint.h>

enum {
    CODEC_ZS_EXPECTED, CODEC_ZS_F_CONTENT_SIZE, CODEC_ZS_F_WINDOW_SIZE, CODEC_ZS_F_BLOCK_SIZE_MAX,
    CODEC_ZS_F_FRAME_TYPE, CODEC_ZS_F_HEADER_SIZE, CODEC_ZS_F_DICT_ID, CODEC_ZS_F_CHECKSUM_FLAG,
    CODEC_ZS_PROCESSED_CSIZE, CODEC_ZS_DECODED_SIZE, CODEC_ZS_BTYPE, CODEC_ZS_STAGE,
    CODEC_ZS_LIT_ENTROPY, CODEC_ZS_FSE_ENTROPY,
    CODEC_ZS_XXH_TOTAL_LEN, CODEC_ZS_XXH_V0, CODEC_ZS_XXH_V1, CODEC_ZS_XXH_V2, CODEC_ZS_XXH_V3,
    CODEC_ZS_XXH_MEM0, CODEC_ZS_XXH_MEM1, CODEC_ZS_XXH_MEM2, CODEC_ZS_XXH_MEM3, CODEC_ZS_XXH_MEMSIZE,
    CODEC_ZS_HEADER_SIZE, CODEC_ZS_FORMAT, CODEC_ZS_FORCE_IGNORE_CHECKSUM, CODEC_ZS_VALIDATE_CHECKSUM,
    CODEC_ZS_RLE_SIZE, CODEC_ZS_IS_FRAME_DECOMPRESSION, CODEC_ZS_DICT_ID, CODEC_ZS_DDICT_IS_COLD,
    CODEC_ZS_DICT_USES, CODEC_ZS_DISABLE_HUF_ASM, CODEC_ZS_MAX_BLOCK_SIZE_PARAM,
    CODEC_ZS_STREAM_STAGE, CODEC_ZS_IN_BUFF_SIZE, CODEC_ZS_IN_POS, CODEC_ZS_MAX_WINDOW_SIZE,
    CODEC_ZS_OUT_BUFF_SIZE, CODEC_ZS_OUT_START, CODEC_ZS_OUT_END, CODEC_ZS_LH_SIZE,
    CODEC_ZS_HOSTAGE_BYTE, CODEC_ZS_NO_FORWARD_PROGRESS, CODEC_ZS_OVERSIZED_DURATION,
    CODEC_ZS_REP0, CODEC_ZS_REP1, CODEC_ZS_REP2,
    CODEC_ZS_PREV_END_REGION, CODEC_ZS_PREV_END_OFF, CODEC_ZS_PREFIX_REGION, CODEC_ZS_PREFIX_OFF,
    CODEC_ZS_DICT_END_REGION, CODEC_ZS_DICT_END_OFF, CODEC_ZS_EXT_LEN,
    CODEC_ZS_NFIELDS,
    /* pseudo-fields, only for naming a bad table in codec_zs_restore's bad_field */
    CODEC_ZS_TABLE_LL = 100, CODEC_ZS_TABLE_ML, CODEC_ZS_TABLE_OF, CODEC_ZS_TABLE_HUF
};

/* Where a saved pointer pointed. */
enum { CODEC_ZS_R_NULL = 0, CODEC_ZS_R_OUT = 1, CODEC_ZS_R_DICT = 2 };

/* Statuses. */
enum {
    CODEC_ZS_OK = 0,
    CODEC_ZS_E_LAYOUT = -1,  /* this file's view of ZSTD_DCtx does not match the library */
    CODEC_ZS_E_LEGACY = -2,  /* inside a legacy (v0.x) frame */
    CODEC_ZS_E_MODE = -3,    /* stable output buffer, multiple DDicts or a static context */
    CODEC_ZS_E_POINTER = -4, /* a pointer outside every known region (a bug) */
    CODEC_ZS_E_FIELD = -5,   /* restore: a field is out of range; *bad_field names it */
    CODEC_ZS_E_NOMEM = -6,
    CODEC_ZS_E_WINDOW = -7   /* restore: the saved frame's window or buffers exceed the restoring
                              * context's maxWindowSize; *bad_field names the field */
};

typedef struct codec_zs_state {
    uint64_t field[CODEC_ZS_NFIELDS];
    /* entropy tables in use: LL, ML, OF sequence tables and the Huffman table */
    const void *table[4];
    size_t table_len[4];
    /* parts of the output buffer to keep: range_len[i] bytes at offset range_off[i] */
    const void *range_data[2];
    size_t range_off[2];
    size_t range_len[2];
    /* a partially loaded block, and a partial frame header */
    const void *in_buff;
    size_t in_len;
    const void *header;
    size_t header_len;
} codec_zs_state;

struct ZSTD_DCtx_s;
/* 1 when this file's view of ZSTD_DCtx matches the library. Callers must check it (once per
 * process is enough) before codec_zs_snapshot / codec_zs_restore, which do not repeat it. */
int codec_zs_layout_ok(void);
size_t codec_zs_fingerprint(char *buf, size_t cap);
size_t codec_zs_state_struct_size(void);
int codec_zs_snapshot(const struct ZSTD_DCtx_s *d, codec_zs_state *s);
int codec_zs_restore(struct ZSTD_DCtx_s *d, const codec_zs_state *s, int *bad_field);
/* The frame-header bytes zstd holds while it loads a frame header: their count (0 before a
 * frame starts) with *p set, or -1 when zstd is past the header. Call only once
 * codec_zs_layout_ok() has returned 1 (it is not re-checked here: this runs on every step). */
long codec_zs_loading_header(const struct ZSTD_DCtx_s *d, const unsigned char **p);

#endif
