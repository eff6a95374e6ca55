/* Memory limits and decompression bombs: a zstd frame declaring a 2^31 window, an xz stream and
 * a .lzma stream declaring 1.5 GiB dictionaries are refused with CODEC_E_MEMLIMIT by default,
 * before anything large is allocated, and accepted once the caller raises the limit. One-shot
 * decompression of frames that lie about their content size writes only into the caller's
 * buffer. */
#include "util.h"

/* Peak virtual size grows by less than this when nothing large is allocated. The refusals must
 * not even reserve the window: 1.5 GiB or 2 GiB would show. */
#define SMALL_KIB (96ul << 10)

/* A zstd frame: magic, frame header descriptor 0 (no content size, windowed, no checksum, no
 * dictionary ID), a window descriptor with exponent `wexp` (window 2^(10+wexp)), then one last
 * raw block of 5 bytes "hello". */
static size_t zstd_window_frame(unsigned char *p, unsigned wexp) {
    static const unsigned char head[] = {0x28, 0xB5, 0x2F, 0xFD, 0x00};
    size_t n = 0;
    memcpy(p, head, sizeof head);
    n = sizeof head;
    p[n++] = (unsigned char)(wexp << 3);
    /* block header: last = 1, type raw (0), size 5 */
    p[n++] = (unsigned char)(1 | (5 << 3));
    p[n++] = 0;
    p[n++] = 0;
    memcpy(p + n, "hello", 5);
    return n + 5;
}

static void test_zstd_window_bomb(void) {
    unsigned char frame[32];
    size_t n = zstd_window_frame(frame, 21); /* 2^31 */
    codec_frame_header h;
    codec_decoder *d;
    buf_t out = {0};
    unsigned long before;
    int frames = 0;

    CHECK_ST(codec_frame_info(CODEC_FORMAT_ZSTD, frame, n, &h), CODEC_OK);
    CHECK(h.window_size == (uint64_t)1 << 31);

    /* default: refused at the header, nothing large allocated */
    before = proc_status_kib("VmPeak");
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    CHECK_ST(dec_all(d, frame, n, 0, 0, &out), CODEC_E_MEMLIMIT);
    CHECK(strstr(codec_decoder_last_error(d), "WINDOW_LOG_MAX") != NULL);
    CHECK(out.len == 0);
    CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);
    /* and the handle stays failed until reset */
    CHECK_ST(dec_all(d, frame, n, 0, 0, &out), CODEC_E_SEQUENCE);
    codec_decoder_free(d);

    /* AUTO and the generic memory limit (1 GiB) refuse it too */
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_AUTO, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_MEMLIMIT, (int64_t)1 << 30), CODEC_OK);
    CHECK_ST(dec_all(d, frame, n, 1, 1, &out), CODEC_E_MEMLIMIT);
    codec_decoder_free(d);

    /* one-shot: same default */
    {
        unsigned char dst[64];
        size_t w = 99;
        CHECK_ST(codec_decompress(CODEC_FORMAT_ZSTD, frame, n, dst, sizeof dst, &w), CODEC_E_MEMLIMIT);
        CHECK(w == 0);
    }
    CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);

    /* raised: accepted (zstd reserves the 2 GiB window; only 5 bytes are written to it). Under
     * valgrind (quick mode) the reservation is skipped. */
    if (!quick_mode()) {
        CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
        CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 31), CODEC_OK);
        out.len = 0;
        CHECK_ST(dec_all_ex(d, frame, n, 0, 0, &out, &frames, NULL, 100), CODEC_OK);
        CHECK(frames == 1 && out.len == 5 && mem_eq(out.p, "hello", 5));
        CHECK(codec_decoder_at_frame_edge(d));
        codec_decoder_free(d);
    }
    /* a window just inside the default (2^27) decodes without raising anything */
    n = zstd_window_frame(frame, 17);
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    out.len = 0;
    CHECK_ST(dec_all(d, frame, n, 0, 0, &out), CODEC_OK);
    CHECK(out.len == 5);
    codec_decoder_free(d);
    /* 2^28 needs 28 */
    n = zstd_window_frame(frame, 18);
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    CHECK_ST(dec_all(d, frame, n, 0, 0, &out), CODEC_E_MEMLIMIT);
    codec_decoder_free(d);
    buf_free(&out);
}

/* Rewrite the LZMA2 dictionary byte of an .xz stream's first block header (single filter, no
 * sizes, as liblzma writes at level 0) and fix the header's CRC32. */
/* A marshalled state is untrusted input, so it does not carry its decoder's limits:
 * codec_decoder_unmarshal restores with the defaults, codec_decoder_restore with those of a
 * decoder the caller configured. Before, a state saved with window log max 31 let a 10-byte
 * frame reserve 2 GiB. */
static void test_state_limits(void) {
    unsigned char bomb[32], small[32], state[4096];
    size_t nb = zstd_window_frame(bomb, 21), ns = zstd_window_frame(small, 10), len = 0;
    codec_decoder *d, *r;
    buf_t out = {0};
    unsigned long before;

    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 31), CODEC_OK);
    CHECK_ST(codec_decoder_marshal(d, state, sizeof state, &len), CODEC_OK);
    codec_decoder_free(d);

    before = proc_status_kib("VmPeak");
    CHECK_ST(codec_decoder_unmarshal(state, len, NULL, &r), CODEC_OK);
    CHECK_ST(dec_all(r, bomb, nb, 0, 0, &out), CODEC_E_MEMLIMIT);
    CHECK(strstr(codec_decoder_last_error(r), "WINDOW_LOG_MAX") != NULL);
    CHECK(out.len == 0);
    CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);
    codec_decoder_free(r);

    /* restore keeps the receiver's limit (here lower than the saved one) */
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &r), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(r, CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 20), CODEC_OK);
    CHECK_ST(codec_decoder_restore(r, state, len), CODEC_OK);
    CHECK_ST(dec_all(r, bomb, nb, 0, 0, &out), CODEC_E_MEMLIMIT);
    CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);
    /* only into a fresh (or reset) decoder; a failed restore changes nothing */
    CHECK_ST(codec_decoder_restore(r, state, len), CODEC_E_SEQUENCE);
    CHECK_ST(codec_decoder_reset(r), CODEC_OK);
    CHECK_ST(codec_decoder_restore(r, state, len - 1), CODEC_E_STATE);
    CHECK_ST(codec_decoder_restore(r, state, len), CODEC_OK);
    out.len = 0;
    CHECK_ST(dec_all(r, small, ns, 0, 0, &out), CODEC_OK);
    CHECK(out.len == 5 && mem_eq(out.p, "hello", 5));
    codec_decoder_free(r);
    CHECK_ST(codec_decoder_restore(NULL, state, len), CODEC_E_NULL);
    buf_free(&out);
}

static int xz_set_dict_byte(unsigned char *x, size_t n, unsigned char b) {
    size_t hsize;
    if (n < 24) return 0;
    hsize = ((size_t)x[12] + 1) * 4;
    if (x[13] != 0 || x[14] != 0x21 || x[15] != 0x01 || 12 + hsize > n) return 0;
    x[16] = b;
    put_le32(x + 12 + hsize - 4, crc32_of(x + 12, hsize - 4));
    return 1;
}

static void test_xz_dictionary_bomb(void) {
    static unsigned char data[20000];
    buf_t z = {0}, out = {0};
    codec_decoder *d;
    codec_frame_header h;
    unsigned long before;
    fill_data(data, sizeof data, 3);
    CHECK_ST(compress_with(CODEC_FORMAT_XZ, NULL, data, sizeof data, &z), CODEC_OK);
    CHECK(xz_set_dict_byte(z.p, z.len, 37)); /* 3 * 2^29 = 1.5 GiB */
    CHECK_ST(codec_frame_info(CODEC_FORMAT_XZ, z.p, z.len, &h), CODEC_OK);

    before = proc_status_kib("VmPeak");
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_XZ, &d), CODEC_OK);
    CHECK_ST(dec_all(d, z.p, z.len, 7, 100, &out), CODEC_E_MEMLIMIT);
    CHECK(strstr(codec_decoder_last_error(d), "1610612736") != NULL);
    CHECK(out.len == 0);
    codec_decoder_free(d);
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_AUTO, &d), CODEC_OK);
    CHECK_ST(dec_all(d, z.p, z.len, 0, 0, &out), CODEC_E_MEMLIMIT);
    codec_decoder_free(d);
    {
        static unsigned char dst[sizeof data];
        size_t w = 1;
        CHECK_ST(codec_decompress(CODEC_FORMAT_XZ, z.p, z.len, dst, sizeof dst, &w), CODEC_E_MEMLIMIT);
    }
    CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);

    /* raised: decodes, and the window grows only with the output */
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_XZ, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_MEMLIMIT, (int64_t)2 << 30), CODEC_OK);
    CHECK_ST(dec_all(d, z.p, z.len, 0, 0, &out), CODEC_OK);
    CHECK(out.len == sizeof data && mem_eq(out.p, data, sizeof data));
    codec_decoder_free(d);
    CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);
    buf_free(&z);
    buf_free(&out);
}

static void test_lzma_dictionary_bomb(void) {
    static unsigned char data[20000];
    buf_t z = {0}, out = {0};
    codec_decoder *d;
    unsigned long before;
    fill_data(data, sizeof data, 4);
    CHECK_ST(compress_with(CODEC_FORMAT_LZMA_ALONE, NULL, data, sizeof data, &z), CODEC_OK);
    CHECK(z.len > 13 && z.p[0] == 0x5D);
    put_le32(z.p + 1, 0x60000000ul); /* 1.5 GiB */

    before = proc_status_kib("VmPeak");
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_LZMA_ALONE, &d), CODEC_OK);
    CHECK_ST(dec_all(d, z.p, z.len, 3, 1000, &out), CODEC_E_MEMLIMIT);
    CHECK(strstr(codec_decoder_last_error(d), "MEMLIMIT") != NULL);
    CHECK(out.len == 0);
    codec_decoder_free(d);
    CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);

    CHECK_ST(codec_decoder_new(CODEC_FORMAT_LZMA_ALONE, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_MEMLIMIT, (int64_t)0x60000000), CODEC_OK);
    CHECK_ST(dec_all(d, z.p, z.len, 0, 0, &out), CODEC_OK);
    CHECK(out.len == sizeof data && mem_eq(out.p, data, sizeof data));
    codec_decoder_free(d);
    CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);
    buf_free(&z);
    buf_free(&out);
}

/* Raw LZMA2 takes its dictionary size from the caller; a size above the memory limit is
 * refused as well, and data made with a small dictionary never grows the window beyond the
 * output. */
static void test_lzma2_dictionary_param(void) {
    static unsigned char data[5000];
    buf_t z = {0}, out = {0};
    codec_decoder *d;
    codec_status st;
    unsigned long before = proc_status_kib("VmPeak");
    fill_data(data, sizeof data, 5);
    CHECK_ST(compress_with(CODEC_FORMAT_LZMA2_RAW, NULL, data, sizeof data, &z), CODEC_OK);
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_LZMA2_RAW, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_XZ_DICT_SIZE, (int64_t)0x60000000), CODEC_OK);
    st = dec_all(d, z.p, z.len, 0, 0, &out);
    CHECK(st == CODEC_E_MEMLIMIT);
    codec_decoder_free(d);
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_LZMA2_RAW, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_XZ_DICT_SIZE, (int64_t)0x60000000), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_MEMLIMIT, (int64_t)0x60000000), CODEC_OK);
    out.len = 0;
    CHECK_ST(dec_all(d, z.p, z.len, 0, 0, &out), CODEC_OK);
    CHECK(out.len == sizeof data && mem_eq(out.p, data, sizeof data));
    codec_decoder_free(d);
    CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);
    buf_free(&z);
    buf_free(&out);
}

/* LZ4: the frame format bounds blocks at 4 MiB; a block-size code beyond the four defined ones
 * is corrupt, and a block longer than the declared maximum is refused. */
static void test_lz4_block_bound(void) {
    static unsigned char data[1000];
    buf_t z = {0}, out = {0};
    codec_decoder *d;
    codec_frame_header h;
    fill_data(data, sizeof data, 6);
    CHECK_ST(compress_with(CODEC_FORMAT_LZ4_FRAME, NULL, data, sizeof data, &z), CODEC_OK);
    CHECK_ST(codec_frame_info(CODEC_FORMAT_LZ4_FRAME, z.p, z.len, &h), CODEC_OK);
    CHECK(h.block_size <= (4u << 20));
    /* LZ4 decoders take no memory limit: the formats bound their blocks */
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_LZ4_FRAME, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_MEMLIMIT, 1 << 20), CODEC_E_UNSUPPORTED);
    codec_decoder_free(d);
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_LZ4_BLOCKS, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_MEMLIMIT, 1 << 20), CODEC_E_UNSUPPORTED);
    codec_decoder_free(d);
    /* block max code 3 (reserved) with a fixed header checksum is still refused */
    {
        unsigned char bad[7] = {0x04, 0x22, 0x4D, 0x18, 0x60, 0x30, 0};
        CHECK_ST(codec_decoder_new(CODEC_FORMAT_LZ4_FRAME, &d), CODEC_OK);
        CHECK(dec_all(d, bad, sizeof bad, 0, 0, &out) < 0);
        codec_decoder_free(d);
    }
    /* a block claiming 64 MiB in a 64 KiB-block frame: refused before it is buffered */
    {
        size_t hl = 7; /* magic + FLG + BD + HC, no content size */
        unsigned char bad[64];
        unsigned long before = proc_status_kib("VmPeak");
        CHECK(z.len > hl + 4);
        memcpy(bad, z.p, hl);
        put_le32(bad + hl, 64ul << 20);
        memset(bad + hl + 4, 'x', sizeof bad - hl - 4);
        CHECK_ST(codec_decoder_new(CODEC_FORMAT_LZ4_FRAME, &d), CODEC_OK);
        CHECK_ST(dec_all(d, bad, sizeof bad, 0, 0, &out), CODEC_E_CORRUPT);
        codec_decoder_free(d);
        CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);
    }
    /* LZ4 block stream: a length prefix beyond what a page can compress to */
    {
        unsigned char bad[8] = {0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4};
        CHECK_ST(codec_decoder_new(CODEC_FORMAT_LZ4_BLOCKS, &d), CODEC_OK);
        CHECK_ST(dec_all(d, bad, sizeof bad, 0, 0, &out), CODEC_E_CORRUPT);
        codec_decoder_free(d);
    }
    buf_free(&z);
    buf_free(&out);
}

/* Patch the content-size field of a zstd frame made by codec_compress (single segment,
 * 2-byte or 4-byte field after the descriptor). Returns 0 if the layout is not the expected. */
static int zstd_set_content_size(unsigned char *z, size_t n, unsigned long v) {
    unsigned fhd = z[4], fcs = fhd >> 6, single = (fhd >> 5) & 1, did = fhd & 3;
    size_t at = 5 + (single ? 0 : 1) + (did == 0 ? 0 : did == 1 ? 1 : did == 2 ? 2 : 4);
    if (n < at + 8) return 0;
    if (fcs == 1) {
        if (v < 256 || v > 65535 + 256) return 0;
        z[at] = (unsigned char)(v - 256);
        z[at + 1] = (unsigned char)((v - 256) >> 8);
        return 1;
    }
    if (fcs == 2) {
        put_le32(z + at, v);
        return 1;
    }
    return 0;
}

/* One-shot decompression trusts nothing in the frame: content sizes that lie (smaller or
 * larger than the real content) never make it write beyond dst or allocate for the claim. */
static void test_one_shot_lying_sizes(void) {
    static unsigned char data[100000];
    static unsigned char dst[100000 + 64];
    buf_t z = {0};
    size_t w;
    unsigned long before;
    codec_status st;
    size_t i;
    int intact;
    fill_data(data, sizeof data, 7);
    z.cap = codec_compress_bound(CODEC_FORMAT_ZSTD, sizeof data);
    z.p = (unsigned char *)malloc(z.cap);
    CHECK_ST(codec_compress(CODEC_FORMAT_ZSTD, 1, data, sizeof data, z.p, z.cap, &z.len), CODEC_OK);

    /* claims 1000 bytes, holds 100000: dst sized for the claim */
    CHECK(zstd_set_content_size(z.p, z.len, 1000));
    memset(dst, 0xA5, sizeof dst);
    w = 12345;
    st = codec_decompress(CODEC_FORMAT_ZSTD, z.p, z.len, dst, 1000, &w);
    CHECK(st == CODEC_E_BUFFER || st == CODEC_E_CORRUPT);
    CHECK(w <= 1000);
    intact = 1;
    for (i = 1000; i < sizeof dst; i++) intact &= dst[i] == 0xA5;
    CHECK(intact);
    CHECK(mem_eq(dst, data, w));

    /* claims 3 GiB, holds 100000: no allocation for the claim, and an error (a single-segment
     * frame's window is its content size, so the claim is beyond the window limit) */
    before = proc_status_kib("VmPeak");
    CHECK(zstd_set_content_size(z.p, z.len, 3ul << 30));
    memset(dst, 0xA5, sizeof dst);
    st = codec_decompress(CODEC_FORMAT_ZSTD, z.p, z.len, dst, sizeof data + 64, &w);
    CHECK(st == CODEC_E_MEMLIMIT);
    CHECK(w <= sizeof data + 64);
    CHECK(w <= sizeof data + 64);
    CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);
    st = codec_decompress(CODEC_FORMAT_AUTO, z.p, z.len, dst, 10, &w);
    CHECK(st < 0 && w <= 10);
    CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);
    free(z.p);

    /* LZ4 frame with a content size (pledged): claims less than it holds */
    {
        codec_encoder *e = new_encoder(CODEC_FORMAT_LZ4_FRAME, NULL);
        buf_t l = {0};
        CHECK_ST(codec_encoder_set_pledged_size(e, sizeof data), CODEC_OK);
        CHECK_ST(enc_all(e, data, sizeof data, CODEC_FINISH, 4096, &l), CODEC_OK);
        CHECK(l.len > 14 && (l.p[4] & 0x08));
        /* content size at bytes 6..14; fix the header checksum is not needed: it is checked,
         * so patching it makes the header corrupt, which is also an error without overflow */
        l.p[6] = 0x10;
        l.p[7] = l.p[8] = l.p[9] = l.p[10] = l.p[11] = l.p[12] = l.p[13] = 0;
        memset(dst, 0xA5, sizeof dst);
        st = codec_decompress(CODEC_FORMAT_LZ4_FRAME, l.p, l.len, dst, 16, &w);
        CHECK(st < 0 && w <= 16);
        intact = 1;
        for (i = 16; i < sizeof dst; i++) intact &= dst[i] == 0xA5;
        CHECK(intact);
        codec_encoder_free(e);
        buf_free(&l);
    }
    /* .lzma declaring 2^37 bytes of content: one-shot stops at dst */
    {
        buf_t l = {0};
        CHECK_ST(compress_with(CODEC_FORMAT_LZMA_ALONE, NULL, data, 5000, &l), CODEC_OK);
        before = proc_status_kib("VmPeak");
        memset(l.p + 5, 0, 8);
        l.p[5 + 4] = 0x20; /* 2^37 */
        memset(dst, 0xA5, sizeof dst);
        st = codec_decompress(CODEC_FORMAT_LZMA_ALONE, l.p, l.len, dst, 100, &w);
        CHECK(st < 0 && w <= 100);
        intact = 1;
        for (i = 100; i < sizeof dst; i++) intact &= dst[i] == 0xA5;
        CHECK(intact);
        CHECK(proc_status_kib("VmPeak") - before < SMALL_KIB);
        buf_free(&l);
    }
}

int main(void) {
    test_zstd_window_bomb();
    test_state_limits();
    test_xz_dictionary_bomb();
    test_lzma_dictionary_bomb();
    test_lzma2_dictionary_param();
    test_lz4_block_bound();
    test_one_shot_lying_sizes();
    CHECK_DONE();
}
