/* libcodec: save and restore the state of a streaming zstd decoder (ZSTD_DCtx) between calls.
 *
 * zstd has no API for this, so this file reads and writes the private struct of the exact zstd
 * it is compiled against (zstd-sys =2.1.2, zstd 1.5.7; build.rs passes zstd's own source tree
 * and defines, so the layouts agree, and codec_zs_layout_ok() checks that at run time).
 *
 * The state is exposed as a flat description (codec_zs_state): fixed-order 64-bit scalar
 * fields, pointers as (region, offset), and the byte ranges worth keeping:
 *   - the entropy tables in use (copied from wherever they live: the context, a DDict, or
 *     zstd's static default tables), trimmed to their table log;
 *   - the live window: the last windowSize bytes of history in the output buffer (the
 *     current segment and, after a wrap, the tail of the previous one), which also holds any
 *     decoded output not yet delivered;
 *   - a partially loaded block (inBuff[0..inPos]) and a partial frame header.
 * The Rust side writes all of it little-endian into the state container, with a fingerprint
 * of this build; restoring validates every field, offset and table entry before use, so a
 * corrupted or hostile state is refused instead of handing zstd impossible values.
 *
 * Not supported (refused with a status): legacy (v0.x) frames, stable-output-buffer mode,
 * multiple DDicts, static contexts. libcodec never uses the last three. */
#define ZSTD_STATIC_LINKING_ONLY
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zstd.h"
#include "common/allocations.h"
#include "decompress/zstd_decompress_internal.h"
#include "decompress/zstd_ddict.h"

#include "zstd_state.h"

#if ZSTD_VERSION_NUMBER != 10507
#error "csrc/zstd_state.c reads zstd 1.5.7's private structs; review it before changing zstd"
#endif

/* Re-declared from zstd 1.5.7's decompress/huf_decompress.c (not in any header). */
typedef struct { BYTE maxTableLog; BYTE tableType; BYTE tableLog; BYTE reserved; } zs_DTableDesc;
typedef struct { BYTE nbBits; BYTE byte; } zs_DEltX1;
typedef struct { U16 sequence; BYTE nbBits; BYTE length; } zs_DEltX2;

#define ZS_HUF_MAX_LOG ZSTD_HUFFDTABLE_CAPACITY_LOG

/* ------------------------------------------------------------------ build identity */

int codec_zs_layout_ok(void)
{
    /* The struct size must be what the library itself believes, and fields set through the
     * public API must read back through this file's view of the struct. */
    ZSTD_DCtx *d = ZSTD_createDCtx();
    int ok;
    if (!d) return 0;
    ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 23);
    ZSTD_DCtx_setParameter(d, ZSTD_d_format, ZSTD_f_zstd1_magicless);
    ZSTD_DCtx_setParameter(d, ZSTD_d_forceIgnoreChecksum, ZSTD_d_ignoreChecksum);
    ZSTD_DCtx_setParameter(d, ZSTD_d_disableHuffmanAssembly, 1);
    ZSTD_DCtx_setParameter(d, ZSTD_d_maxBlockSize, 4096);
    ok = sizeof(ZSTD_DCtx) == ZSTD_estimateDCtxSize()
        && d->maxWindowSize == ((size_t)1 << 23) && d->format == ZSTD_f_zstd1_magicless
        && d->forceIgnoreChecksum == ZSTD_d_ignoreChecksum && d->disableHufAsm == 1
        && d->maxBlockSizeParam == 4096 && d->streamStage == zdss_init
        && d->inBuff == NULL && d->ddict == NULL && d->staticSize == 0
        && d->outBufferMode == ZSTD_bm_buffered;
    ZSTD_freeDCtx(d);
    return ok;
}

size_t codec_zs_fingerprint(char *buf, size_t cap)
{
    /* Everything that changes what a saved state means. */
    char tmp[160];
    int n = 0;
    n += snprintf(tmp + n, sizeof tmp - (size_t)n, "zstd %s dctx=%u", ZSTD_versionString(), (unsigned)sizeof(ZSTD_DCtx));
    n += snprintf(tmp + n, sizeof tmp - (size_t)n, " ptr=%u", (unsigned)(sizeof(void *) * 8));
    {
        const uint16_t one = 1;
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, " %s", *(const uint8_t *)&one ? "le" : "be");
    }
#if defined(ZSTD_LEGACY_SUPPORT) && (ZSTD_LEGACY_SUPPORT >= 1)
    n += snprintf(tmp + n, sizeof tmp - (size_t)n, " legacy");
#endif
    n += snprintf(tmp + n, sizeof tmp - (size_t)n, " bmi2=%d trace=%d", DYNAMIC_BMI2, ZSTD_TRACE);
#if defined(HUF_FORCE_DECOMPRESS_X1)
    n += snprintf(tmp + n, sizeof tmp - (size_t)n, " hufx1");
#endif
#if defined(HUF_FORCE_DECOMPRESS_X2)
    n += snprintf(tmp + n, sizeof tmp - (size_t)n, " hufx2");
#endif
    if (buf && cap) {
        size_t m = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
        memcpy(buf, tmp, m);
        buf[m] = 0;
    }
    return (size_t)n;
}

size_t codec_zs_state_struct_size(void) { return sizeof(codec_zs_state); }

long codec_zs_loading_header(const ZSTD_DCtx *d, const unsigned char **p)
{
    /* No layout probe here: this runs on every decode step, and the Rust caller only calls it
     * once codec_zs_layout_ok() has passed (checked once per process). */
    *p = NULL;
    if (d->streamStage == zdss_init) return 0;
    if (d->streamStage != zdss_loadHeader || d->lhSize > sizeof d->headerBuffer) return -1;
    *p = (const unsigned char *)d->headerBuffer;
    return (long)d->lhSize;
}

/* ------------------------------------------------------------------ helpers */

static const char *dict_base(const ZSTD_DCtx *d, size_t *size)
{
    if (!d->ddict) {
        *size = 0;
        return NULL;
    }
    *size = ZSTD_DDict_dictSize(d->ddict);
    return (const char *)ZSTD_DDict_dictContent(d->ddict);
}

/* Pointer -> (region, offset). */
static int enc_ptr(const ZSTD_DCtx *d, const void *p, uint64_t *region, uint64_t *off)
{
    const char *c = (const char *)p, *db;
    size_t dsz;
    *region = CODEC_ZS_R_NULL;
    *off = 0;
    if (!p) return 0;
    if (d->outBuff && c >= d->outBuff && c <= d->outBuff + d->outBuffSize) {
        *region = CODEC_ZS_R_OUT;
        *off = (uint64_t)(c - d->outBuff);
        return 0;
    }
    db = dict_base(d, &dsz);
    if (db && c >= db && c <= db + dsz) {
        *region = CODEC_ZS_R_DICT;
        *off = (uint64_t)(c - db);
        return 0;
    }
    return -1;
}

/* (region, offset) -> pointer, checked against the region's size. */
static int dec_ptr(const ZSTD_DCtx *d, uint64_t region, uint64_t off, const char **out)
{
    size_t dsz;
    const char *db;
    switch (region) {
    case CODEC_ZS_R_NULL:
        *out = NULL;
        return off == 0 ? 0 : -1;
    case CODEC_ZS_R_OUT:
        if (!d->outBuff || off > d->outBuffSize) return -1;
        *out = d->outBuff + off;
        return 0;
    case CODEC_ZS_R_DICT:
        db = dict_base(d, &dsz);
        if (!db || off > dsz) return -1;
        *out = db + off;
        return 0;
    default:
        return -1;
    }
}

static size_t region_size(const ZSTD_DCtx *d, uint64_t region)
{
    size_t dsz;
    if (region == CODEC_ZS_R_OUT) return d->outBuffSize;
    if (region == CODEC_ZS_R_DICT) return dict_base(d, &dsz) ? dsz : 0;
    return 0;
}

static unsigned seq_max_log(int i) { return i == 0 ? LLFSELog : i == 1 ? MLFSELog : OffFSELog; }
static unsigned seq_max_extra(int i) { return i == 2 ? MaxOff : 16; }

/* Bytes of an FSE sequence table in use (its header says the table log); 0 if malformed. */
static size_t seq_table_bytes(const ZSTD_seqSymbol *t, int i)
{
    const ZSTD_seqSymbol_header *h = (const ZSTD_seqSymbol_header *)(const void *)t;
    if (h->tableLog > seq_max_log(i)) return 0;
    return sizeof(ZSTD_seqSymbol) * SEQSYMBOL_TABLE_SIZE(h->tableLog);
}

/* Bytes of a Huffman table in use; 0 if malformed. */
static size_t huf_table_bytes(const HUF_DTable *t)
{
    zs_DTableDesc desc;
    memcpy(&desc, t, sizeof desc);
    if (desc.tableType > 1 || desc.tableLog > desc.maxTableLog || desc.maxTableLog > ZS_HUF_MAX_LOG) return 0;
    return sizeof(HUF_DTable) + ((size_t)1 << desc.tableLog) * (desc.tableType == 0 ? sizeof(zs_DEltX1) : sizeof(zs_DEltX2));
}

/* Whether (base, extra bits) is the pair of one of the code's symbols: zstd builds every
 * sequence table entry from LL_base/LL_bits, ML_base/ML_bits or OF_base/OF_bits, and its
 * sequence decoder relies on that (an offset entry with 1 extra bit and a base above 1 would
 * index past the three repeat offsets; a base of 0 with extra bits gives offset 0). */
static int seq_pair_known(int i, U32 base, U32 bits)
{
    const U32 *b = i == 0 ? LL_base : i == 1 ? ML_base : OF_base;
    const U8 *x = i == 0 ? LL_bits : i == 1 ? ML_bits : OF_bits;
    unsigned const n = i == 0 ? MaxLL + 1 : i == 1 ? MaxML + 1 : MaxOff + 1;
    unsigned k;
    for (k = 0; k < n; k++)
        if (b[k] == base && x[k] == bits) return 1;
    return 0;
}

/* Every entry of a saved FSE table must keep the decoder inside the table and the bit
 * reader inside its limits (nextState + 2^nbBits <= tableSize, extra bits bounded) and hold
 * a (base, extra bits) pair of its code. */
static int seq_table_valid(const ZSTD_seqSymbol *t, int i)
{
    const ZSTD_seqSymbol_header *h = (const ZSTD_seqSymbol_header *)(const void *)t;
    U32 const size = 1u << h->tableLog;
    U32 s;
    for (s = 1; s <= size; s++) {
        const ZSTD_seqSymbol *e = t + s;
        if (e->nbBits > h->tableLog || (U32)e->nextState + (1u << e->nbBits) > size) return 0;
        if (e->nbAdditionalBits > seq_max_extra(i)) return 0;
        if (!seq_pair_known(i, e->baseValue, e->nbAdditionalBits)) return 0;
    }
    return 1;
}

/* A built Huffman table: the context's capacity as its maximum (zstd keeps it at
 * ZSTD_HUFFDTABLE_CAPACITY_LOG), a table log of at least 1 (with 0 the bit reader's lookup
 * returns its whole 64-bit register as the index), and cells that consume 1..tableLog bits. */
static int huf_table_valid(const HUF_DTable *t)
{
    zs_DTableDesc desc;
    size_t n, k;
    memcpy(&desc, t, sizeof desc);
    if (desc.maxTableLog != ZS_HUF_MAX_LOG || desc.tableLog < 1) return 0;
    n = (size_t)1 << desc.tableLog;
    if (desc.tableType == 0) {
        const zs_DEltX1 *e = (const zs_DEltX1 *)(const void *)(t + 1);
        for (k = 0; k < n; k++)
            if (e[k].nbBits < 1 || e[k].nbBits > desc.tableLog) return 0;
    } else {
        const zs_DEltX2 *e = (const zs_DEltX2 *)(const void *)(t + 1);
        for (k = 0; k < n; k++)
            if (e[k].nbBits < 1 || e[k].nbBits > desc.tableLog || e[k].length < 1 || e[k].length > 2) return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ snapshot */

int codec_zs_snapshot(const ZSTD_DCtx *d, codec_zs_state *s)
{
    uint64_t *f = s->field;
    const void *tptr[4];
    int i, mid, started;
    memset(s, 0, sizeof *s);
    if (d->staticSize) return CODEC_ZS_E_MODE;
    if (d->outBufferMode != ZSTD_bm_buffered) return CODEC_ZS_E_MODE;
    if (d->refMultipleDDicts || d->ddictSet) return CODEC_ZS_E_MODE;
    /* lhSize, hostageByte, legacyVersion... are first set when a stream starts (zdss_init). */
    started = d->streamStage != zdss_init;
#if defined(ZSTD_LEGACY_SUPPORT) && (ZSTD_LEGACY_SUPPORT >= 1)
    if (started && d->legacyVersion) return CODEC_ZS_E_LEGACY;
#endif
    mid = d->streamStage == zdss_read || d->streamStage == zdss_load || d->streamStage == zdss_flush;

    /* Frame-level fields are only meaningful once zstd has decoded a frame header: before
     * that (init / loadHeader) they may never have been written, and zstd sets them afresh
     * when the header completes. Save zeros for them then. Likewise the checksum state only
     * exists when the frame has a checksum, and rleSize only for an RLE block. */
    if (mid) {
        f[CODEC_ZS_EXPECTED] = d->expected;
        f[CODEC_ZS_F_CONTENT_SIZE] = d->fParams.frameContentSize;
        f[CODEC_ZS_F_WINDOW_SIZE] = d->fParams.windowSize;
        f[CODEC_ZS_F_BLOCK_SIZE_MAX] = d->fParams.blockSizeMax;
        f[CODEC_ZS_F_FRAME_TYPE] = (uint64_t)d->fParams.frameType;
        f[CODEC_ZS_F_HEADER_SIZE] = d->fParams.headerSize;
        f[CODEC_ZS_F_DICT_ID] = d->fParams.dictID;
        f[CODEC_ZS_F_CHECKSUM_FLAG] = d->fParams.checksumFlag;
        f[CODEC_ZS_PROCESSED_CSIZE] = d->processedCSize;
        f[CODEC_ZS_DECODED_SIZE] = d->decodedSize;
        f[CODEC_ZS_BTYPE] = (uint64_t)d->bType;
        f[CODEC_ZS_STAGE] = (uint64_t)d->stage;
        f[CODEC_ZS_LIT_ENTROPY] = d->litEntropy;
        f[CODEC_ZS_FSE_ENTROPY] = d->fseEntropy;
        f[CODEC_ZS_VALIDATE_CHECKSUM] = d->validateChecksum;
        if (d->validateChecksum) {
            f[CODEC_ZS_XXH_TOTAL_LEN] = d->xxhState.total_len;
            for (i = 0; i < 4; i++) {
                f[CODEC_ZS_XXH_V0 + i] = d->xxhState.v[i];
                f[CODEC_ZS_XXH_MEM0 + i] = d->xxhState.mem64[i];
            }
            f[CODEC_ZS_XXH_MEMSIZE] = d->xxhState.memsize;
        }
        /* d->headerSize is only written by the bufferless API; streaming decodes the header
         * with ZSTD_decodeFrameHeader and never reads it. Left as 0. */
        f[CODEC_ZS_RLE_SIZE] = d->bType == bt_rle ? d->rleSize : 0;
        f[CODEC_ZS_IS_FRAME_DECOMPRESSION] = (uint64_t)d->isFrameDecompression;
        f[CODEC_ZS_DICT_ID] = d->dictID;
        for (i = 0; i < 3; i++) f[CODEC_ZS_REP0 + i] = d->entropy.rep[i];
    }
    /* Parameters and stream-level fields: always set. */
    f[CODEC_ZS_FORMAT] = (uint64_t)d->format;
    f[CODEC_ZS_FORCE_IGNORE_CHECKSUM] = (uint64_t)d->forceIgnoreChecksum;
    f[CODEC_ZS_DDICT_IS_COLD] = (uint64_t)d->ddictIsCold;
    f[CODEC_ZS_DICT_USES] = (uint64_t)(int64_t)d->dictUses;
    f[CODEC_ZS_DISABLE_HUF_ASM] = (uint64_t)d->disableHufAsm;
    f[CODEC_ZS_MAX_BLOCK_SIZE_PARAM] = (uint64_t)d->maxBlockSizeParam;
    f[CODEC_ZS_STREAM_STAGE] = (uint64_t)d->streamStage;
    f[CODEC_ZS_IN_BUFF_SIZE] = d->inBuffSize;
    f[CODEC_ZS_IN_POS] = d->streamStage == zdss_load ? d->inPos : 0;
    f[CODEC_ZS_MAX_WINDOW_SIZE] = d->maxWindowSize;
    f[CODEC_ZS_OUT_BUFF_SIZE] = d->outBuffSize;
    f[CODEC_ZS_OUT_START] = mid ? d->outStart : 0;
    f[CODEC_ZS_OUT_END] = mid ? d->outEnd : 0;
    f[CODEC_ZS_LH_SIZE] = started ? d->lhSize : 0;
    f[CODEC_ZS_HOSTAGE_BYTE] = started ? d->hostageByte : 0;
    f[CODEC_ZS_NO_FORWARD_PROGRESS] = (uint64_t)d->noForwardProgress;
    f[CODEC_ZS_OVERSIZED_DURATION] = d->oversizedDuration;

    s->header = d->headerBuffer;
    s->header_len = started && d->lhSize <= sizeof d->headerBuffer ? d->lhSize : 0;
    if (d->streamStage == zdss_load) {
        s->in_buff = d->inBuff;
        s->in_len = d->inPos;
    }

    if (!mid) return CODEC_ZS_OK; /* the window and tables are reset at the next frame start */

    /* Window pointers, as (region, offset); virtualStart as a distance before prefixStart. */
    if (enc_ptr(d, d->previousDstEnd, &f[CODEC_ZS_PREV_END_REGION], &f[CODEC_ZS_PREV_END_OFF])
        || enc_ptr(d, d->prefixStart, &f[CODEC_ZS_PREFIX_REGION], &f[CODEC_ZS_PREFIX_OFF])
        || enc_ptr(d, d->dictEnd, &f[CODEC_ZS_DICT_END_REGION], &f[CODEC_ZS_DICT_END_OFF]))
        return CODEC_ZS_E_POINTER;
    if ((const char *)d->virtualStart > (const char *)d->prefixStart) return CODEC_ZS_E_POINTER;
    f[CODEC_ZS_EXT_LEN] = (uint64_t)((const char *)d->prefixStart - (const char *)d->virtualStart);

    /* The live window: the last windowSize bytes of history held in outBuff. */
    {
        uint64_t const w = d->fParams.windowSize;
        uint64_t used = 0;
        if (f[CODEC_ZS_PREFIX_REGION] == CODEC_ZS_R_OUT && f[CODEC_ZS_PREV_END_REGION] == CODEC_ZS_R_OUT) {
            uint64_t const lo = f[CODEC_ZS_PREFIX_OFF], hi = f[CODEC_ZS_PREV_END_OFF];
            uint64_t start = hi - lo > w ? hi - w : lo;
            if (d->outStart < d->outEnd && d->outStart < start) start = d->outStart; /* undelivered output */
            s->range_off[0] = start;
            s->range_len[0] = hi - start;
            used = hi - lo;
        } else if (d->outStart < d->outEnd) {
            s->range_off[0] = d->outStart;
            s->range_len[0] = d->outEnd - d->outStart;
        }
        if (f[CODEC_ZS_DICT_END_REGION] == CODEC_ZS_R_OUT && used < w) {
            uint64_t const end = f[CODEC_ZS_DICT_END_OFF];
            uint64_t len = f[CODEC_ZS_EXT_LEN];
            if (len > w - used) len = w - used;
            if (len > end) return CODEC_ZS_E_POINTER;
            s->range_off[1] = end - len;
            s->range_len[1] = len;
        }
        for (i = 0; i < 2; i++) s->range_data[i] = s->range_len[i] ? d->outBuff + s->range_off[i] : NULL;
    }

    /* Entropy tables in use, wherever they live; restored into the context's own slots. */
    tptr[0] = d->LLTptr;
    tptr[1] = d->MLTptr;
    tptr[2] = d->OFTptr;
    tptr[3] = d->HUFptr;
    for (i = 0; i < 4; i++) {
        int const used = i < 3 ? d->fseEntropy : d->litEntropy;
        if (!used || !tptr[i]) continue;
        s->table[i] = tptr[i];
        s->table_len[i] = i < 3 ? seq_table_bytes((const ZSTD_seqSymbol *)tptr[i], i) : huf_table_bytes((const HUF_DTable *)tptr[i]);
        if (!s->table_len[i]) return CODEC_ZS_E_POINTER;
    }
    return CODEC_ZS_OK;
}

/* ------------------------------------------------------------------ restore */

#define BAD(field) do { *bad_field = (field); return CODEC_ZS_E_FIELD; } while (0)
#define OVER(field) do { *bad_field = (field); return CODEC_ZS_E_WINDOW; } while (0)
#define CHECK_MAX(field, max) do { if (f[field] > (uint64_t)(max)) BAD(field); } while (0)

int codec_zs_restore(ZSTD_DCtx *d, const codec_zs_state *s, int *bad_field)
{
    const uint64_t *f = s->field;
    void *own[4];
    size_t own_cap[4];
    int i, mid;
    *bad_field = -1;
    if (d->staticSize || d->outBufferMode != ZSTD_bm_buffered || d->refMultipleDDicts || d->ddictSet)
        return CODEC_ZS_E_MODE;

    /* Every enum, flag and size inside the bounds zstd relies on. */
    CHECK_MAX(CODEC_ZS_STREAM_STAGE, zdss_flush);
    CHECK_MAX(CODEC_ZS_STAGE, ZSTDds_skipFrame);
    CHECK_MAX(CODEC_ZS_BTYPE, bt_reserved);
    CHECK_MAX(CODEC_ZS_F_FRAME_TYPE, ZSTD_skippableFrame);
    CHECK_MAX(CODEC_ZS_F_BLOCK_SIZE_MAX, ZSTD_BLOCKSIZE_MAX);
    CHECK_MAX(CODEC_ZS_F_HEADER_SIZE, ZSTD_FRAMEHEADERSIZE_MAX);
    CHECK_MAX(CODEC_ZS_F_CHECKSUM_FLAG, 1);
    CHECK_MAX(CODEC_ZS_F_DICT_ID, 0xFFFFFFFFu);
    CHECK_MAX(CODEC_ZS_LIT_ENTROPY, 1);
    CHECK_MAX(CODEC_ZS_FSE_ENTROPY, 1);
    CHECK_MAX(CODEC_ZS_XXH_MEMSIZE, 31);
    CHECK_MAX(CODEC_ZS_HEADER_SIZE, ZSTD_FRAMEHEADERSIZE_MAX);
    CHECK_MAX(CODEC_ZS_FORMAT, ZSTD_f_zstd1_magicless);
    CHECK_MAX(CODEC_ZS_FORCE_IGNORE_CHECKSUM, ZSTD_d_ignoreChecksum);
    CHECK_MAX(CODEC_ZS_VALIDATE_CHECKSUM, 1);
    /* An RLE block's size comes straight from its 21-bit block header: zstd keeps any value
     * there and checks it against the frame's block limit only when it expands the block
     * (writing no more than the output room). */
    CHECK_MAX(CODEC_ZS_RLE_SIZE, (1u << 21) - 1);
    CHECK_MAX(CODEC_ZS_IS_FRAME_DECOMPRESSION, 1);
    CHECK_MAX(CODEC_ZS_DICT_ID, 0xFFFFFFFFu);
    CHECK_MAX(CODEC_ZS_DDICT_IS_COLD, 1);
    if ((int64_t)f[CODEC_ZS_DICT_USES] < ZSTD_use_indefinitely || (int64_t)f[CODEC_ZS_DICT_USES] > ZSTD_use_once)
        BAD(CODEC_ZS_DICT_USES);
    CHECK_MAX(CODEC_ZS_DISABLE_HUF_ASM, 1);
    CHECK_MAX(CODEC_ZS_MAX_BLOCK_SIZE_PARAM, ZSTD_BLOCKSIZE_MAX);
    CHECK_MAX(CODEC_ZS_EXPECTED, ZSTD_BLOCKSIZE_MAX);
    CHECK_MAX(CODEC_ZS_LH_SIZE, ZSTD_FRAMEHEADERSIZE_MAX);
    CHECK_MAX(CODEC_ZS_HOSTAGE_BYTE, 1);
    CHECK_MAX(CODEC_ZS_NO_FORWARD_PROGRESS, 16); /* ZSTD_NO_FORWARD_PROGRESS_MAX in zstd_decompress.c */
    CHECK_MAX(CODEC_ZS_REP0, 0xFFFFFFFFu);
    CHECK_MAX(CODEC_ZS_REP1, 0xFFFFFFFFu);
    CHECK_MAX(CODEC_ZS_REP2, 0xFFFFFFFFu);
    /* The window limit is the restoring context's own (set by its caller): the saved one
     * (CODEC_ZS_MAX_WINDOW_SIZE) is not restored, since a state is untrusted input. The saved
     * frame's window, and the buffers, may not exceed it. */
    mid = f[CODEC_ZS_STREAM_STAGE] == zdss_read || f[CODEC_ZS_STREAM_STAGE] == zdss_load || f[CODEC_ZS_STREAM_STAGE] == zdss_flush;
    if (mid && f[CODEC_ZS_F_WINDOW_SIZE] > d->maxWindowSize) OVER(CODEC_ZS_F_WINDOW_SIZE);
    /* The block-level stage and the input it expects must be a pair zstd's streaming decoder
     * can be in between calls; each stage copies `expected` bytes to its own destination
     * (getFrameHeaderSize / decodeFrameHeader / decodeSkippableHeader copy into the 18-byte
     * header buffer, a block header or checksum is read as 3 or 4 bytes). Streaming parses
     * headers itself, and libcodec handles skippable frames before zstd sees them, so only
     * these occur inside a frame:
     *   getFrameHeaderSize with expected 0 (the frame is decoded, output or a byte held back),
     *   decodeBlockHeader with 3, decompress(Last)Block with 1..blockSizeMax (RLE: 1),
     *   checkChecksum with 4 when the frame has a checksum. */
    if (mid) {
        uint64_t const st = f[CODEC_ZS_STAGE], ex = f[CODEC_ZS_EXPECTED];
        int ok;
        switch (st) {
        case ZSTDds_getFrameHeaderSize: ok = ex == 0; break;
        case ZSTDds_decodeBlockHeader: ok = ex == ZSTD_blockHeaderSize; break;
        case ZSTDds_decompressBlock:
        case ZSTDds_decompressLastBlock:
            ok = f[CODEC_ZS_BTYPE] != bt_reserved && ex >= 1 && ex <= f[CODEC_ZS_F_BLOCK_SIZE_MAX]
                && (f[CODEC_ZS_BTYPE] != bt_rle || ex == 1);
            break;
        case ZSTDds_checkChecksum: ok = ex == 4 && f[CODEC_ZS_F_CHECKSUM_FLAG]; break;
        default: ok = 0;
        }
        if (!ok) BAD(CODEC_ZS_STAGE);
        /* zstd holds back the frame's last input byte exactly while a decoded frame has output
         * to deliver (or the byte has not been handed back yet); otherwise it would step the
         * caller's input position back past 0. */
        if (f[CODEC_ZS_HOSTAGE_BYTE] != (st == ZSTDds_getFrameHeaderSize)) BAD(CODEC_ZS_HOSTAGE_BYTE);
        /* Output waits in the buffer exactly in the flush stage. */
        if ((f[CODEC_ZS_STREAM_STAGE] == zdss_flush) != (f[CODEC_ZS_OUT_START] < f[CODEC_ZS_OUT_END])) BAD(CODEC_ZS_OUT_END);
        /* Frame decoding (not the block API), and checksum validation as the frame asks. */
        if (f[CODEC_ZS_IS_FRAME_DECOMPRESSION] != 1) BAD(CODEC_ZS_IS_FRAME_DECOMPRESSION);
        if (f[CODEC_ZS_VALIDATE_CHECKSUM] != (f[CODEC_ZS_F_CHECKSUM_FLAG] && f[CODEC_ZS_FORCE_IGNORE_CHECKSUM] == ZSTD_d_validateChecksum))
            BAD(CODEC_ZS_VALIDATE_CHECKSUM);
        if (f[CODEC_ZS_VALIDATE_CHECKSUM] && f[CODEC_ZS_XXH_MEMSIZE] != f[CODEC_ZS_XXH_TOTAL_LEN] % 32) BAD(CODEC_ZS_XXH_MEMSIZE);
    } else if (f[CODEC_ZS_STAGE] || f[CODEC_ZS_EXPECTED] || f[CODEC_ZS_HOSTAGE_BYTE]) {
        BAD(CODEC_ZS_STAGE); /* saved as 0 outside a frame */
    }
    /* Only written by the bufferless API; saved as 0. */
    if (f[CODEC_ZS_HEADER_SIZE]) BAD(CODEC_ZS_HEADER_SIZE);
    /* Parameters are the restoring context's own (set by the caller from the same state before
     * this call): a state may not switch off checksums, change the frame format or drop the
     * dictionary. */
    if (f[CODEC_ZS_FORMAT] != (uint64_t)d->format) BAD(CODEC_ZS_FORMAT);
    if (f[CODEC_ZS_FORCE_IGNORE_CHECKSUM] != (uint64_t)d->forceIgnoreChecksum) BAD(CODEC_ZS_FORCE_IGNORE_CHECKSUM);
    if (f[CODEC_ZS_DISABLE_HUF_ASM] != (uint64_t)d->disableHufAsm) BAD(CODEC_ZS_DISABLE_HUF_ASM);
    if (f[CODEC_ZS_MAX_BLOCK_SIZE_PARAM] != (uint64_t)d->maxBlockSizeParam) BAD(CODEC_ZS_MAX_BLOCK_SIZE_PARAM);
    if ((int64_t)f[CODEC_ZS_DICT_USES] != (int64_t)d->dictUses) BAD(CODEC_ZS_DICT_USES);
    /* A repeat offset is never 0: zstd starts a frame with 1, 4, 8, a dictionary's must be
     * non-zero, and a decoded repeat that comes out 0 is stored as (U32)-1 (corrupt at use).
     * zstd checks offsets against the window only from above, so a 0 would let a match copy
     * the bytes it is writing: the literal copy's over-length tail, i.e. uninitialised memory
     * of the literal buffer, would reach the output (found by the unmarshal fuzz target as
     * two copies of one decoder disagreeing). */
    for (i = 0; i < 3; i++)
        if (mid && f[CODEC_ZS_REP0 + i] == 0) BAD(CODEC_ZS_REP0 + i);
    /* Buffers: at most what zstd itself would allocate under that limit. */
    CHECK_MAX(CODEC_ZS_IN_BUFF_SIZE, ZSTD_BLOCKSIZE_MAX);
    CHECK_MAX(CODEC_ZS_IN_POS, f[CODEC_ZS_IN_BUFF_SIZE]);
    if (f[CODEC_ZS_OUT_BUFF_SIZE] > ZSTD_decodingBufferSize_min(d->maxWindowSize, ZSTD_CONTENTSIZE_UNKNOWN))
        OVER(CODEC_ZS_OUT_BUFF_SIZE);
    CHECK_MAX(CODEC_ZS_OUT_END, f[CODEC_ZS_OUT_BUFF_SIZE]);
    CHECK_MAX(CODEC_ZS_OUT_START, f[CODEC_ZS_OUT_END]);
    if (mid) {
        if (f[CODEC_ZS_IN_BUFF_SIZE] < f[CODEC_ZS_F_BLOCK_SIZE_MAX] || f[CODEC_ZS_IN_BUFF_SIZE] < 4) BAD(CODEC_ZS_IN_BUFF_SIZE);
        /* zstd sets blockSizeMax = MIN(frame window, ZSTD_BLOCKSIZE_MAX, maxBlockSizeParam), before
         * raising the window to at least 1 KiB: a single-segment frame that declares no content
         * has blockSizeMax 0 (only empty blocks pass zstd's size checks then). */
        if (f[CODEC_ZS_F_BLOCK_SIZE_MAX] > f[CODEC_ZS_F_WINDOW_SIZE]) BAD(CODEC_ZS_F_BLOCK_SIZE_MAX);
    }
    if (f[CODEC_ZS_STREAM_STAGE] == zdss_load && f[CODEC_ZS_IN_POS] > f[CODEC_ZS_EXPECTED]) BAD(CODEC_ZS_IN_POS);
    if (f[CODEC_ZS_STREAM_STAGE] != zdss_load && (s->in_len || f[CODEC_ZS_IN_POS])) BAD(CODEC_ZS_IN_POS);
    if (s->in_len != (f[CODEC_ZS_STREAM_STAGE] == zdss_load ? f[CODEC_ZS_IN_POS] : 0)) BAD(CODEC_ZS_IN_POS);
    if (s->header_len != f[CODEC_ZS_LH_SIZE]) BAD(CODEC_ZS_LH_SIZE);
    for (i = 0; i < 2; i++)
        if (s->range_len[i] && (s->range_off[i] > f[CODEC_ZS_OUT_BUFF_SIZE] || s->range_len[i] > f[CODEC_ZS_OUT_BUFF_SIZE] - s->range_off[i]))
            BAD(CODEC_ZS_OUT_BUFF_SIZE);
    if ((s->range_len[0] || s->range_len[1]) && !mid) BAD(CODEC_ZS_STREAM_STAGE);

    /* Buffers: one allocation, as zstd makes it (ZSTD_freeDCtx frees it); zeroed, so bytes
     * outside the saved ranges are defined. */
    if (d->inBuffSize != f[CODEC_ZS_IN_BUFF_SIZE] || d->outBuffSize != f[CODEC_ZS_OUT_BUFF_SIZE] || d->inBuff) {
        size_t const total = (size_t)f[CODEC_ZS_IN_BUFF_SIZE] + (size_t)f[CODEC_ZS_OUT_BUFF_SIZE];
        ZSTD_customFree(d->inBuff, d->customMem);
        d->inBuff = NULL;
        d->outBuff = NULL;
        d->inBuffSize = d->outBuffSize = 0;
        if (total) {
            d->inBuff = (char *)ZSTD_customCalloc(total, d->customMem);
            if (!d->inBuff) return CODEC_ZS_E_NOMEM;
            d->outBuff = d->inBuff + f[CODEC_ZS_IN_BUFF_SIZE];
        }
        d->inBuffSize = (size_t)f[CODEC_ZS_IN_BUFF_SIZE];
        d->outBuffSize = (size_t)f[CODEC_ZS_OUT_BUFF_SIZE];
    }
    if (!d->inBuff) d->outBuff = NULL; /* zstd sets outBuff only with inBuff */
    for (i = 0; i < 2; i++)
        if (s->range_len[i]) memcpy(d->outBuff + s->range_off[i], s->range_data[i], s->range_len[i]);
    if (s->in_len) memcpy(d->inBuff, s->in_buff, s->in_len);
    if (s->header_len) memcpy(d->headerBuffer, s->header, s->header_len);

    /* Entropy tables: copied into the context's own slots, checked entry by entry. */
    own[0] = d->entropy.LLTable;
    own_cap[0] = sizeof d->entropy.LLTable;
    own[1] = d->entropy.MLTable;
    own_cap[1] = sizeof d->entropy.MLTable;
    own[2] = d->entropy.OFTable;
    own_cap[2] = sizeof d->entropy.OFTable;
    own[3] = d->entropy.hufTable;
    own_cap[3] = sizeof d->entropy.hufTable;
    for (i = 0; i < 4; i++) {
        int const used = i < 3 ? (int)f[CODEC_ZS_FSE_ENTROPY] : (int)f[CODEC_ZS_LIT_ENTROPY];
        if (!s->table_len[i]) {
            if (used && mid) BAD(CODEC_ZS_TABLE_LL + i);
            continue;
        }
        if (!used || !mid || s->table_len[i] > own_cap[i] || s->table_len[i] < 8) BAD(CODEC_ZS_TABLE_LL + i);
        memcpy(own[i], s->table[i], s->table_len[i]);
        if (i < 3) {
            if (seq_table_bytes((const ZSTD_seqSymbol *)own[i], i) != s->table_len[i]
                || !seq_table_valid((const ZSTD_seqSymbol *)own[i], i))
                BAD(CODEC_ZS_TABLE_LL + i);
        } else if (huf_table_bytes((const HUF_DTable *)own[i]) != s->table_len[i]
                   || !huf_table_valid((const HUF_DTable *)own[i])) {
            BAD(CODEC_ZS_TABLE_HUF);
        }
    }
    d->LLTptr = d->entropy.LLTable;
    d->MLTptr = d->entropy.MLTable;
    d->OFTptr = d->entropy.OFTable;
    d->HUFptr = d->entropy.hufTable;
    for (i = 0; i < 3; i++) d->entropy.rep[i] = (U32)f[CODEC_ZS_REP0 + i];

    /* Window pointers: inside their regions, the previous segment wholly addressable. */
    if (mid) {
        const char *prev, *prefix, *dend;
        if (dec_ptr(d, f[CODEC_ZS_PREV_END_REGION], f[CODEC_ZS_PREV_END_OFF], &prev)) BAD(CODEC_ZS_PREV_END_OFF);
        if (dec_ptr(d, f[CODEC_ZS_PREFIX_REGION], f[CODEC_ZS_PREFIX_OFF], &prefix)) BAD(CODEC_ZS_PREFIX_OFF);
        if (dec_ptr(d, f[CODEC_ZS_DICT_END_REGION], f[CODEC_ZS_DICT_END_OFF], &dend)) BAD(CODEC_ZS_DICT_END_OFF);
        if (f[CODEC_ZS_PREV_END_REGION] != f[CODEC_ZS_PREFIX_REGION] || f[CODEC_ZS_PREFIX_OFF] > f[CODEC_ZS_PREV_END_OFF])
            BAD(CODEC_ZS_PREFIX_OFF);
        if (f[CODEC_ZS_EXT_LEN] > f[CODEC_ZS_DICT_END_OFF]
            || (f[CODEC_ZS_DICT_END_REGION] == CODEC_ZS_R_NULL && f[CODEC_ZS_EXT_LEN] != 0)
            || f[CODEC_ZS_EXT_LEN] > region_size(d, f[CODEC_ZS_DICT_END_REGION]))
            BAD(CODEC_ZS_EXT_LEN);
        d->previousDstEnd = prev;
        d->prefixStart = prefix;
        d->dictEnd = dend;
        d->virtualStart = prefix ? prefix - f[CODEC_ZS_EXT_LEN] : NULL;
    } else {
        d->previousDstEnd = d->prefixStart = d->virtualStart = d->dictEnd = NULL;
    }

    d->expected = (size_t)f[CODEC_ZS_EXPECTED];
    d->fParams.frameContentSize = f[CODEC_ZS_F_CONTENT_SIZE];
    d->fParams.windowSize = f[CODEC_ZS_F_WINDOW_SIZE];
    d->fParams.blockSizeMax = (unsigned)f[CODEC_ZS_F_BLOCK_SIZE_MAX];
    d->fParams.frameType = (ZSTD_FrameType_e)f[CODEC_ZS_F_FRAME_TYPE];
    d->fParams.headerSize = (unsigned)f[CODEC_ZS_F_HEADER_SIZE];
    d->fParams.dictID = (unsigned)f[CODEC_ZS_F_DICT_ID];
    d->fParams.checksumFlag = (unsigned)f[CODEC_ZS_F_CHECKSUM_FLAG];
    d->processedCSize = f[CODEC_ZS_PROCESSED_CSIZE];
    d->decodedSize = f[CODEC_ZS_DECODED_SIZE];
    d->bType = (blockType_e)f[CODEC_ZS_BTYPE];
    d->stage = (ZSTD_dStage)f[CODEC_ZS_STAGE];
    d->litEntropy = (U32)f[CODEC_ZS_LIT_ENTROPY];
    d->fseEntropy = (U32)f[CODEC_ZS_FSE_ENTROPY];
    memset(&d->xxhState, 0, sizeof d->xxhState);
    d->xxhState.total_len = f[CODEC_ZS_XXH_TOTAL_LEN];
    for (i = 0; i < 4; i++) {
        d->xxhState.v[i] = f[CODEC_ZS_XXH_V0 + i];
        d->xxhState.mem64[i] = f[CODEC_ZS_XXH_MEM0 + i];
    }
    d->xxhState.memsize = (U32)f[CODEC_ZS_XXH_MEMSIZE];
    d->headerSize = (size_t)f[CODEC_ZS_HEADER_SIZE];
    d->format = (ZSTD_format_e)f[CODEC_ZS_FORMAT];
    d->forceIgnoreChecksum = (ZSTD_forceIgnoreChecksum_e)f[CODEC_ZS_FORCE_IGNORE_CHECKSUM];
    d->validateChecksum = (U32)f[CODEC_ZS_VALIDATE_CHECKSUM];
    d->rleSize = (size_t)f[CODEC_ZS_RLE_SIZE];
    d->isFrameDecompression = (int)f[CODEC_ZS_IS_FRAME_DECOMPRESSION];
    d->dictID = (U32)f[CODEC_ZS_DICT_ID];
    d->ddictIsCold = (int)f[CODEC_ZS_DDICT_IS_COLD];
    d->dictUses = (ZSTD_dictUses_e)(int64_t)f[CODEC_ZS_DICT_USES];
    d->disableHufAsm = (int)f[CODEC_ZS_DISABLE_HUF_ASM];
    d->maxBlockSizeParam = (int)f[CODEC_ZS_MAX_BLOCK_SIZE_PARAM];
    d->streamStage = (ZSTD_dStreamStage)f[CODEC_ZS_STREAM_STAGE];
    d->inPos = (size_t)f[CODEC_ZS_IN_POS];
    d->outStart = (size_t)f[CODEC_ZS_OUT_START];
    d->outEnd = (size_t)f[CODEC_ZS_OUT_END];
    d->lhSize = (size_t)f[CODEC_ZS_LH_SIZE];
    d->hostageByte = (U32)f[CODEC_ZS_HOSTAGE_BYTE];
    d->noForwardProgress = (int)f[CODEC_ZS_NO_FORWARD_PROGRESS];
    d->oversizedDuration = (size_t)f[CODEC_ZS_OVERSIZED_DURATION];
#if defined(ZSTD_LEGACY_SUPPORT) && (ZSTD_LEGACY_SUPPORT >= 1)
    d->legacyVersion = 0;
#endif
    /* Per-block literal state only lives inside one call. The literal buffer is cleared all
     * the same, so that no restored state, however crafted, can show earlier heap contents. */
    memset(d->litExtraBuffer, 0, sizeof d->litExtraBuffer);
    d->litPtr = NULL;
    d->litBuffer = NULL;
    d->litBufferEnd = NULL;
    d->litBufferLocation = ZSTD_not_in_dst;
    d->litSize = 0;
    return CODEC_ZS_OK;
}
