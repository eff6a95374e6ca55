/* The conventions every libcodec function follows: NULL handling, status names, versions,
 * messages, parameter bounds and sequencing, and the panic boundary. */
#include "check.h"

static void test_version(void) {
    const char *v = codec_version_string();
    CHECK(codec_version_number() == CODEC_VERSION_NUMBER);
    CHECK(CODEC_VERSION_NUMBER == CODEC_VERSION_MAJOR * 10000 + CODEC_VERSION_MINOR * 100 + CODEC_VERSION_PATCH);
    CHECK(strstr(v, CODEC_VERSION_STRING) != NULL);
    CHECK(strstr(v, "zstd 1.5.7") != NULL);
    CHECK(strstr(v, "lz4 1.10.0") != NULL);
    CHECK(strstr(v, "liblzma 5.2.5") != NULL);
}

static void test_status_names(void) {
    CHECK(strcmp(codec_status_name(CODEC_OK), "CODEC_OK") == 0);
    CHECK(strcmp(codec_status_name(CODEC_MORE_OUTPUT), "CODEC_MORE_OUTPUT") == 0);
    CHECK(strcmp(codec_status_name(CODEC_FRAME_END), "CODEC_FRAME_END") == 0);
    CHECK(strcmp(codec_status_name(CODEC_E_STATE), "CODEC_E_STATE") == 0);
    CHECK(strcmp(codec_status_name(CODEC_E_INTERNAL), "CODEC_E_INTERNAL") == 0);
    CHECK(strcmp(codec_status_name(12345), "CODEC_UNKNOWN_STATUS") == 0);
    CHECK(strcmp(codec_status_name(-1000), "CODEC_UNKNOWN_STATUS") == 0);
    /* negative macros are parenthesised */
    CHECK(5 - CODEC_E_NULL == 6);
}

static void test_null_handling(void) {
    codec_encoder *e = (codec_encoder *)1;
    codec_decoder *d = (codec_decoder *)1;
    size_t r = 7, w = 7;
    unsigned char buf[16] = {0};
    uint64_t c, p;

    CHECK_ST(codec_encoder_new(CODEC_FORMAT_ZSTD, NULL), CODEC_E_NULL);
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, NULL), CODEC_E_NULL);
    codec_encoder_free(NULL);
    codec_decoder_free(NULL);
    codec_dict_free(NULL);
    CHECK_ST(codec_encoder_encode(NULL, NULL, 0, &r, NULL, 0, &w, CODEC_CONTINUE), CODEC_E_NULL);
    CHECK(r == 0 && w == 0);
    CHECK_ST(codec_decoder_decode(NULL, NULL, 0, &r, NULL, 0, &w), CODEC_E_NULL);
    CHECK_ST(codec_encoder_set_param(NULL, CODEC_PARAM_LEVEL, 1), CODEC_E_NULL);
    CHECK_ST(codec_decoder_position(NULL, &c, &p), CODEC_E_NULL);
    CHECK(codec_encoder_last_error(NULL) != NULL);
    CHECK(codec_decoder_last_error(NULL) != NULL);
    CHECK(!codec_decoder_at_frame_edge(NULL));
    CHECK(codec_dict_id(NULL) == 0);

    CHECK_ST(codec_encoder_new(CODEC_FORMAT_ZSTD, &e), CODEC_OK);
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    /* NULL buffers are fine with zero lengths, not otherwise */
    CHECK_ST(codec_encoder_encode(e, NULL, 0, &r, buf, sizeof buf, &w, CODEC_CONTINUE), CODEC_OK);
    CHECK_ST(codec_encoder_encode(e, NULL, 5, &r, buf, sizeof buf, &w, CODEC_CONTINUE), CODEC_E_NULL);
    CHECK(strstr(codec_encoder_last_error(e), "NULL") != NULL);
    CHECK_ST(codec_encoder_encode(e, buf, 1, NULL, buf, sizeof buf, &w, CODEC_CONTINUE), CODEC_E_NULL);
    CHECK_ST(codec_decoder_decode(d, NULL, 0, &r, NULL, 0, &w), CODEC_OK);
    CHECK(codec_decoder_at_frame_edge(d));
    /* a decoder is not an encoder */
    CHECK_ST(codec_encoder_set_param((codec_encoder *)(void *)d, CODEC_PARAM_LEVEL, 1), CODEC_E_INVALID);
    codec_encoder_free(e);
    codec_decoder_free(d);
}

static void test_invalid_arguments(void) {
    codec_encoder *e = (codec_encoder *)1;
    codec_decoder *d = (codec_decoder *)1;
    size_t r, w;
    unsigned char buf[64] = {0};
    int64_t lo = 0, hi = 0;

    CHECK_ST(codec_encoder_new(CODEC_FORMAT_AUTO, &e), CODEC_E_INVALID);
    CHECK(e == NULL);
    CHECK(strstr(codec_last_error(), "AUTO") != NULL);
    CHECK_ST(codec_encoder_new(99, &e), CODEC_E_INVALID);
    CHECK(strstr(codec_last_error(), "99") != NULL);
    CHECK_ST(codec_decoder_new(-5, &d), CODEC_E_INVALID);
    CHECK(d == NULL);

    CHECK_ST(codec_encoder_new(CODEC_FORMAT_ZSTD, &e), CODEC_OK);
    CHECK_ST(codec_encoder_encode(e, buf, 4, &r, buf, sizeof buf, &w, 7), CODEC_E_INVALID);
    CHECK(strstr(codec_encoder_last_error(e), "action") != NULL);
    /* bounds */
    CHECK_ST(codec_param_bounds(CODEC_FORMAT_ZSTD, CODEC_PARAM_LEVEL, &lo, &hi), CODEC_OK);
    CHECK(lo < 0 && hi == 22);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_LEVEL, hi + 1), CODEC_E_INVALID);
    CHECK(strstr(codec_encoder_last_error(e), "CODEC_PARAM_LEVEL") != NULL);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_LEVEL, hi), CODEC_OK);
    CHECK(strcmp(codec_encoder_last_error(e), "") == 0);
    CHECK_ST(codec_param_bounds(CODEC_FORMAT_ZSTD, CODEC_PARAM_ZSTD_WINDOW_LOG, &lo, &hi), CODEC_OK);
    CHECK(hi >= 30);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_ZSTD_WINDOW_LOG, 100), CODEC_E_INVALID);
    CHECK_ST(codec_param_bounds(CODEC_FORMAT_ZSTD, CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, &lo, &hi), CODEC_OK);
    CHECK(lo == 10 && hi == 31);
    CHECK_ST(codec_param_bounds(CODEC_FORMAT_ZSTD, CODEC_PARAM_LZ4_BLOCK_SIZE, &lo, &hi), CODEC_E_UNSUPPORTED);
    CHECK_ST(codec_param_bounds(42, CODEC_PARAM_LEVEL, &lo, &hi), CODEC_E_INVALID);
    CHECK_ST(codec_param_bounds(CODEC_FORMAT_ZSTD, CODEC_PARAM_LEVEL, NULL, &hi), CODEC_E_NULL);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_LZ4_BLOCK_SIZE, 65536), CODEC_E_UNSUPPORTED);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 20), CODEC_E_UNSUPPORTED);
    CHECK_ST(codec_encoder_set_param(e, 5555, 1), CODEC_E_UNSUPPORTED);
    /* parameters only before the first byte of a frame, again after FINISH */
    CHECK_ST(codec_encoder_encode(e, buf, 10, &r, buf + 10, 50, &w, CODEC_CONTINUE), CODEC_OK);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_LEVEL, 1), CODEC_E_SEQUENCE);
    CHECK_ST(codec_encoder_set_pledged_size(e, 10), CODEC_E_SEQUENCE);
    CHECK_ST(codec_encoder_encode(e, NULL, 0, &r, buf, sizeof buf, &w, CODEC_FINISH), CODEC_OK);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_LEVEL, 1), CODEC_OK);
    codec_encoder_free(e);

    CHECK_ST(codec_decoder_new(CODEC_FORMAT_ZSTD, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_LEVEL, 3), CODEC_E_UNSUPPORTED);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 9), CODEC_E_INVALID);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 30), CODEC_OK);
    codec_decoder_free(d);
    CHECK_ST(codec_decoder_new(CODEC_FORMAT_AUTO, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 30), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_ZSTD_STRATEGY, 3), CODEC_E_UNSUPPORTED);
    codec_decoder_free(d);
}

static void test_panic_boundary(void) {
    codec_encoder *e = NULL;
    codec_decoder *d = NULL;
    size_t r, w;
    unsigned char buf[64] = {0};
    fprintf(stderr, "(two deliberate panics follow: testing the panic boundary)\n");
    CHECK_ST(codec_encoder_new(CODEC_FORMAT_ZSTD, &e), CODEC_OK);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_DEBUG_PANIC, 1), CODEC_E_PANIC);
    CHECK(strstr(codec_encoder_last_error(e), "panic") != NULL);
    /* poisoned: every later call says so, including reset */
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_LEVEL, 1), CODEC_E_PANIC);
    CHECK_ST(codec_encoder_encode(e, buf, 1, &r, buf, sizeof buf, &w, CODEC_FINISH), CODEC_E_PANIC);
    CHECK_ST(codec_encoder_reset(e), CODEC_E_PANIC);
    codec_encoder_free(e);

    CHECK_ST(codec_decoder_new(CODEC_FORMAT_AUTO, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_DEBUG_PANIC, 1), CODEC_E_PANIC);
    CHECK_ST(codec_decoder_decode(d, buf, 4, &r, buf, sizeof buf, &w), CODEC_E_PANIC);
    codec_decoder_free(d);

    /* the process and other handles are fine */
    CHECK_ST(codec_encoder_new(CODEC_FORMAT_ZSTD, &e), CODEC_OK);
    CHECK_ST(codec_encoder_encode(e, buf, 8, &r, buf + 8, 56, &w, CODEC_FINISH), CODEC_OK);
    codec_encoder_free(e);
}

int main(void) {
    test_version();
    test_status_names();
    test_null_handling();
    test_invalid_arguments();
    test_panic_boundary();
    CHECK_DONE();
}
