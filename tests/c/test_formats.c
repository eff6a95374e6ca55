/* Every format through the C API: round trips with tiny buffers, flush prefixes where the
 * format can flush, several frames in one stream, marshal / unmarshal / clone mid-stream,
 * dictionaries where supported, and a bad-input suite (thousands of mutations of valid
 * streams, decoded with random chunking and a call budget: each yields an error with a
 * message or correct output, never a crash or a hang). */
#include "util.h"

static unsigned char data[40000];

static size_t data_len(void) { return quick_mode() ? 12000 : sizeof data; }

/* Encode with 1-byte output buffers and odd input chunks, decode with 1-byte input and output
 * buffers. */
static void test_tiny_buffers(codec_format f) {
    size_t n = quick_mode() ? 3000 : 20000, pos = 0;
    codec_encoder *e = new_encoder(f, NULL);
    codec_decoder *d = new_decoder(f, NULL);
    buf_t z = {0}, out = {0};
    uint64_t c, p;
    while (pos < n) {
        size_t k = n - pos < 997 ? n - pos : 997;
        CHECK_ST(enc_all(e, data + pos, k, CODEC_CONTINUE, 1, &z), CODEC_OK);
        pos += k;
    }
    CHECK_ST(enc_all(e, NULL, 0, CODEC_FINISH, 1, &z), CODEC_OK);
    CHECK_ST(dec_all(d, z.p, z.len, 1, 1, &out), CODEC_OK);
    CHECK(out.len == n && mem_eq(out.p, data, n));
    CHECK(codec_decoder_at_frame_edge(d));
    CHECK_ST(codec_decoder_position(d, &c, &p), CODEC_OK);
    CHECK(c == z.len && p == n);
    /* and one-shot */
    {
        size_t w = 0;
        unsigned char *back = (unsigned char *)malloc(n + 1);
        CHECK_ST(codec_decompress(f, z.p, z.len, back, n + 1, &w), CODEC_OK);
        CHECK(w == n && mem_eq(back, data, n));
        if (n > 1) CHECK_ST(codec_decompress(f, z.p, z.len, back, n - 1, &w), CODEC_E_BUFFER);
        if (z.len > 1) CHECK(codec_decompress(f, z.p, z.len - 1, back, n + 1, &w) < 0);
        free(back);
    }
    codec_encoder_free(e);
    codec_decoder_free(d);
    buf_free(&z);
    buf_free(&out);
}

/* After every FLUSH, the bytes emitted so far decode to exactly the input given so far. Formats
 * that cannot flush refuse it without consuming anything and stay usable. */
static void test_flush_prefixes(codec_format f) {
    codec_encoder *e = new_encoder(f, NULL);
    buf_t z = {0}, out = {0};
    size_t pos = 0, step = 1777, n = data_len();
    int flushes = 0;
    if (!can_flush(f)) {
        size_t r = 9, w = 9;
        unsigned char tmp[64];
        CHECK_ST(codec_encoder_encode(e, data, 10, &r, tmp, sizeof tmp, &w, CODEC_FLUSH), CODEC_E_UNSUPPORTED);
        CHECK(r == 0 && w == 0);
        CHECK_ST(enc_all(e, data, 10, CODEC_FINISH, 64, &z), CODEC_OK);
        codec_encoder_free(e);
        buf_free(&z);
        return;
    }
    while (pos < n) {
        size_t k = n - pos < step ? n - pos : step;
        codec_decoder *d = new_decoder(f, NULL);
        CHECK_ST(enc_all(e, data + pos, k, CODEC_FLUSH, 100, &z), CODEC_OK);
        pos += k;
        flushes++;
        out.len = 0;
        CHECK_ST(dec_all(d, z.p, z.len, 0, 0, &out), CODEC_OK);
        CHECK(out.len == pos && mem_eq(out.p, data, pos));
        codec_decoder_free(d);
        step = step * 3 / 2;
    }
    /* an empty flush is fine too */
    CHECK_ST(enc_all(e, NULL, 0, CODEC_FLUSH, 100, &z), CODEC_OK);
    CHECK_ST(enc_all(e, NULL, 0, CODEC_FINISH, 100, &z), CODEC_OK);
    {
        codec_decoder *d = new_decoder(f, NULL);
        out.len = 0;
        CHECK_ST(dec_all(d, z.p, z.len, 3, 5, &out), CODEC_OK);
        CHECK(out.len == n && mem_eq(out.p, data, n));
        CHECK(codec_decoder_at_frame_edge(d));
        codec_decoder_free(d);
    }
    CHECK(flushes > 3);
    codec_encoder_free(e);
    buf_free(&z);
    buf_free(&out);
}

/* Three frames (FINISH three times) in one stream decode to the concatenation; frame formats
 * report each end. */
static void test_frames(codec_format f) {
    codec_encoder *e = new_encoder(f, NULL);
    codec_decoder *d = new_decoder(f, NULL);
    buf_t z = {0}, out = {0};
    size_t n = data_len(), third = n / 3;
    int frames = 0, k;
    for (k = 0; k < 3; k++) {
        size_t len = k == 2 ? n - 2 * third : third;
        CHECK_ST(enc_all(e, data + k * third, len, CODEC_FINISH, 500, &z), CODEC_OK);
    }
    CHECK_ST(dec_all_ex(d, z.p, z.len, 256, 300, &out, &frames, NULL, 0), CODEC_OK);
    CHECK(out.len == n && mem_eq(out.p, data, n));
    if (f != CODEC_FORMAT_LZ4_BLOCKS) CHECK(frames == 3);
    CHECK(codec_decoder_at_frame_edge(d));
    codec_encoder_free(e);
    codec_decoder_free(d);
    buf_free(&z);
    buf_free(&out);
}

/* Decode in pieces; every few calls marshal the decoder and continue with the restored copy,
 * and clone it and check the clone produces the same rest. */
static void test_marshal_clone(codec_format f, const codec_dict *dict) {
    codec_encoder *e = new_encoder(f, dict);
    codec_decoder *d = new_decoder(f, dict);
    buf_t z = {0}, out = {0};
    size_t n = data_len(), pos = 0, r, w;
    unsigned char tmp[1000];
    int calls = 0, restored = 0, cloned = 0;
    codec_status st;
    if (can_flush(f)) {
        CHECK_ST(enc_all(e, data, n / 3, CODEC_FLUSH, 4096, &z), CODEC_OK);
        CHECK_ST(enc_all(e, data + n / 3, n - n / 3, CODEC_FINISH, 4096, &z), CODEC_OK);
    } else {
        CHECK_ST(enc_all(e, data, n, CODEC_FINISH, 4096, &z), CODEC_OK);
    }
    for (;;) {
        size_t give = z.len - pos < 211 ? z.len - pos : 211;
        if (++calls % 9 == 0) {
            size_t len = 0;
            unsigned char *state;
            codec_decoder *c = NULL;
            uint64_t c1, p1, c2, p2;
            codec_state_header sh;
            CHECK_ST(codec_decoder_marshal(d, NULL, 0, &len), CODEC_E_BUFFER);
            state = (unsigned char *)malloc(len);
            CHECK_ST(codec_decoder_marshal(d, state, len, &len), CODEC_OK);
            CHECK_ST(codec_state_info(state, len, &sh), CODEC_OK);
            CHECK(sh.format == f && sh.needs_dict == (dict != NULL));
            /* a wrong or missing dictionary is refused */
            if (dict) {
                CHECK_ST(codec_decoder_unmarshal(state, len, NULL, &c), CODEC_E_DICT);
                CHECK(c == NULL);
            }
            /* a corrupted state is refused */
            state[len / 2] ^= 1;
            CHECK_ST(codec_decoder_unmarshal(state, len, dict, &c), CODEC_E_STATE);
            state[len / 2] ^= 1;
            CHECK_ST(codec_decoder_unmarshal(state, len - 1, dict, &c), CODEC_E_STATE);
            CHECK_ST(codec_decoder_unmarshal(state, len, dict, &c), CODEC_OK);
            CHECK_ST(codec_decoder_position(d, &c1, &p1), CODEC_OK);
            CHECK_ST(codec_decoder_position(c, &c2, &p2), CODEC_OK);
            CHECK(c1 == c2 && p1 == p2 && c1 == pos && p1 == out.len && sh.consumed == c1 && sh.produced == p1);
            free(state);
            codec_decoder_free(d);
            d = c;
            restored++;
        }
        if (calls % 13 == 0) {
            /* a clone decodes the rest to the same bytes; the original goes on */
            codec_decoder *c = NULL;
            buf_t rest = {0};
            CHECK_ST(codec_decoder_clone(d, &c), CODEC_OK);
            CHECK_ST(dec_all(c, z.p + pos, z.len - pos, 50, 70, &rest), CODEC_OK);
            CHECK(out.len + rest.len == n && mem_eq(rest.p, data + out.len, rest.len));
            codec_decoder_free(c);
            buf_free(&rest);
            cloned++;
        }
        st = codec_decoder_decode(d, z.p + pos, give, &r, tmp, 150, &w);
        pos += r;
        buf_put(&out, tmp, w);
        if (st < 0) break;
        if (st == CODEC_OK && pos == z.len && w == 0) break;
    }
    CHECK(st >= 0);
    CHECK(out.len == n && mem_eq(out.p, data, n));
    CHECK(codec_decoder_at_frame_edge(d));
    CHECK(restored > 2 && cloned > 2);
    codec_encoder_free(e);
    codec_decoder_free(d);
    buf_free(&z);
    buf_free(&out);
}

/* Dictionaries: round trip with one; zstd refuses a frame that needs one without it. Formats
 * that cannot carry one say so. */
static void test_dictionary(codec_format f, const codec_dict *dict) {
    codec_encoder *e = NULL;
    codec_decoder *d = NULL;
    buf_t z = {0}, out = {0};
    size_t n = data_len();
    if (!takes_dict(f)) {
        CHECK_ST(codec_encoder_new(f, &e), CODEC_OK);
        CHECK_ST(codec_encoder_set_dict(e, dict), CODEC_E_UNSUPPORTED);
        codec_encoder_free(e);
        return;
    }
    CHECK_ST(compress_with(f, dict, data, n, &z), CODEC_OK);
    d = new_decoder(f, dict);
    CHECK_ST(dec_all(d, z.p, z.len, 100, 100, &out), CODEC_OK);
    CHECK(out.len == n && mem_eq(out.p, data, n));
    codec_decoder_free(d);
    if (f == CODEC_FORMAT_ZSTD) {
        d = new_decoder(f, NULL);
        out.len = 0;
        CHECK_ST(dec_all(d, z.p, z.len, 100, 100, &out), CODEC_E_DICT);
        codec_decoder_free(d);
    }
    test_marshal_clone(f, dict);
    buf_free(&z);
    buf_free(&out);
}

/* Formats whose content is covered by an integrity check in these tests. */
static int checked(codec_format f) {
    return f == CODEC_FORMAT_ZSTD || f == CODEC_FORMAT_LZ4_FRAME || f == CODEC_FORMAT_XZ;
}

/* Decode a mutated stream with random chunking and a budget; check the outcome. */
static int cur_kind, cur_index;

static void decode_mutant(codec_format f, const unsigned char *m, size_t mlen, const unsigned char *orig,
                          size_t orig_len, unsigned *seed, int *errors, int *oks) {
    codec_decoder *d = new_decoder(f, NULL);
    unsigned char tmp[4096];
    size_t pos = 0, outlen = 0, r, w;
    unsigned long calls = 0;
    int ok_so_far = 1, capped = 0;
    codec_status st;
    /* LZ4 blocks and LZMA can expand enormously: keep memory and time bounded */
    codec_decoder_set_param(d, CODEC_PARAM_MEMLIMIT, 16 << 20);
    for (;;) {
        size_t give = 1 + rng_next(seed) % 700, room = 1 + rng_next(seed) % sizeof tmp;
        if (give > mlen - pos) give = mlen - pos;
        st = codec_decoder_decode(d, m + pos, give, &r, tmp, room, &w);
        if (r > give || w > room) {
            CHECK(r <= give && w <= room);
            break;
        }
        if (ok_so_far && outlen + w <= orig_len && mem_eq(tmp, orig + outlen, w)) {
        } else {
            ok_so_far = 0;
        }
        pos += r;
        outlen += w;
        if (st < 0) break;
        if (st == CODEC_OK && pos == mlen && w == 0) break;
        if (outlen > (64u << 20)) {
            capped = 1;
            break;
        }
        if (++calls > 2000000) {
            CHECK(!"decoder did not finish within its call budget");
            fprintf(stderr, "%s: stuck decoding a %lu-byte mutant\n", format_name(f), (unsigned long)mlen);
            break;
        }
    }
    if (st < 0) {
        (*errors)++;
        CHECK(st != CODEC_E_PANIC && st != CODEC_E_SEQUENCE && st != CODEC_E_INTERNAL);
        CHECK(strlen(codec_decoder_last_error(d)) > 0);
    } else if (!capped) {
        (*oks)++;
        /* a checked format that says the stream is complete decoded it correctly */
        if (checked(f) && codec_decoder_at_frame_edge(d)) {
            CHECK(ok_so_far && outlen == orig_len);
            if (!(ok_so_far && outlen == orig_len))
                fprintf(stderr, "%s: mutant %d (kind %d) decoded without error to different output (%lu of %lu bytes)\n",
                        format_name(f), cur_index, cur_kind, (unsigned long)outlen, (unsigned long)orig_len);
        }
    }
    codec_decoder_free(d);
}

static void test_bad_input(codec_format f) {
    int errors = 0, oks = 0, i, variants = quick_mode() ? 150 : 1500, v;
    unsigned seed = 12345u + (unsigned)f;
    size_t n = 3000;
    buf_t z = {0}, m = {0};
    codec_encoder *e = new_encoder(f, NULL);
    static const unsigned char garbage[] = "garbage after a valid stream \x00\xff\x28\xb5\x2f\xfd";
    if (f == CODEC_FORMAT_ZSTD || f == CODEC_FORMAT_LZ4_FRAME) CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_CHECKSUM, 1), CODEC_OK);
    if (can_flush(f)) CHECK_ST(enc_all(e, data, n / 2, CODEC_FLUSH, 4096, &z), CODEC_OK);
    CHECK_ST(enc_all(e, data + (can_flush(f) ? n / 2 : 0), can_flush(f) ? n - n / 2 : n, CODEC_FINISH, 4096, &z),
             CODEC_OK);
    codec_encoder_free(e);
    for (i = 0; i < variants; i++) {
        for (v = 0; v < 6; v++) {
            size_t at = rng_next(&seed) % z.len, k;
            m.len = 0;
            cur_kind = v;
            cur_index = i;
            switch (v) {
            case 0: /* bit flip */
                buf_put(&m, z.p, z.len);
                m.p[at] ^= (unsigned char)(1u << (rng_next(&seed) % 8));
                break;
            case 1: /* byte set */
                buf_put(&m, z.p, z.len);
                m.p[at] = (unsigned char)(rng_next(&seed) % 3 == 0 ? 0xFF : rng_next(&seed));
                break;
            case 2: /* truncation */
                buf_put(&m, z.p, at);
                break;
            case 3: /* insertion */
                buf_put(&m, z.p, at);
                for (k = 1 + rng_next(&seed) % 8; k > 0; k--) {
                    unsigned char b = (unsigned char)rng_next(&seed);
                    buf_put(&m, &b, 1);
                }
                buf_put(&m, z.p + at, z.len - at);
                break;
            case 4: /* garbage after the valid stream, or a second copy then garbage */
                buf_put(&m, z.p, z.len);
                if (i % 2) buf_put(&m, z.p, z.len);
                buf_put(&m, garbage, 1 + rng_next(&seed) % (sizeof garbage - 1));
                break;
            default: /* garbage after the header (first 4..24 bytes kept) */
                k = 4 + rng_next(&seed) % 21;
                if (k > z.len) k = z.len;
                buf_put(&m, z.p, k);
                for (k = rng_next(&seed) % 200; k > 0; k--) {
                    unsigned char b = (unsigned char)rng_next(&seed);
                    buf_put(&m, &b, 1);
                }
                break;
            }
            /* an empty mutant is a valid empty stream; a doubled stream with garbage must fail */
            decode_mutant(f, m.p, m.len, data, (m.len == 0 || (v == 4 && i % 2)) ? 0 : n, &seed, &errors, &oks);
        }
    }
    printf("%s: %d mutants, %d errors, %d decoded\n", format_name(f), variants * 6, errors, oks);
    CHECK(errors > variants);
    buf_free(&z);
    buf_free(&m);
}

int main(void) {
    int i;
    codec_dict *dict = NULL;
    fill_data(data, sizeof data, 21);
    {
        /* a trained zstd-format dictionary: zstd frames record its ID */
        size_t sizes[200], k, total = 0;
        for (k = 0; k < 200; k++) {
            sizes[k] = 50 + k % 100;
            total += sizes[k];
        }
        CHECK_ST(codec_dict_train(data + 20000, sizes, 200, 2048, &dict), CODEC_OK);
        CHECK(total < 20000 && codec_dict_id(dict) != 0);
    }
    for (i = 0; i < N_FORMATS; i++) {
        codec_format f = ALL_FORMATS[i];
        test_tiny_buffers(f);
        test_flush_prefixes(f);
        test_frames(f);
        test_marshal_clone(f, NULL);
        test_dictionary(f, dict);
        test_bad_input(f);
    }
    codec_dict_free(dict);
    CHECK_DONE();
}
