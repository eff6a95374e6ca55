/* A resumable download, simulated.
 *
 * A compressed file arrives in pieces cut at random points. After each piece a NEW process
 * (this program run again with --step: fork + exec) picks up where the previous one stopped:
 * it restores the decoder from the state file on disk (codec_decoder_unmarshal), seeks the
 * download to the recorded input offset, truncates the output to the recorded output size,
 * decodes what has arrived, and saves the decoder again (codec_decoder_marshal, written to
 * a temporary file, synced, renamed). The state is taken mid-frame, between any two bytes.
 * At the end the output must be byte-identical to the original.
 *
 *   resume_download                      run the simulation for every format
 *   resume_download --step DIR FMT LAST  one step (what the simulation runs in new processes)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec.h"
#include "example_formats.h"

#define CUTS 8

/* ------------------------------------------------------------------ small file helpers */

static int write_file(const char *path, const unsigned char *p, size_t n, int flags) {
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644), ok = fd >= 0;
    while (ok && n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        ok = w > 0;
        if (ok) {
            p += w;
            n -= (size_t)w;
        }
    }
    if (fd >= 0 && (fsync(fd) != 0 || close(fd) != 0)) ok = 0;
    return ok ? 0 : -1;
}

/* Read the file from `offset` to its end; NULL on error (a missing file gives NULL, errno ENOENT). */
static unsigned char *read_file(const char *path, uint64_t offset, size_t *len) {
    struct stat sb;
    unsigned char *buf;
    size_t n = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size < offset || lseek(fd, (off_t)offset, SEEK_SET) < 0) {
        close(fd);
        return NULL;
    }
    *len = (size_t)((uint64_t)sb.st_size - offset);
    buf = malloc(*len + 1);
    while (buf && n < *len) {
        ssize_t r = read(fd, buf + n, *len - n);
        if (r <= 0) {
            free(buf);
            buf = NULL;
        } else {
            n += (size_t)r;
        }
    }
    close(fd);
    return buf;
}

/* ------------------------------------------------------------------ one step (a new process) */

/* Decode what has arrived in DIR/download; 0 ok, 1 error. `last`: the download is complete. */
static int step(const char *dir, codec_format fmt, int last) {
    char state_path[4096], tmp_path[4200], dl_path[4096], out_path[4096];
    codec_decoder *dec = NULL;
    unsigned char *state, *input = NULL, out[65536];
    size_t state_len = 0, in_len = 0, pos = 0;
    uint64_t consumed = 0, produced = 0;
    int out_fd = -1, rc = 1, resumed = 0;
    codec_status st;

    snprintf(state_path, sizeof state_path, "%s/state", dir);
    snprintf(tmp_path, sizeof tmp_path, "%s.tmp", state_path);
    snprintf(dl_path, sizeof dl_path, "%s/download", dir);
    snprintf(out_path, sizeof out_path, "%s/output", dir);

    /* 1. the decoder: from the saved state, or new for the first piece */
    errno = 0;
    if ((state = read_file(state_path, 0, &state_len)) != NULL) {
        st = codec_decoder_unmarshal(state, state_len, NULL, &dec);
        free(state);
        if (st != CODEC_OK) {
            fprintf(stderr, "step: unmarshal: %s: %s\n", codec_status_name(st), codec_last_error());
            return 1;
        }
        codec_decoder_position(dec, &consumed, &produced);
        resumed = 1;
    } else if (errno != ENOENT) {
        perror(state_path);
        return 1;
    } else if ((st = codec_decoder_new(fmt, &dec)) != CODEC_OK) {
        fprintf(stderr, "step: codec_decoder_new: %s: %s\n", codec_status_name(st), codec_last_error());
        return 1;
    }

    /* 2. the output: cut back to what the state recorded (a crash after the last save may
     * have written more), then append */
    out_fd = open(out_path, O_WRONLY | O_CREAT, 0644);
    if (out_fd < 0 || ftruncate(out_fd, (off_t)produced) != 0 || lseek(out_fd, (off_t)produced, SEEK_SET) < 0) {
        perror(out_path);
        goto done;
    }

    /* 3. the input: everything that arrived after the recorded offset */
    if (!(input = read_file(dl_path, consumed, &in_len))) {
        perror(dl_path);
        goto done;
    }
    for (;;) {
        size_t r = 0, w = 0;
        st = codec_decoder_decode(dec, input + pos, in_len - pos, &r, out, sizeof out, &w);
        pos += r;
        if (w && write(out_fd, out, w) != (ssize_t)w) {
            perror(out_path);
            goto done;
        }
        if (st < 0) {
            fprintf(stderr, "step: decode: %s: %s\n", codec_status_name(st), codec_decoder_last_error(dec));
            goto done;
        }
        if (st == CODEC_OK && pos == in_len) break; /* all input taken, all output delivered */
    }
    codec_decoder_position(dec, &consumed, &produced);
    printf("  step: %s at input %llu -> now input %llu, output %llu\n", resumed ? "resumed" : "started",
           (unsigned long long)(consumed - in_len), (unsigned long long)consumed, (unsigned long long)produced);

    /* 4. save: output durable first, then the state, atomically */
    if (fsync(out_fd) != 0) goto done;
    if (last) {
        if (!codec_decoder_at_frame_edge(dec)) {
            fprintf(stderr, "step: the download is complete but the stream is truncated\n");
            goto done;
        }
        unlink(state_path);
    } else {
        size_t need = 0, len = 0;
        unsigned char *blob;
        codec_decoder_marshal(dec, NULL, 0, &need); /* CODEC_E_BUFFER, with the size needed */
        blob = malloc(need);
        st = blob ? codec_decoder_marshal(dec, blob, need, &len) : CODEC_E_NOMEM;
        if (st != CODEC_OK || write_file(tmp_path, blob, len, O_TRUNC) != 0 || rename(tmp_path, state_path) != 0) {
            fprintf(stderr, "step: saving the state failed: %s\n", codec_status_name(st));
            free(blob);
            goto done;
        }
        free(blob);
    }
    rc = 0;
done:
    if (out_fd >= 0) close(out_fd);
    free(input);
    codec_decoder_free(dec);
    return rc;
}

/* ------------------------------------------------------------------ the simulation */

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Run `self --step dir fmt last` in a new process and wait for it. */
static int run_step(const char *self, const char *dir, codec_format fmt, int last) {
    char fmt_s[16], last_s[4];
    pid_t pid;
    int status;
    snprintf(fmt_s, sizeof fmt_s, "%d", (int)fmt);
    snprintf(last_s, sizeof last_s, "%d", last);
    fflush(stdout);
    if ((pid = fork()) < 0) return -1;
    if (pid == 0) {
        execlp(self, self, "--step", dir, fmt_s, last_s, (char *)NULL);
        perror("exec");
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

/* 0 ok, 1 failure, 2 skipped */
static int simulate(const char *self, codec_format fmt) {
    size_t n = getenv("CODEC_TEST_QUICK") ? 300000 : 3000000, comp_len = 0, cuts[CUTS], prev = 0, i;
    unsigned char *data = malloc(n), *comp = NULL, *result = NULL;
    char dir[] = "/tmp/resume_download.XXXXXX", path[4096];
    codec_encoder *enc = NULL;
    int rc = 1, have_dir = 0;
    codec_status st = codec_encoder_new(fmt, &enc);
    if (st != CODEC_OK || !data) goto done;

    /* the "remote file": log-like text, compressed in one frame */
    {
        static const char *words[] = {"GET ", "POST ", "/api/", "items/", "users/", "200 ", "404 ", "ms\n"};
        uint32_t x = 2463534242u;
        i = 0;
        while (i < n) {
            const char *w;
            x ^= x << 13; x ^= x >> 17; x ^= x << 5; /* xorshift32 */
            w = x % 3 ? words[x % 8] : NULL;
            if (w) {
                while (*w && i < n) data[i++] = (unsigned char)*w++;
            } else {
                data[i++] = (unsigned char)('0' + (x >> 8) % 10);
            }
        }
    }
    {
        size_t cap = codec_compress_bound(fmt, n), pos = 0;
        if (cap == 0) cap = n + 65536;
        comp = malloc(cap);
        for (;;) { /* CODEC_MORE_OUTPUT: give it more room and call again */
            size_t r = 0, w = 0;
            if (!comp) goto done;
            st = codec_encoder_encode(enc, data + pos, n - pos, &r, comp + comp_len, cap - comp_len, &w, CODEC_FINISH);
            pos += r;
            comp_len += w;
            if (st == CODEC_OK) break;
            if (st != CODEC_MORE_OUTPUT) {
                fprintf(stderr, "encode: %s: %s\n", codec_status_name(st), codec_encoder_last_error(enc));
                goto done;
            }
            comp = realloc(comp, cap *= 2);
        }
    }

    /* cut it at random points (the last piece ends the file) */
    srand(12345u + (unsigned)fmt);
    for (i = 0; i < CUTS - 1; i++) cuts[i] = 1 + (size_t)rand() % (comp_len - 1);
    cuts[CUTS - 1] = comp_len;
    qsort(cuts, CUTS, sizeof cuts[0], cmp_size);

    if (!mkdtemp(dir)) goto done;
    have_dir = 1;
    printf("%s: %zu bytes compressed to %zu, arriving in %d pieces\n", example_format_name(fmt), n, comp_len, CUTS);
    snprintf(path, sizeof path, "%s/download", dir);
    for (i = 0; i < CUTS; i++) {
        /* a piece arrives... */
        if (write_file(path, comp + prev, cuts[i] - prev, O_APPEND) != 0) goto done;
        prev = cuts[i];
        /* ...and a new process continues the decoding */
        if (run_step(self, dir, fmt, i == CUTS - 1) != 0) {
            fprintf(stderr, "%s: step %zu failed\n", example_format_name(fmt), i);
            goto done;
        }
    }
    snprintf(path, sizeof path, "%s/output", dir);
    {
        size_t len = 0;
        result = read_file(path, 0, &len);
        if (!result || len != n || memcmp(result, data, n) != 0) {
            fprintf(stderr, "%s: the output differs from the original\n", example_format_name(fmt));
            goto done;
        }
    }
    printf("%s: output byte-identical after %d processes\n", example_format_name(fmt), CUTS);
    rc = 0;
done:
    if (have_dir) {
        const char *names[] = {"download", "output", "state", "state.tmp"};
        for (i = 0; i < 4; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            unlink(path);
        }
        rmdir(dir);
    }
    codec_encoder_free(enc);
    free(data);
    free(comp);
    free(result);
    return rc;
}

int main(int argc, char **argv) {
    static const codec_format formats[] = {CODEC_FORMAT_ZSTD, CODEC_FORMAT_LZ4_FRAME, CODEC_FORMAT_LZ4_BLOCKS,
                                           CODEC_FORMAT_XZ,   CODEC_FORMAT_LZMA2_RAW, CODEC_FORMAT_LZMA_ALONE};
    size_t i;
    int failed = 0;
    if (argc == 5 && strcmp(argv[1], "--step") == 0) return step(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc != 1) {
        fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    for (i = 0; i < sizeof formats / sizeof formats[0]; i++) failed |= simulate(argv[0], formats[i]) == 1;
    return failed;
}
