/* Streaming with sync flush between two processes.
 *
 * A writer process compresses log messages one at a time and flushes after each one
 * (CODEC_FLUSH: everything so far becomes decodable, the frame stays open), sending the
 * compressed bytes over a socketpair. A reader process (fork) decodes whatever arrives and
 * checks each message against what it expects as soon as it is complete, then acknowledges
 * it. The writer waits for that acknowledgement (5 s at most) before sending the next
 * message, so a flush that did not make its message decodable fails the example instead of
 * being hidden by later data. Only codec.h is used (plus POSIX).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec.h"
#include "example_formats.h"

#define ACK_MESSAGE 'm' /* reader: one more message verified */
#define ACK_END 'e'     /* reader: the stream ended cleanly after every message */

static int n_messages(void) { return getenv("CODEC_TEST_QUICK") ? 40 : 300; }

/* Message i: what the writer sends and the reader expects. */
static size_t make_message(char *p, size_t cap, int i) {
    return (size_t)snprintf(p, cap, "%06d INFO session=%d user=u%03d event=%s latency_ms=%d\n", i, 1000 + i / 17,
                            (i * 37) % 250, i % 5 ? "click" : "purchase", (i * 7919) % 900);
}

/* MSG_NOSIGNAL: if the peer died, report an error instead of dying of SIGPIPE */
static int send_all(int fd, const unsigned char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Wait up to 5 s for one acknowledgement byte; returns it, or -1. */
static int wait_ack(int fd) {
    struct pollfd pfd;
    unsigned char c;
    pfd.fd = fd;
    pfd.events = POLLIN;
    if (poll(&pfd, 1, 5000) != 1 || read(fd, &c, 1) != 1) return -1;
    return c;
}

/* ------------------------------------------------------------------ the reader process */

static int reader(int fd, codec_format fmt) {
    codec_decoder *dec = NULL;
    unsigned char in[4096];
    static char text[1 << 16];    /* decoded bytes not yet checked */
    size_t have = 0;
    int next = 0, rc = 1;
    codec_status st;
    if ((st = codec_decoder_new(fmt, &dec)) != CODEC_OK) {
        fprintf(stderr, "reader: codec_decoder_new: %s\n", codec_status_name(st));
        return 1;
    }
    for (;;) {
        ssize_t n = read(fd, in, sizeof in);
        size_t pos = 0;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) goto done;
        if (n == 0) break; /* the writer is done */
        /* decode everything that arrived; loop while the decoder has more output */
        do {
            size_t r = 0, w = 0;
            st = codec_decoder_decode(dec, in + pos, (size_t)n - pos, &r, (unsigned char *)text + have,
                                      sizeof text - have, &w);
            pos += r;
            have += w;
            if (st < 0) {
                fprintf(stderr, "reader: decode: %s: %s\n", codec_status_name(st), codec_decoder_last_error(dec));
                goto done;
            }
        } while (pos < (size_t)n || st == CODEC_MORE_OUTPUT);
        /* check every complete message now, and acknowledge it */
        for (;;) {
            char want[200];
            size_t len = make_message(want, sizeof want, next);
            if (have < len) break;
            if (memcmp(text, want, len) != 0) {
                fprintf(stderr, "reader: message %d differs\n", next);
                goto done;
            }
            memmove(text, text + len, have - len);
            have -= len;
            next++;
            if (send_all(fd, (const unsigned char *)"m", 1) != 0) goto done;
        }
    }
    if (next != n_messages() || have != 0 || !codec_decoder_at_frame_edge(dec)) {
        fprintf(stderr, "reader: stream ended after %d messages (+%zu bytes), at frame edge: %d\n", next, have,
                (int)codec_decoder_at_frame_edge(dec));
        goto done;
    }
    rc = send_all(fd, (const unsigned char *)"e", 1) == 0 ? 0 : 1;
done:
    codec_decoder_free(dec);
    return rc;
}

/* ------------------------------------------------------------------ the writer process */

/* Compress src with `action` and send the result; 0 or -1. */
static int encode_send(codec_encoder *enc, int fd, const char *src, size_t n, codec_action action, size_t *sent) {
    unsigned char out[4096];
    size_t pos = 0;
    for (;;) {
        size_t r = 0, w = 0;
        codec_status st = codec_encoder_encode(enc, (const uint8_t *)src + pos, n - pos, &r, out, sizeof out, &w, action);
        pos += r;
        if (w && send_all(fd, out, w) != 0) return -1;
        *sent += w;
        if (st < 0) {
            fprintf(stderr, "writer: encode: %s: %s\n", codec_status_name(st), codec_encoder_last_error(enc));
            return -1;
        }
        if (st == CODEC_OK && pos == n) return 0; /* CODEC_MORE_OUTPUT: call again */
    }
}

/* 0 ok, 1 failure, 2 skipped */
static int run(codec_format fmt) {
    codec_encoder *enc = NULL;
    int sv[2], status, i, rc = 1, messages = n_messages();
    size_t sent = 0, plain = 0;
    pid_t pid;
    codec_status st = codec_encoder_new(fmt, &enc);
    if (st != CODEC_OK) {
        fprintf(stderr, "codec_encoder_new: %s\n", codec_status_name(st));
        return 1;
    }
    if (fmt == CODEC_FORMAT_LZMA_ALONE) {
        /* .lzma (LZMA1) cannot flush: the encoder says so before consuming anything */
        size_t r, w;
        unsigned char out[64];
        st = codec_encoder_encode(enc, (const uint8_t *)"x", 1, &r, out, sizeof out, &w, CODEC_FLUSH);
        printf("%-10s cannot sync-flush: %s (%s), as documented\n", "lzma", codec_status_name(st),
               codec_encoder_last_error(enc));
        codec_encoder_free(enc);
        return st == CODEC_E_UNSUPPORTED && r == 0 ? 0 : 1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        codec_encoder_free(enc);
        return 1;
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        codec_encoder_free(enc);
        return 1;
    }
    if (pid == 0) { /* the reader */
        close(sv[0]);
        codec_encoder_free(enc); /* the child's copy */
        rc = reader(sv[1], fmt);
        close(sv[1]);
        exit(rc);
    }
    close(sv[1]);
    for (i = 0; i < messages; i++) {
        char msg[200];
        size_t n = make_message(msg, sizeof msg, i);
        plain += n;
        if (encode_send(enc, sv[0], msg, n, CODEC_FLUSH, &sent) != 0) goto done;
        if (wait_ack(sv[0]) != ACK_MESSAGE) {
            fprintf(stderr, "%s: message %d was not decodable after its flush\n", example_format_name(fmt), i);
            goto done;
        }
    }
    if (encode_send(enc, sv[0], NULL, 0, CODEC_FINISH, &sent) != 0) goto done;
    shutdown(sv[0], SHUT_WR);
    if (wait_ack(sv[0]) != ACK_END) {
        fprintf(stderr, "%s: the reader did not confirm the end of the stream\n", example_format_name(fmt));
        goto done;
    }
    rc = 0;
    printf("%-10s %d messages, %zu -> %zu bytes; each verified by the reader as soon as its flush arrived\n",
           example_format_name(fmt), messages, plain, sent);
done:
    close(sv[0]);
    codec_encoder_free(enc);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) rc = 1;
    return rc;
}

int main(void) {
    static const codec_format formats[] = {CODEC_FORMAT_ZSTD, CODEC_FORMAT_LZ4_FRAME, CODEC_FORMAT_LZ4_BLOCKS,
                                           CODEC_FORMAT_XZ,   CODEC_FORMAT_LZMA2_RAW, CODEC_FORMAT_LZMA_ALONE};
    size_t i;
    int failed = 0;
    for (i = 0; i < sizeof formats / sizeof formats[0]; i++) failed |= run(formats[i]) == 1;
    return failed;
}
