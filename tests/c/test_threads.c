/* 8 threads, each with its own encoders and decoders, all sharing one codec_dict (a trained
 * zstd dictionary, whose digested forms the library builds lazily on first use), over every
 * format: the ones that take a dictionary use the shared one, the others run without. Each
 * thread also clones and marshals its decoders mid-stream. Run plainly, under ASan/UBSan and
 * under helgrind (`make test-c-helgrind`). */
#include <pthread.h>

#include "util.h"

#define THREADS 8

static codec_dict *shared_dict;

struct job {
    int id;
    int failures;
    char msg[256];
};

#define T_CHECK(j, cond)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            (j)->failures++;                                                                    \
            snprintf((j)->msg, sizeof (j)->msg, "thread %d line %d: %s", (j)->id, __LINE__, #cond); \
        }                                                                                       \
    } while (0)

/* Decode `z` in pieces; at the middle, continue with a clone (odd rounds) or a marshalled and
 * restored copy (even rounds). */
static codec_status decode_interrupted(struct job *j, codec_format f, const unsigned char *z, size_t n, int round,
                                       buf_t *out) {
    codec_decoder *d = new_decoder(f, takes_dict(f) ? shared_dict : NULL), *c = NULL;
    unsigned char tmp[1500];
    size_t pos = 0, r, w;
    codec_status st;
    int switched = 0;
    T_CHECK(j, d != NULL);
    for (;;) {
        size_t give = n - pos < 700 ? n - pos : 700;
        if (!switched && pos >= n / 2) {
            switched = 1;
            if (round & 1) {
                T_CHECK(j, codec_decoder_clone(d, &c) == CODEC_OK);
            } else {
                size_t len = 0;
                unsigned char *state;
                T_CHECK(j, codec_decoder_marshal(d, NULL, 0, &len) == CODEC_E_BUFFER);
                state = (unsigned char *)malloc(len);
                T_CHECK(j, codec_decoder_marshal(d, state, len, &len) == CODEC_OK);
                T_CHECK(j, codec_decoder_unmarshal(state, len, takes_dict(f) ? shared_dict : NULL, &c) == CODEC_OK);
                free(state);
            }
            if (c) {
                codec_decoder_free(d);
                d = c;
            }
        }
        st = codec_decoder_decode(d, z + pos, give, &r, tmp, sizeof tmp, &w);
        pos += r;
        buf_put(out, tmp, w);
        if (st < 0) break;
        if (st == CODEC_OK && pos == n && w == 0) break;
    }
    if (st >= 0) {
        T_CHECK(j, codec_decoder_at_frame_edge(d));
        st = CODEC_OK;
    }
    codec_decoder_free(d);
    return st;
}

static void *worker(void *arg) {
    struct job *j = (struct job *)arg;
    size_t n = quick_mode() ? 20000 : 150000;
    int rounds = quick_mode() ? 1 : 4;
    unsigned char *data = (unsigned char *)malloc(n);
    int round, i;
    fill_data(data, n, 100 + (unsigned)j->id);
    for (round = 0; round < rounds; round++) {
        for (i = 0; i < N_FORMATS; i++) {
            codec_format f = ALL_FORMATS[(i + j->id) % N_FORMATS];
            const codec_dict *dict = takes_dict(f) ? shared_dict : NULL;
            codec_encoder *e = new_encoder(f, dict);
            buf_t z = {0}, out = {0};
            T_CHECK(j, e != NULL);
            if (!e) continue;
            /* different levels on different threads: several digested dictionaries at once */
            if (f == CODEC_FORMAT_ZSTD) T_CHECK(j, codec_encoder_set_param(e, CODEC_PARAM_LEVEL, 1 + (j->id + round) % 4) == CODEC_OK);
            if (can_flush(f)) {
                T_CHECK(j, enc_all(e, data, n / 2, CODEC_FLUSH, 3000, &z) == CODEC_OK);
                T_CHECK(j, enc_all(e, data + n / 2, n - n / 2, CODEC_FINISH, 3000, &z) == CODEC_OK);
            } else {
                T_CHECK(j, enc_all(e, data, n, CODEC_FINISH, 3000, &z) == CODEC_OK);
            }
            codec_encoder_free(e);
            T_CHECK(j, decode_interrupted(j, f, z.p, z.len, round + j->id, &out) == CODEC_OK);
            T_CHECK(j, out.len == n && mem_eq(out.p, data, n));
            /* the one-shot calls too (no dictionary) */
            if (!dict) {
                size_t w = 0;
                unsigned char *back = (unsigned char *)malloc(n);
                T_CHECK(j, codec_decompress(f, z.p, z.len, back, n, &w) == CODEC_OK);
                T_CHECK(j, w == n && mem_eq(back, data, n));
                free(back);
            }
            T_CHECK(j, codec_dict_id(shared_dict) != 0);
            buf_free(&z);
            buf_free(&out);
        }
    }
    free(data);
    return NULL;
}

int main(void) {
    pthread_t th[THREADS];
    struct job jobs[THREADS];
    size_t n_samples = 300, i, sizes[300];
    unsigned char *samples = (unsigned char *)malloc(300 * 400);
    size_t total = 0;
    int t;
    for (i = 0; i < n_samples; i++) {
        sizes[i] = 100 + i % 300;
        fill_data(samples + total, sizes[i], (unsigned)(1000 + i));
        total += sizes[i];
    }
    CHECK_ST(codec_dict_train(samples, sizes, n_samples, 4096, &shared_dict), CODEC_OK);
    free(samples);
    if (!shared_dict) CHECK_DONE();
    for (t = 0; t < THREADS; t++) {
        jobs[t].id = t;
        jobs[t].failures = 0;
        jobs[t].msg[0] = 0;
        CHECK(pthread_create(&th[t], NULL, worker, &jobs[t]) == 0);
    }
    for (t = 0; t < THREADS; t++) {
        CHECK(pthread_join(th[t], NULL) == 0);
        if (jobs[t].failures) {
            fprintf(stderr, "%d failure(s), last: %s\n", jobs[t].failures, jobs[t].msg);
            check_failures++;
        }
    }
    codec_dict_free(shared_dict);
    CHECK_DONE();
}
