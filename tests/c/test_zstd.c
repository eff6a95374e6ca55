/* zstd through the C API: streaming with tiny buffers, flush decodability, frames, skippable
 * frames, parameters, limits, one-shot calls, inspection, and bad input. */
#include "util.h"

static void test_round_trip_tiny_buffers(void) {
    static unsigned char data[300000];
    buf_t comp = {0}, back = {0};
    codec_encoder *e;
    codec_decoder *d;
    int frames = 0;
    uint64_t consumed, produced;
    fill_data(data, sizeof data, 1);
    CHECK_ST(codec_encoder_new(CODEC_FORMAT_ZSTD, &e), CODEC_OK);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_CHECKSUM, 1), CODEC_OK);
    CHECK_ST(enc_all(e, data, sizeof data, CODEC_FINISH, 1, &comp), CODEC_OK);
    CHECK(comp.len < sizeof data / 2);
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_AUTO, &d), CODEC_OK);
    CHECK_ST(dec_all_ex(d, comp.p, comp.len, 3, 1, &back, &frames, NULL, 0), CODEC_OK);
    CHECK(back.len == sizeof data && memcmp(back.p, data, sizeof data) == 0);
    CHECK(frames == 1);
    CHECK(codec_decoder_at_frame_edge(d));
    CHECK_ST(codec_decoder_position(d, &consumed, &produced), CODEC_OK);
    CHECK(consumed == comp.len && produced == sizeof data);
    codec_encoder_free(e);
    codec_decoder_free(d);
    free(comp.p);
    free(back.p);
}

/* Every FLUSH makes everything so far decodable without ending the frame. */
static void test_flush_prefixes(void) {
    static unsigned char data[100000];
    buf_t comp = {0};
    codec_encoder *e;
    size_t pieces[] = {1, 7, 1000, 0, 30000, 5, 68987};
    size_t i, pos = 0;
    fill_data(data, sizeof data, 2);
    CHECK_ST(codec_encoder_new(CODEC_FORMAT_ZSTD, &e), CODEC_OK);
    for (i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        buf_t back = {0};
        codec_decoder *d;
        size_t before = comp.len;
        CHECK_ST(enc_all(e, data + pos, pieces[i], CODEC_FLUSH, 100, &comp), CODEC_OK);
        pos += pieces[i];
        if (pieces[i] == 0) CHECK(comp.len == before); /* an empty flush emits nothing */
        CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
        CHECK_ST(dec_all(d, comp.p, comp.len, 4096, 4096, &back), CODEC_OK);
        CHECK(back.len == pos && (pos == 0 || memcmp(back.p, data, pos) == 0));
        CHECK(!codec_decoder_at_frame_edge(d) || pos == 0);
        codec_decoder_free(d);
        free(back.p);
    }
    CHECK(pos == sizeof data);
    CHECK_ST(enc_all(e, NULL, 0, CODEC_FINISH, 100, &comp), CODEC_OK);
    codec_encoder_free(e);
    free(comp.p);
}

/* FINISH then reuse makes concatenated frames; skippable frames between them are ignored. */
static void test_frames(void) {
    unsigned char a[5000], b[7000];
    static const unsigned char skippable[] = {0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 'x', 'y', 'z'};
    buf_t comp = {0}, back = {0};
    codec_encoder *e;
    codec_decoder *d;
    codec_frame_header h;
    uint64_t size;
    size_t first;
    int frames = 0;
    fill_data(a, sizeof a, 3);
    fill_data(b, sizeof b, 4);
    CHECK_ST(codec_encoder_new(CODEC_FORMAT_ZSTD, &e), CODEC_OK);
    CHECK_ST(codec_encoder_set_pledged_size(e, sizeof a), CODEC_OK);
    CHECK_ST(enc_all(e, a, sizeof a, CODEC_FINISH, 4096, &comp), CODEC_OK);
    first = comp.len;
    buf_put(&comp, skippable, sizeof skippable);
    CHECK_ST(enc_all(e, b, sizeof b, CODEC_CONTINUE, 4096, &comp), CODEC_OK);
    CHECK_ST(enc_all(e, NULL, 0, CODEC_FINISH, 4096, &comp), CODEC_OK);
    /* an empty FINISH emits an empty frame */
    CHECK_ST(enc_all(e, NULL, 0, CODEC_FINISH, 4096, &comp), CODEC_OK);

    CHECK_ST(codec_frame_info(CODEC_FORMAT_AUTO, comp.p, comp.len, &h), CODEC_OK);
    CHECK(h.format == CODEC_FORMAT_ZSTD && h.content_size == sizeof a && h.dict_id == 0);
    CHECK(h.header_size >= 6 && h.window_size > 0 && h.checksum == CODEC_CHECK_NONE);
    CHECK_ST(codec_frame_size(CODEC_FORMAT_ZSTD, comp.p, comp.len, &size), CODEC_OK);
    CHECK(size == first);
    CHECK_ST(codec_frame_info(CODEC_FORMAT_ZSTD, comp.p + first, sizeof skippable, &h), CODEC_OK);
    CHECK(h.flags & CODEC_FRAME_FLAG_SKIPPABLE);
    CHECK_ST(codec_frame_info(CODEC_FORMAT_ZSTD, comp.p + first + sizeof skippable, comp.len - first - sizeof skippable, &h),
             CODEC_OK);
    CHECK(h.content_size == CODEC_CONTENT_SIZE_UNKNOWN);
    CHECK_ST(codec_frame_info(CODEC_FORMAT_ZSTD, comp.p, 3, &h), CODEC_E_TRUNCATED);
    CHECK_ST(codec_frame_size(CODEC_FORMAT_ZSTD, comp.p, first - 1, &size), CODEC_E_TRUNCATED);

    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    CHECK_ST(dec_all_ex(d, comp.p, comp.len, 1, 333, &back, &frames, NULL, 0), CODEC_OK);
    CHECK(frames == 3);
    CHECK(back.len == sizeof a + sizeof b);
    CHECK(memcmp(back.p, a, sizeof a) == 0 && memcmp(back.p + sizeof a, b, sizeof b) == 0);
    codec_decoder_free(d);
    codec_encoder_free(e);
    free(comp.p);
    free(back.p);
}

/* A FRAME_END call stops exactly at the frame boundary. */
static void test_frame_end_stops(void) {
    unsigned char a[100], two[400], out[1000];
    size_t n1 = 0, n2 = 0, r, w;
    codec_decoder *d;
    fill_data(a, sizeof a, 5);
    CHECK_ST(codec_compress(CODEC_FORMAT_ZSTD, 1, a, sizeof a, two, sizeof two, &n1), CODEC_OK);
    CHECK_ST(codec_compress(CODEC_FORMAT_ZSTD, 1, a, sizeof a, two + n1, sizeof two - n1, &n2), CODEC_OK);
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    CHECK_ST(codec_decoder_decode(d, two, n1 + n2, &r, out, sizeof out, &w), CODEC_FRAME_END);
    CHECK(r == n1 && w == sizeof a);
    CHECK(codec_decoder_at_frame_edge(d));
    CHECK_ST(codec_decoder_decode(d, two + r, n1 + n2 - r, &r, out, sizeof out, &w), CODEC_FRAME_END);
    CHECK(r == n2 && w == sizeof a);
    codec_decoder_free(d);
}

static void test_window_limit(void) {
    static unsigned char data[1 << 16];
    buf_t comp = {0}, back = {0};
    codec_encoder *e;
    codec_decoder *d;
    codec_frame_header h;
    fill_data(data, sizeof data, 6);
    CHECK_ST(codec_encoder_new(CODEC_FORMAT_ZSTD, &e), CODEC_OK);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_ZSTD_WINDOW_LOG, 28), CODEC_OK);
    CHECK_ST(enc_all(e, data, sizeof data, CODEC_CONTINUE, 4096, &comp), CODEC_OK);
    CHECK_ST(enc_all(e, NULL, 0, CODEC_FINISH, 4096, &comp), CODEC_OK);
    CHECK_ST(codec_frame_info(CODEC_FORMAT_ZSTD, comp.p, comp.len, &h), CODEC_OK);
    CHECK(h.window_size == (1u << 28));
    /* default limit 2^27: refused */
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    CHECK_ST(dec_all(d, comp.p, comp.len, 4096, 4096, &back), CODEC_E_MEMLIMIT);
    CHECK(strstr(codec_decoder_last_error(d), "WINDOW_LOG_MAX") != NULL);
    CHECK(back.len == 0);
    codec_decoder_free(d);
    /* raised: accepted */
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 28), CODEC_OK);
    CHECK_ST(dec_all(d, comp.p, comp.len, 4096, 4096, &back), CODEC_OK);
    CHECK(back.len == sizeof data && memcmp(back.p, data, sizeof data) == 0);
    codec_decoder_free(d);
    /* the generic memory limit works too */
    back.len = 0;
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_AUTO, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_MEMLIMIT, (int64_t)1 << 28), CODEC_OK);
    CHECK_ST(dec_all(d, comp.p, comp.len, 4096, 4096, &back), CODEC_OK);
    CHECK(back.len == sizeof data);
    codec_decoder_free(d);
    codec_encoder_free(e);
    free(comp.p);
    free(back.p);
}

static void test_one_shot(void) {
    static unsigned char data[50000], comp[60000], back[50000];
    size_t n = 0, m = 0;
    codec_format f;
    fill_data(data, sizeof data, 7);
    CHECK(codec_compress_bound(CODEC_FORMAT_ZSTD, sizeof data) >= sizeof data);
    CHECK(codec_compress_bound(CODEC_FORMAT_AUTO, 10) == 0);
    CHECK_ST(codec_compress(CODEC_FORMAT_ZSTD, CODEC_LEVEL_DEFAULT, data, sizeof data, comp, sizeof comp, &n), CODEC_OK);
    CHECK_ST(codec_detect_format(comp, n, &f), CODEC_OK);
    CHECK(f == CODEC_FORMAT_ZSTD);
    CHECK_ST(codec_detect_format(comp, 2, &f), CODEC_E_TRUNCATED);
    CHECK_ST(codec_detect_format((const uint8_t *)"hello world!!", 13, &f), CODEC_E_UNSUPPORTED);
    CHECK_ST(codec_decompress(CODEC_FORMAT_AUTO, comp, n, back, sizeof back, &m), CODEC_OK);
    CHECK(m == sizeof data && memcmp(back, data, m) == 0);
    CHECK_ST(codec_decompress(CODEC_FORMAT_ZSTD, comp, n, back, sizeof back - 1, &m), CODEC_E_BUFFER);
    CHECK(m == sizeof back - 1 && memcmp(back, data, m) == 0);
    CHECK_ST(codec_decompress(CODEC_FORMAT_ZSTD, comp, n - 1, back, sizeof back, &m), CODEC_E_TRUNCATED);
    CHECK(strstr(codec_last_error(), "inside a frame") != NULL);
    CHECK_ST(codec_decompress(CODEC_FORMAT_ZSTD, comp, 0, back, sizeof back, &m), CODEC_E_TRUNCATED);
    CHECK_ST(codec_compress(CODEC_FORMAT_ZSTD, 3, data, sizeof data, comp, 10, &n), CODEC_E_BUFFER);
    CHECK_ST(codec_compress(CODEC_FORMAT_ZSTD, 99, data, sizeof data, comp, sizeof comp, &n), CODEC_E_INVALID);
    CHECK_ST(codec_compress(CODEC_FORMAT_ZSTD, 3, NULL, 0, comp, sizeof comp, &n), CODEC_OK);
    CHECK_ST(codec_decompress(CODEC_FORMAT_ZSTD, comp, n, back, 0, &m), CODEC_OK);
    CHECK(m == 0);
}

static void test_bad_input(void) {
    static unsigned char data[20000], comp[25000], out[25000];
    size_t n = 0, r, w;
    codec_decoder *d;
    codec_encoder *e;
    buf_t c = {0}, back = {0};
    fill_data(data, sizeof data, 8);

    /* garbage: corrupt, with the offset in the message */
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    CHECK_ST(codec_decoder_decode(d, (const uint8_t *)"garbage!", 8, &r, out, sizeof out, &w), CODEC_E_CORRUPT);
    CHECK(strstr(codec_decoder_last_error(d), "magic") != NULL);
    CHECK(strstr(codec_decoder_last_error(d), "input byte 0") != NULL);
    /* poisoned until reset */
    CHECK_ST(codec_decoder_decode(d, data, 1, &r, out, sizeof out, &w), CODEC_E_SEQUENCE);
    CHECK(r == 0 && w == 0);
    CHECK_ST(codec_decoder_reset(d), CODEC_OK);
    CHECK_ST(codec_compress(CODEC_FORMAT_ZSTD, 3, data, sizeof data, comp, sizeof comp, &n), CODEC_OK);
    CHECK_ST(codec_decoder_decode(d, comp, n, &r, out, sizeof out, &w), CODEC_FRAME_END);
    CHECK(w == sizeof data);
    codec_decoder_free(d);

    /* legacy frames are refused with a clear message */
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    CHECK_ST(codec_decoder_decode(d, (const uint8_t *)"\x27\xb5\x2f\xfd\x00\x00\x00\x00", 8, &r, out, sizeof out, &w),
             CODEC_E_UNSUPPORTED);
    CHECK(strstr(codec_decoder_last_error(d), "legacy") != NULL);
    codec_decoder_free(d);

    /* a wrong checksum */
    CHECK_ST(codec_encoder_new(CODEC_FORMAT_ZSTD, &e), CODEC_OK);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_ZSTD_CHECKSUM_FLAG, 1), CODEC_OK);
    CHECK_ST(enc_all(e, data, sizeof data, CODEC_FINISH, 4096, &c), CODEC_OK);
    c.p[c.len - 1] ^= 1;
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    CHECK_ST(dec_all(d, c.p, c.len, 100, 4096, &back), CODEC_E_CHECKSUM);
    CHECK(back.len == sizeof data); /* the data decoded before the check was delivered */
    codec_decoder_free(d);

    /* every truncation of a frame: never a crash, never a frame end */
    {
        size_t cut;
        c.p[c.len - 1] ^= 1;
        for (cut = 0; cut < c.len; cut += (cut < 64 ? 1 : 97)) {
            CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
            back.len = 0;
            CHECK_ST(dec_all(d, c.p, cut, 4096, 4096, &back), CODEC_OK);
            CHECK(!codec_decoder_at_frame_edge(d) || cut == 0);
            CHECK(back.len <= sizeof data && memcmp(back.p, data, back.len) == 0);
            codec_decoder_free(d);
        }
    }
    /* corruption anywhere: an error or correct output, never a crash */
    {
        size_t i;
        for (i = 0; i < c.len; i += 13) {
            codec_status st;
            c.p[i] ^= 0x55;
            CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
            back.len = 0;
            st = dec_all(d, c.p, c.len, 4096, 4096, &back);
            CHECK(st < 0 || (back.len == sizeof data && memcmp(back.p, data, back.len) == 0));
            CHECK(st >= 0 || codec_decoder_last_error(d)[0] != '\0');
            codec_decoder_free(d);
            c.p[i] ^= 0x55;
        }
    }
    codec_encoder_free(e);
    free(c.p);
    free(back.p);
}

int main(void) {
    test_round_trip_tiny_buffers();
    test_flush_prefixes();
    test_frames();
    test_frame_end_stops();
    test_window_limit();
    test_one_shot();
    test_bad_input();
    CHECK_DONE();
}
