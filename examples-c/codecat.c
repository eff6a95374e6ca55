/* codecat: compress and decompress zstd, LZ4 (frame and block streaming), xz, raw LZMA2 and
 * .lzma from the command line, with periodic format flushes, dictionaries and resumable
 * decompression. It uses only codec.h; see docs/codecat.md for the full description.
 *
 *   codecat [-d] [-f FORMAT] [-l LEVEL] [-D DICT] [-o name=value ...] [--flush-every N]
 *           [--state FILE] [-c] [-k] [-q] [-v] [-T N] [--help] [IN [OUT]]
 *
 * Exit status: 0 success, 1 error, 2 usage error. Messages: "codecat: FILE: what went wrong".
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"

#define IN_CHUNK (128u * 1024u)
#define OUT_CHUNK (256u * 1024u)
#define MAX_PARAMS 64
#define DEFAULT_STATE_EVERY (4u * 1024u * 1024u) /* bytes of input between state saves */
#define STATE_SECONDS 5.0                        /* ... or this long, for slow inputs */

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

/* ------------------------------------------------------------------ formats and parameters */

/* Parameter families: a format's own parameters carry its family in their C name. */
enum family { FAM_GENERIC, FAM_ZSTD, FAM_LZ4, FAM_LZ4BLOCKS, FAM_XZ, FAM_COUNT };

static const struct format_info {
    const char *name;
    codec_format fmt;
    const char *suffix; /* what compression appends */
    enum family family;
} formats[] = {
    {"zstd", CODEC_FORMAT_ZSTD, ".zst", FAM_ZSTD},
    {"lz4", CODEC_FORMAT_LZ4_FRAME, ".lz4", FAM_LZ4},
    {"lz4blocks", CODEC_FORMAT_LZ4_BLOCKS, ".lz4b", FAM_LZ4BLOCKS},
    {"xz", CODEC_FORMAT_XZ, ".xz", FAM_XZ},
    {"lzma2", CODEC_FORMAT_LZMA2_RAW, ".lzma2", FAM_XZ},
    {"lzma", CODEC_FORMAT_LZMA_ALONE, ".lzma", FAM_XZ},
};
#define N_FORMATS (sizeof formats / sizeof formats[0])

/* `-o` names: the C parameter names in lower case without CODEC_PARAM_ and the family. */
static const struct param_info {
    const char *name;
    enum family family;
    codec_param param;
} params[] = {
    {"level", FAM_GENERIC, CODEC_PARAM_LEVEL},
    {"checksum", FAM_GENERIC, CODEC_PARAM_CHECKSUM},
    {"threads", FAM_GENERIC, CODEC_PARAM_THREADS},
    {"memlimit", FAM_GENERIC, CODEC_PARAM_MEMLIMIT},
    {"window_log", FAM_ZSTD, CODEC_PARAM_ZSTD_WINDOW_LOG},
    {"hash_log", FAM_ZSTD, CODEC_PARAM_ZSTD_HASH_LOG},
    {"chain_log", FAM_ZSTD, CODEC_PARAM_ZSTD_CHAIN_LOG},
    {"search_log", FAM_ZSTD, CODEC_PARAM_ZSTD_SEARCH_LOG},
    {"min_match", FAM_ZSTD, CODEC_PARAM_ZSTD_MIN_MATCH},
    {"target_length", FAM_ZSTD, CODEC_PARAM_ZSTD_TARGET_LENGTH},
    {"strategy", FAM_ZSTD, CODEC_PARAM_ZSTD_STRATEGY},
    {"enable_long_distance_matching", FAM_ZSTD, CODEC_PARAM_ZSTD_ENABLE_LONG_DISTANCE_MATCHING},
    {"ldm_hash_log", FAM_ZSTD, CODEC_PARAM_ZSTD_LDM_HASH_LOG},
    {"ldm_min_match", FAM_ZSTD, CODEC_PARAM_ZSTD_LDM_MIN_MATCH},
    {"ldm_bucket_size_log", FAM_ZSTD, CODEC_PARAM_ZSTD_LDM_BUCKET_SIZE_LOG},
    {"ldm_hash_rate_log", FAM_ZSTD, CODEC_PARAM_ZSTD_LDM_HASH_RATE_LOG},
    {"content_size_flag", FAM_ZSTD, CODEC_PARAM_ZSTD_CONTENT_SIZE_FLAG},
    {"checksum_flag", FAM_ZSTD, CODEC_PARAM_ZSTD_CHECKSUM_FLAG},
    {"dict_id_flag", FAM_ZSTD, CODEC_PARAM_ZSTD_DICT_ID_FLAG},
    {"nb_workers", FAM_ZSTD, CODEC_PARAM_ZSTD_NB_WORKERS},
    {"job_size", FAM_ZSTD, CODEC_PARAM_ZSTD_JOB_SIZE},
    {"overlap_log", FAM_ZSTD, CODEC_PARAM_ZSTD_OVERLAP_LOG},
    {"window_log_max", FAM_ZSTD, CODEC_PARAM_ZSTD_WINDOW_LOG_MAX},
    {"block_size", FAM_LZ4, CODEC_PARAM_LZ4_BLOCK_SIZE},
    {"linked_blocks", FAM_LZ4, CODEC_PARAM_LZ4_LINKED_BLOCKS},
    {"content_checksum", FAM_LZ4, CODEC_PARAM_LZ4_CONTENT_CHECKSUM},
    {"block_checksum", FAM_LZ4, CODEC_PARAM_LZ4_BLOCK_CHECKSUM},
    {"favor_dec_speed", FAM_LZ4, CODEC_PARAM_LZ4_FAVOR_DEC_SPEED},
    {"page_size", FAM_LZ4BLOCKS, CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE},
    {"prefix_width", FAM_LZ4BLOCKS, CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH},
    {"acceleration", FAM_LZ4BLOCKS, CODEC_PARAM_LZ4BLOCKS_ACCELERATION},
    {"hc_level", FAM_LZ4BLOCKS, CODEC_PARAM_LZ4BLOCKS_HC_LEVEL},
    {"preset", FAM_XZ, CODEC_PARAM_XZ_PRESET},
    {"extreme", FAM_XZ, CODEC_PARAM_XZ_EXTREME},
    {"check", FAM_XZ, CODEC_PARAM_XZ_CHECK},
    {"dict_size", FAM_XZ, CODEC_PARAM_XZ_DICT_SIZE},
    {"lc", FAM_XZ, CODEC_PARAM_XZ_LC},
    {"lp", FAM_XZ, CODEC_PARAM_XZ_LP},
    {"pb", FAM_XZ, CODEC_PARAM_XZ_PB},
    {"mode", FAM_XZ, CODEC_PARAM_XZ_MODE},
    {"match_finder", FAM_XZ, CODEC_PARAM_XZ_MATCH_FINDER},
    {"nice_len", FAM_XZ, CODEC_PARAM_XZ_NICE_LEN},
    {"depth", FAM_XZ, CODEC_PARAM_XZ_DEPTH},
    {"delta_dist", FAM_XZ, CODEC_PARAM_XZ_DELTA_DIST},
    {"bcj_x86", FAM_XZ, CODEC_PARAM_XZ_BCJ_X86},
    {"block_size", FAM_XZ, CODEC_PARAM_XZ_BLOCK_SIZE},
};
#define N_PARAMS (sizeof params / sizeof params[0])

/* Symbolic values accepted by `-o` besides numbers. */
static const struct value_name {
    codec_param param;
    const char *name;
    int64_t value;
} value_names[] = {
    {CODEC_PARAM_XZ_CHECK, "none", CODEC_CHECK_NONE},     {CODEC_PARAM_XZ_CHECK, "crc32", CODEC_CHECK_CRC32},
    {CODEC_PARAM_XZ_CHECK, "crc64", CODEC_CHECK_CRC64},   {CODEC_PARAM_XZ_CHECK, "sha256", CODEC_CHECK_SHA256},
    {CODEC_PARAM_CHECKSUM, "none", CODEC_CHECK_NONE},     {CODEC_PARAM_CHECKSUM, "crc32", CODEC_CHECK_CRC32},
    {CODEC_PARAM_CHECKSUM, "crc64", CODEC_CHECK_CRC64},   {CODEC_PARAM_CHECKSUM, "sha256", CODEC_CHECK_SHA256},
    {CODEC_PARAM_ZSTD_STRATEGY, "fast", 1},               {CODEC_PARAM_ZSTD_STRATEGY, "dfast", 2},
    {CODEC_PARAM_ZSTD_STRATEGY, "greedy", 3},             {CODEC_PARAM_ZSTD_STRATEGY, "lazy", 4},
    {CODEC_PARAM_ZSTD_STRATEGY, "lazy2", 5},              {CODEC_PARAM_ZSTD_STRATEGY, "btlazy2", 6},
    {CODEC_PARAM_ZSTD_STRATEGY, "btopt", 7},              {CODEC_PARAM_ZSTD_STRATEGY, "btultra", 8},
    {CODEC_PARAM_ZSTD_STRATEGY, "btultra2", 9},           {CODEC_PARAM_XZ_MATCH_FINDER, "hc3", 0x03},
    {CODEC_PARAM_XZ_MATCH_FINDER, "hc4", 0x04},           {CODEC_PARAM_XZ_MATCH_FINDER, "bt2", 0x12},
    {CODEC_PARAM_XZ_MATCH_FINDER, "bt3", 0x13},           {CODEC_PARAM_XZ_MATCH_FINDER, "bt4", 0x14},
    {CODEC_PARAM_XZ_MODE, "fast", 1},                     {CODEC_PARAM_XZ_MODE, "normal", 2},
};
#define N_VALUE_NAMES (sizeof value_names / sizeof value_names[0])

static const struct format_info *format_by_name(const char *name) {
    size_t i;
    for (i = 0; i < N_FORMATS; i++)
        if (strcmp(formats[i].name, name) == 0) return &formats[i];
    return NULL;
}

static const struct format_info *format_by_value(codec_format f) {
    size_t i;
    for (i = 0; i < N_FORMATS; i++)
        if (formats[i].fmt == f) return &formats[i];
    return NULL;
}

/* ------------------------------------------------------------------ options */

struct param_setting {
    const char *text; /* "name=value" as given, for messages */
    codec_param param;
    int64_t value;
};

static struct options {
    int decompress, to_stdout, keep, remove_source, force, quiet, verbose, progress;
    const struct format_info *format; /* NULL = default (zstd) / auto-detect */
    int have_level;
    int64_t level;
    const char *dict_path;
    const char *raw_params[MAX_PARAMS];
    size_t n_params;
    struct param_setting settings[MAX_PARAMS + 2];
    size_t n_settings;
    uint64_t flush_every;
    const char *state_path;
    uint64_t state_every;
    int have_threads;
    int64_t threads;
    const char *in_path, *out_path; /* NULL = stdin / stdout */
} opt;

/* What is being worked on, for messages, progress and cleanup. */
static struct job {
    const char *in_name, *out_name; /* display names */
    int in_fd, out_fd;
    int out_created;      /* we created the output file: remove it on failure */
    uint64_t in_size;     /* 0 when unknown */
    uint64_t in_total;    /* bytes read from the input (since the start of the stream) */
    uint64_t out_total;   /* bytes written to the output (ditto) */
    uint64_t in_base;     /* where this run started (resume) */
    uint64_t out_base;
    double start, last_progress;
    int progress_shown;
    int detect;           /* check the first bytes with codec_detect_format */
    codec_status detect_status;
} job;

static volatile sig_atomic_t interrupted;

static const char usage_text[] =
    "Usage: codecat [OPTION]... [IN [OUT]]\n"
    "Compress or decompress IN (default: standard input) to OUT with libcodec.\n"
    "Without OUT: standard output when IN is standard input or with -c; otherwise IN with the\n"
    "format's suffix added (compression) or removed (decompression).\n"
    "\n"
    "  -d, --decompress     decompress (the format is detected unless -f is given)\n"
    "  -f, --format=NAME    zstd (default), lz4, lz4blocks, xz, lzma2 (raw LZMA2) or lzma;\n"
    "                       decompressing lz4blocks and lzma2 needs -f\n"
    "  -l, --level=LEVEL    compression level (also -1 .. -22); see `-o level`\n"
    "  -D, --dict=FILE      dictionary for compression and decompression\n"
    "  -o NAME=VALUE        format parameter, e.g. -o window_log=24 -o dict_size=64M\n"
    "                       (the C names in lower case without CODEC_PARAM_ and the format;\n"
    "                       values take K, M, G suffixes; `-o help` lists them)\n"
    "      --flush-every=N  flush the format every N input bytes (K, M, G suffixes): all\n"
    "                       output so far becomes decodable and is written out at once\n"
    "      --state=FILE     resumable decompression: save the decoder to FILE every few MB\n"
    "                       and on interruption; resume from it when FILE exists; removed\n"
    "                       after success (needs an OUT file)\n"
    "      --state-every=N  save the state every N input bytes (default 4M)\n"
    "  -c, --stdout         write to standard output\n"
    "  -k, --keep           keep IN (the default; see --rm)\n"
    "      --rm             remove IN after success\n"
    "      --force          overwrite OUT; read or write compressed data on a terminal\n"
    "  -T, --threads=N      worker threads for compression (0 = one per CPU)\n"
    "  -q, --quiet          no progress or notices (-qq: no error messages either)\n"
    "  -v, --verbose        print sizes, ratio and speed at the end\n"
    "      --no-progress    never show the progress line\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 success, 1 error, 2 usage error.\n";

/* ------------------------------------------------------------------ messages */

static void clear_progress(void) {
    if (job.progress_shown) {
        fprintf(stderr, "\r%79s\r", "");
        job.progress_shown = 0;
    }
}

static void msg(const char *fmt, ...) {
    va_list ap;
    if (opt.quiet >= 2) return;
    clear_progress();
    fputs("codecat: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void notice(const char *fmt, ...) {
    va_list ap;
    if (opt.quiet) return;
    clear_progress();
    fputs("codecat: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int usage_error(const char *fmt, ...) {
    va_list ap;
    fputs("codecat: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'codecat --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* "what: CODEC_E_X: library message" for a failed libcodec call. */
static void lib_error(const char *name, const char *what, codec_status st, const char *detail) {
    if (detail && *detail)
        msg("%s: %s: %s (%s)", name, what, detail, codec_status_name(st));
    else
        msg("%s: %s (%s)", name, what, codec_status_name(st));
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(char *buf, size_t cap, double n) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (n >= 1024 && u < 4) {
        n /= 1024;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", n, units[u]);
}

/* A progress line on a terminal, at most 4 times a second, after the first half second. */
static void progress(void) {
    double t;
    char a[32], b[32], sp[32];
    if (!opt.progress) return;
    t = now();
    if (t - job.start < 0.5 || t - job.last_progress < 0.25) return;
    job.last_progress = t;
    human(a, sizeof a, (double)job.in_total);
    human(b, sizeof b, (double)job.out_total);
    human(sp, sizeof sp, (double)(job.in_total - job.in_base) / (t - job.start));
    if (job.in_size)
        fprintf(stderr, "\rcodecat: %.20s: %3.0f%%  %s -> %s  %s/s   ", job.in_name,
                100.0 * (double)job.in_total / (double)job.in_size, a, b, sp);
    else
        fprintf(stderr, "\rcodecat: %.20s: %s -> %s  %s/s   ", job.in_name, a, b, sp);
    job.progress_shown = 1;
}

/* ------------------------------------------------------------------ I/O */

static void on_signal(int sig) { interrupted = sig; }

static void catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Read up to `cap` bytes; 0 at end of input, -1 on error (errno), -2 when interrupted. */
static ssize_t read_some(int fd, unsigned char *buf, size_t cap) {
    for (;;) {
        ssize_t n;
        if (interrupted) return -2;
        n = read(fd, buf, cap);
        if (n >= 0) return n;
        if (errno != EINTR) return -1;
    }
}

/* Write everything; 0 or -1 (errno). A signal does not stop a write half-way. */
static int write_all(int fd, const unsigned char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int emit(const unsigned char *p, size_t n) {
    if (n && write_all(job.out_fd, p, n) != 0) {
        msg("%s: write error: %s", job.out_name, strerror(errno));
        return -1;
    }
    job.out_total += n;
    return 0;
}

/* Read a whole (small) file: the dictionary or the state. */
static unsigned char *slurp(const char *path, size_t *len) {
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    for (;;) {
        ssize_t r;
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (!nb) {
                free(buf);
                close(fd);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

/* Make everything written to `fd` durable. Pipes and terminals cannot be synced: fine. */
static int sync_fd(int fd) {
    if (fsync(fd) == 0 || errno == EINVAL || errno == EROFS) return 0;
    return -1;
}

/* ------------------------------------------------------------------ parsing */

/* An integer with an optional K/KiB, M/MiB, G/GiB suffix (powers of 1024). */
static int parse_int(const char *s, int64_t *out) {
    char *end;
    long long v;
    int64_t mul = 1;
    errno = 0;
    v = strtoll(s, &end, 0);
    if (end == s || errno) return -1;
    if (*end) {
        char c = *end++;
        if (c == 'k' || c == 'K') mul = 1024;
        else if (c == 'm' || c == 'M') mul = 1024 * 1024;
        else if (c == 'g' || c == 'G') mul = 1024 * 1024 * 1024;
        else return -1;
        if (strcmp(end, "") != 0 && strcmp(end, "iB") != 0 && strcmp(end, "B") != 0) return -1;
    }
    if (v > INT64_MAX / mul || v < INT64_MIN / mul) return -1;
    *out = (int64_t)v * mul;
    return 0;
}

static int parse_size(const char *s, uint64_t *out) {
    int64_t v;
    if (parse_int(s, &v) != 0 || v <= 0) return -1;
    *out = (uint64_t)v;
    return 0;
}

static void list_params(void) {
    static const char *fam_names[FAM_COUNT] = {"all formats", "zstd", "lz4", "lz4blocks", "xz, lzma2, lzma"};
    int f;
    size_t i;
    printf("Parameters for -o NAME=VALUE (see CODEC_PARAM_* in codec.h):\n");
    for (f = 0; f < FAM_COUNT; f++) {
        int col = 0;
        printf("  %s:\n   ", fam_names[f]);
        for (i = 0; i < N_PARAMS; i++) {
            if (params[i].family != (enum family)f) continue;
            if (col + (int)strlen(params[i].name) > 70) {
                printf("\n   ");
                col = 0;
            }
            col += printf(" %s", params[i].name);
        }
        printf("\n");
    }
    printf("Named values: check=none|crc32|crc64|sha256, strategy=fast..btultra2,\n"
           "match_finder=hc3|hc4|bt2|bt3|bt4, mode=fast|normal.\n");
}

/* The parameter `name` means for format `fi` (NULL: auto-detecting decoder, any family). */
static int lookup_param(const char *name, const struct format_info *fi, codec_param *out) {
    size_t i;
    int found = 0;
    if (fi) {
        for (i = 0; i < N_PARAMS; i++)
            if (params[i].family == fi->family && strcmp(params[i].name, name) == 0) {
                *out = params[i].param;
                return 1;
            }
    } else {
        for (i = 0; i < N_PARAMS; i++)
            if (params[i].family != FAM_GENERIC && strcmp(params[i].name, name) == 0) {
                *out = params[i].param;
                found++;
            }
        if (found) return found; /* > 1: ambiguous */
    }
    for (i = 0; i < N_PARAMS; i++)
        if (params[i].family == FAM_GENERIC && strcmp(params[i].name, name) == 0) {
            *out = params[i].param;
            return 1;
        }
    return 0;
}

/* Turn "-o name=value" into a checked setting. Returns 0 or EXIT_USAGE. */
static int resolve_param(const char *text, const struct format_info *fi, struct param_setting *s) {
    char name[64];
    const char *eq = strchr(text, '='), *val;
    const char *fmt_name = fi ? fi->name : "auto-detected formats";
    codec_format fmt = fi ? fi->fmt : CODEC_FORMAT_AUTO;
    int64_t lo, hi;
    size_t i;
    int found;
    codec_status st;
    if (!eq || eq == text || (size_t)(eq - text) >= sizeof name)
        return usage_error("-o %s: expected NAME=VALUE", text);
    memcpy(name, text, (size_t)(eq - text));
    name[eq - text] = '\0';
    val = eq + 1;
    found = lookup_param(name, fi, &s->param);
    if (found == 0) return usage_error("-o %s: unknown parameter '%s' for %s (`codecat -o help` lists them)", text, name, fmt_name);
    if (found > 1) return usage_error("-o %s: '%s' is ambiguous when the format is detected; give -f", text, name);
    s->text = text;
    for (i = 0; i < N_VALUE_NAMES; i++)
        if (value_names[i].param == s->param && strcmp(value_names[i].name, val) == 0) break;
    if (i < N_VALUE_NAMES)
        s->value = value_names[i].value;
    else if (parse_int(val, &s->value) != 0)
        return usage_error("-o %s: '%s' is not a number", text, val);
    st = codec_param_bounds(fmt, s->param, &lo, &hi);
    if (st == CODEC_E_UNSUPPORTED)
        return usage_error("-o %s: '%s' does not apply to %s%s", text, name, fmt_name,
                           opt.decompress ? " decompression" : "");
    if (st != CODEC_OK) return usage_error("-o %s: %s (%s)", text, codec_last_error(), codec_status_name(st));
    /* zstd's "0 = from level" parameters accept 0 outside their range: let the library judge. */
    if ((s->value < lo || s->value > hi) && s->value != 0)
        return usage_error("-o %s: %" PRId64 " is out of range for %s: %" PRId64 "..%" PRId64, text, s->value,
                           fmt_name, lo, hi);
    return 0;
}

/* An option's argument: "-fzstd", "-f zstd", "--format=zstd" or "--format zstd". */
static const char *take_arg(int argc, char **argv, int *i, const char *inline_arg, const char *optname) {
    if (inline_arg) return inline_arg;
    if (*i + 1 >= argc) {
        usage_error("option %s needs an argument", optname);
        return NULL;
    }
    return argv[++*i];
}

static int set_option(char key, const char *arg) {
    int64_t v;
    switch (key) {
    case 'f':
        if (!(opt.format = format_by_name(arg)))
            return usage_error("-f %s: unknown format (zstd, lz4, lz4blocks, xz, lzma2, lzma)", arg);
        return 0;
    case 'l':
        if (parse_int(arg, &v) != 0) return usage_error("-l %s: not a number", arg);
        opt.have_level = 1;
        opt.level = v;
        return 0;
    case 'D': opt.dict_path = arg; return 0;
    case 'o':
        if (strcmp(arg, "help") == 0) {
            list_params();
            exit(EXIT_OK);
        }
        if (opt.n_params == MAX_PARAMS) return usage_error("too many -o options");
        opt.raw_params[opt.n_params++] = arg;
        return 0;
    case 'T':
        if (parse_int(arg, &v) != 0 || v < 0) return usage_error("-T %s: expected a number of threads", arg);
        opt.have_threads = 1;
        opt.threads = v;
        return 0;
    case 'F':
        if (parse_size(arg, &opt.flush_every) != 0) return usage_error("--flush-every %s: expected a size > 0", arg);
        return 0;
    case 'S': opt.state_path = arg; return 0;
    case 'E':
        if (parse_size(arg, &opt.state_every) != 0) return usage_error("--state-every %s: expected a size > 0", arg);
        return 0;
    }
    return usage_error("internal: unknown option key %c", key);
}

static int parse_args(int argc, char **argv) {
    static const struct {
        const char *name;
        char key;    /* short equivalent, or a private key for long-only options */
        int has_arg;
    } longs[] = {
        {"decompress", 'd', 0}, {"uncompress", 'd', 0}, {"format", 'f', 1}, {"level", 'l', 1},
        {"dict", 'D', 1}, {"flush-every", 'F', 1}, {"state", 'S', 1}, {"state-every", 'E', 1},
        {"stdout", 'c', 0}, {"keep", 'k', 0}, {"rm", 'R', 0}, {"force", 'X', 0},
        {"quiet", 'q', 0}, {"verbose", 'v', 0}, {"threads", 'T', 1}, {"help", 'h', 0},
        {"no-progress", 'P', 0},
    };
    const char *pos[3];
    int n_pos = 0, i, only_pos = 0;
    opt.state_every = DEFAULT_STATE_EVERY;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (n_pos == 2) return usage_error("too many file names (codecat takes IN and OUT)");
            pos[n_pos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (a[1] == '-') { /* long option */
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2), k;
            for (k = 0; k < sizeof longs / sizeof longs[0]; k++)
                if (strlen(longs[k].name) == len && strncmp(longs[k].name, a + 2, len) == 0) break;
            if (k == sizeof longs / sizeof longs[0]) return usage_error("unknown option '%s'", a);
            if (!longs[k].has_arg && eq) return usage_error("option '--%s' takes no argument", longs[k].name);
            if (longs[k].has_arg) {
                const char *arg = take_arg(argc, argv, &i, eq ? eq + 1 : NULL, a);
                int rc;
                if (!arg) return EXIT_USAGE;
                if ((rc = set_option(longs[k].key, arg))) return rc;
                continue;
            }
            switch (longs[k].key) {
            case 'd': opt.decompress = 1; break;
            case 'c': opt.to_stdout = 1; break;
            case 'k': opt.keep = 1; opt.remove_source = 0; break;
            case 'R': opt.remove_source = 1; opt.keep = 0; break;
            case 'X': opt.force = 1; break;
            case 'q': opt.quiet++; break;
            case 'v': opt.verbose = 1; break;
            case 'P': opt.progress = -1; break;
            case 'h': fputs(usage_text, stdout); exit(EXIT_OK);
            }
            continue;
        }
        if (a[1] >= '0' && a[1] <= '9') { /* -19: level, as zstd and xz spell it */
            int64_t v;
            if (parse_int(a + 1, &v) != 0) return usage_error("unknown option '%s'", a);
            opt.have_level = 1;
            opt.level = v;
            continue;
        }
        for (a++; *a; a++) { /* bundled short options: -dc, -kq -f zstd, -l19 */
            int took_arg = 0;
            switch (*a) {
            case 'd': opt.decompress = 1; break;
            case 'c': opt.to_stdout = 1; break;
            case 'k': opt.keep = 1; opt.remove_source = 0; break;
            case 'q': opt.quiet++; break;
            case 'v': opt.verbose = 1; break;
            case 'h': fputs(usage_text, stdout); exit(EXIT_OK);
            case 'f': case 'l': case 'D': case 'o': case 'T': {
                /* the rest of the word is the argument ("-l19"), else the next word */
                char name[3] = {'-', *a, '\0'};
                const char *arg = take_arg(argc, argv, &i, a[1] ? a + 1 : NULL, name);
                int rc;
                if (!arg) return EXIT_USAGE;
                if ((rc = set_option(*a, arg))) return rc;
                took_arg = 1;
                break;
            }
            default: {
                char bad[3] = {'-', *a, '\0'};
                return usage_error("unknown option '%s'", bad);
            }
            }
            if (took_arg) break;
        }
    }
    opt.in_path = n_pos > 0 && strcmp(pos[0], "-") != 0 ? pos[0] : NULL;
    opt.out_path = n_pos > 1 && strcmp(pos[1], "-") != 0 ? pos[1] : NULL;
    if (n_pos > 1 && opt.to_stdout) return usage_error("-c and an OUT file name exclude each other");
    if (n_pos > 1 && !opt.out_path) opt.to_stdout = 1; /* OUT is "-" */
    if (!opt.in_path && n_pos < 2) opt.to_stdout = 1;
    return 0;
}

/* ------------------------------------------------------------------ state file */

/* Marshal the decoder into opt.state_path atomically (FILE.tmp, fsync, rename). The output is
 * synced first, so a state never records more output than the disk holds. */
static unsigned char *state_buf;
static size_t state_cap;

static int save_state(codec_decoder *dec) {
    size_t need = 0, len = 0;
    char tmp[4096];
    int fd;
    codec_status st;
    if (!opt.state_path) return 0;
    if (job.out_fd >= 0 && sync_fd(job.out_fd) != 0) {
        msg("%s: cannot sync the output: %s", job.out_name, strerror(errno));
        return -1;
    }
    st = codec_decoder_marshal(dec, NULL, 0, &need);
    if (st != CODEC_E_BUFFER && st != CODEC_OK) {
        lib_error(opt.state_path, "cannot save the decoder state", st, codec_decoder_last_error(dec));
        return -1;
    }
    if (need > state_cap) {
        unsigned char *nb = realloc(state_buf, need);
        if (!nb) {
            msg("%s: out of memory for the decoder state (%zu bytes)", opt.state_path, need);
            return -1;
        }
        state_buf = nb;
        state_cap = need;
    }
    if ((st = codec_decoder_marshal(dec, state_buf, state_cap, &len)) != CODEC_OK) {
        lib_error(opt.state_path, "cannot save the decoder state", st, codec_decoder_last_error(dec));
        return -1;
    }
    if (snprintf(tmp, sizeof tmp, "%s.tmp", opt.state_path) >= (int)sizeof tmp) {
        msg("%s: path too long", opt.state_path);
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write_all(fd, state_buf, len) != 0 || fsync(fd) != 0) {
        msg("%s: cannot write the state: %s", tmp, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    if (rename(tmp, opt.state_path) != 0) {
        msg("%s: cannot rename to %s: %s", tmp, opt.state_path, strerror(errno));
        return -1;
    }
    { /* make the rename itself durable */
        char dir[4096];
        const char *slash = strrchr(opt.state_path, '/');
        int dfd;
        if (slash && (size_t)(slash - opt.state_path) < sizeof dir) {
            memcpy(dir, opt.state_path, (size_t)(slash - opt.state_path) + 1);
            dir[slash - opt.state_path + 1] = '\0';
        } else {
            strcpy(dir, ".");
        }
        if ((dfd = open(dir, O_RDONLY)) >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ compression */

/* Encode src[0..n) with `action`, writing all output; 0 or -1. */
static int encode_all(codec_encoder *enc, const unsigned char *src, size_t n, codec_action action, unsigned char *obuf) {
    size_t pos = 0;
    for (;;) {
        size_t r = 0, w = 0;
        codec_status st = codec_encoder_encode(enc, src ? src + pos : NULL, n - pos, &r, obuf, OUT_CHUNK, &w, action);
        pos += r;
        if (emit(obuf, w) != 0) return -1;
        if (st < 0) {
            const char *what = action == CODEC_FLUSH && st == CODEC_E_UNSUPPORTED
                                   ? "this format or configuration cannot flush"
                                   : "compression failed";
            lib_error(job.in_name, what, st, codec_encoder_last_error(enc));
            return -1;
        }
        if (st == CODEC_OK && pos == n) return 0;
    }
}

static int configure_encoder(codec_encoder *enc, const codec_dict *dict) {
    size_t i;
    for (i = 0; i < opt.n_settings; i++) {
        codec_status st = codec_encoder_set_param(enc, opt.settings[i].param, opt.settings[i].value);
        if (st != CODEC_OK) {
            usage_error("-o %s: %s (%s)", opt.settings[i].text, codec_encoder_last_error(enc), codec_status_name(st));
            return EXIT_USAGE;
        }
    }
    if (opt.have_threads) {
        int64_t lo, hi, n = opt.threads;
        if (codec_param_bounds(opt.format->fmt, CODEC_PARAM_THREADS, &lo, &hi) == CODEC_OK) {
            if (n == 0) n = sysconf(_SC_NPROCESSORS_ONLN);
            if (n > hi) n = hi;
            if (n < lo) n = lo;
            if (codec_encoder_set_param(enc, CODEC_PARAM_THREADS, n) != CODEC_OK && opt.verbose)
                notice("-T ignored: %s", codec_encoder_last_error(enc));
        } else if (opt.verbose) {
            notice("-T ignored: %s compresses with one thread", opt.format->name);
        }
    }
    if (dict) {
        codec_status st = codec_encoder_set_dict(enc, dict);
        if (st != CODEC_OK) {
            lib_error(opt.dict_path, "cannot use this dictionary", st, codec_encoder_last_error(enc));
            return EXIT_ERROR;
        }
    }
    /* zstd records the content size in the frame when it is known, as the zstd tool does */
    if (job.in_size && opt.format->fmt == CODEC_FORMAT_ZSTD) codec_encoder_set_pledged_size(enc, job.in_size);
    return 0;
}

static int compress_stream(const codec_dict *dict) {
    unsigned char *ibuf = malloc(IN_CHUNK), *obuf = malloc(OUT_CHUNK);
    codec_encoder *enc = NULL;
    uint64_t since_flush = 0;
    int rc = EXIT_ERROR;
    codec_status st;
    if (!ibuf || !obuf) {
        msg("out of memory");
        goto done;
    }
    st = codec_encoder_new(opt.format->fmt, &enc);
    if (st != CODEC_OK) { /* CODEC_E_UNSUPPORTED: the format is not in this build */
        lib_error(opt.format->name, "cannot create an encoder", st, codec_last_error());
        goto done;
    }
    if ((rc = configure_encoder(enc, dict)) != 0) goto done;
    rc = EXIT_ERROR;
    for (;;) {
        ssize_t n = read_some(job.in_fd, ibuf, IN_CHUNK);
        size_t off = 0;
        if (n == -2) goto done;
        if (n < 0) {
            msg("%s: read error: %s", job.in_name, strerror(errno));
            goto done;
        }
        if (n == 0) break;
        job.in_total += (uint64_t)n;
        while (off < (size_t)n) {
            size_t take = (size_t)n - off;
            codec_action action = CODEC_CONTINUE;
            if (opt.flush_every && since_flush + take >= opt.flush_every) {
                take = (size_t)(opt.flush_every - since_flush);
                action = CODEC_FLUSH;
            }
            if (encode_all(enc, ibuf + off, take, action, obuf) != 0) goto done;
            off += take;
            since_flush = action == CODEC_FLUSH ? 0 : since_flush + take;
        }
        progress();
    }
    if (encode_all(enc, NULL, 0, CODEC_FINISH, obuf) != 0) goto done;
    rc = EXIT_OK;
done:
    codec_encoder_free(enc);
    free(ibuf);
    free(obuf);
    return rc;
}

/* ------------------------------------------------------------------ decompression */

static const char *decode_error_text(codec_status st) {
    switch (st) {
    case CODEC_E_CORRUPT: return "corrupt input";
    case CODEC_E_CHECKSUM: return "checksum mismatch";
    case CODEC_E_DICT: return "dictionary missing or wrong (-D)";
    case CODEC_E_MEMLIMIT: return "memory limit exceeded (raise it with -o memlimit=N or -o window_log_max=N)";
    case CODEC_E_UNSUPPORTED: return "unsupported data";
    default: return "decompression failed";
    }
}

/* Open the decoder: from the state file when it exists (then *resumed = 1), else new. */
static int open_decoder(const codec_dict *dict, codec_decoder **out, int *resumed) {
    codec_decoder *dec = NULL;
    codec_status st;
    size_t i;
    *resumed = 0;
    if (opt.state_path && access(opt.state_path, F_OK) == 0) {
        size_t len = 0;
        unsigned char *blob = slurp(opt.state_path, &len);
        if (!blob) {
            msg("%s: cannot read the state: %s", opt.state_path, strerror(errno));
            return EXIT_ERROR;
        }
        st = codec_decoder_unmarshal(blob, len, dict, &dec);
        free(blob);
        if (st == CODEC_E_DICT) {
            lib_error(opt.state_path, "the state needs the dictionary it was saved with (-D)", st, codec_last_error());
            return EXIT_ERROR;
        }
        if (st != CODEC_OK) {
            lib_error(opt.state_path, "not a usable decoder state", st, codec_last_error());
            return EXIT_ERROR;
        }
        *resumed = 1;
        *out = dec;
        return 0;
    }
    st = codec_decoder_new(opt.format ? opt.format->fmt : CODEC_FORMAT_AUTO, &dec);
    if (st != CODEC_OK) {
        lib_error(opt.format ? opt.format->name : job.in_name, "cannot create a decoder", st, codec_last_error());
        return EXIT_ERROR;
    }
    for (i = 0; i < opt.n_settings; i++) {
        if (opt.settings[i].param == CODEC_PARAM_LEVEL) continue; /* a compression setting */
        st = codec_decoder_set_param(dec, opt.settings[i].param, opt.settings[i].value);
        if (st != CODEC_OK) {
            usage_error("-o %s: %s (%s)", opt.settings[i].text, codec_decoder_last_error(dec), codec_status_name(st));
            codec_decoder_free(dec);
            return EXIT_USAGE;
        }
    }
    if (dict && (st = codec_decoder_set_dict(dec, dict)) != CODEC_OK) {
        lib_error(opt.dict_path, "cannot use this dictionary", st, codec_decoder_last_error(dec));
        codec_decoder_free(dec);
        return EXIT_ERROR;
    }
    *out = dec;
    return 0;
}

/* Move the input to `consumed`: seek when possible, else read and discard. */
static int skip_input(uint64_t consumed) {
    unsigned char buf[65536];
    uint64_t left = consumed;
    if (consumed == 0) return 0;
    if (lseek(job.in_fd, (off_t)consumed, SEEK_SET) == (off_t)consumed) {
        if (job.in_size && job.in_size < consumed) {
            msg("%s: the input is shorter (%" PRIu64 " bytes) than the state records (%" PRIu64 ")", job.in_name,
                job.in_size, consumed);
            return -1;
        }
        return 0;
    }
    while (left) {
        ssize_t n = read_some(job.in_fd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
        if (n == 0) {
            msg("%s: the input is shorter (%" PRIu64 " bytes) than the state records (%" PRIu64 ")", job.in_name,
                consumed - left, consumed);
            return -1;
        }
        if (n < 0) {
            if (n == -1) msg("%s: read error: %s", job.in_name, strerror(errno));
            return -1;
        }
        left -= (uint64_t)n;
    }
    return 0;
}

/* Decode the input into the (already opened) output. `dec` may come from a state. */
static int decompress_stream(codec_decoder *dec) {
    unsigned char *ibuf = malloc(IN_CHUNK), *obuf = malloc(OUT_CHUNK);
    uint64_t saved_at = job.in_total;
    double saved_time = now();
    int rc = EXIT_ERROR;
    if (!ibuf || !obuf) {
        msg("out of memory");
        goto done;
    }
    for (;;) {
        size_t pos = 0;
        ssize_t n = read_some(job.in_fd, ibuf, IN_CHUNK);
        if (n == -2) {
            save_state(dec); /* the decoder is intact: the next run continues from here */
            goto done;
        }
        if (n < 0) {
            msg("%s: read error: %s", job.in_name, strerror(errno));
            save_state(dec);
            goto done;
        }
        if (n == 0) break;
        if (job.detect) { /* say what we detected, or why not */
            codec_format f;
            codec_status st = codec_detect_format(ibuf, (size_t)n, &f);
            job.detect = 0;
            if (st == CODEC_E_UNSUPPORTED) {
                msg("%s: unknown format: %s (lz4blocks and lzma2 streams need -f)", job.in_name, codec_last_error());
                goto done;
            }
            job.detect_status = st;
            if (st == CODEC_OK && opt.verbose) notice("%s: %s data", job.in_name, format_by_value(f) ? format_by_value(f)->name : "?");
        }
        while (pos < (size_t)n) {
            size_t r = 0, w = 0;
            codec_status st = codec_decoder_decode(dec, ibuf + pos, (size_t)n - pos, &r, obuf, OUT_CHUNK, &w);
            pos += r;
            job.in_total += r;
            if (emit(obuf, w) != 0) {
                goto done;
            }
            if (st < 0) {
                lib_error(job.in_name, decode_error_text(st), st, codec_decoder_last_error(dec));
                goto done;
            }
            if (st == CODEC_OK && pos < (size_t)n && r == 0 && w == 0) {
                msg("%s: internal error: the decoder made no progress", job.in_name);
                goto done;
            }
        }
        /* drain: output the decoder still holds after taking all input */
        for (;;) {
            size_t r = 0, w = 0;
            codec_status st = codec_decoder_decode(dec, NULL, 0, &r, obuf, OUT_CHUNK, &w);
            if (emit(obuf, w) != 0) goto done;
            if (st < 0) {
                lib_error(job.in_name, decode_error_text(st), st, codec_decoder_last_error(dec));
                goto done;
            }
            if (st != CODEC_MORE_OUTPUT && w == 0) break;
        }
        if (opt.state_path &&
            (job.in_total - saved_at >= opt.state_every || (job.in_total > saved_at && now() - saved_time >= STATE_SECONDS))) {
            if (save_state(dec) != 0) goto done;
            saved_at = job.in_total;
            saved_time = now();
        }
        progress();
        if (interrupted) {
            save_state(dec);
            goto done;
        }
    }
    if (!codec_decoder_at_frame_edge(dec)) {
        if (job.detect_status == CODEC_E_TRUNCATED && job.out_total == 0) {
            msg("%s: not compressed data, or too short to tell (%" PRIu64 " bytes)", job.in_name, job.in_total);
            goto done;
        }
        if (opt.state_path && save_state(dec) == 0)
            msg("%s: truncated input: it ends inside a frame after %" PRIu64 " bytes; state saved in %s, run again "
                "when more input is available",
                job.in_name, job.in_total, opt.state_path);
        else
            msg("%s: truncated input: it ends inside a frame after %" PRIu64 " bytes", job.in_name, job.in_total);
        goto done;
    }
    rc = EXIT_OK;
done:
    free(ibuf);
    free(obuf);
    return rc;
}

/* ------------------------------------------------------------------ files */

static int has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

/* The output name derived from IN (caller frees), or NULL after a message. */
static char *derive_out_name(const char *in) {
    size_t i, n = strlen(in);
    char *out;
    if (!opt.decompress) {
        if (has_suffix(in, opt.format->suffix)) {
            msg("%s: already has the %s suffix; give OUT or use -c", in, opt.format->suffix);
            return NULL;
        }
        out = malloc(n + strlen(opt.format->suffix) + 1);
        if (out) sprintf(out, "%s%s", in, opt.format->suffix);
        return out;
    }
    for (i = 0; i < N_FORMATS; i++) {
        const char *suf = formats[i].suffix;
        if ((opt.format && opt.format != &formats[i]) || !has_suffix(in, suf)) continue;
        out = malloc(n + 1);
        if (out) {
            memcpy(out, in, n - strlen(suf));
            out[n - strlen(suf)] = '\0';
        }
        return out;
    }
    if (has_suffix(in, ".zstd") && (!opt.format || opt.format->fmt == CODEC_FORMAT_ZSTD)) {
        out = malloc(n + 1);
        if (out) {
            memcpy(out, in, n - 5);
            out[n - 5] = '\0';
        }
        return out;
    }
    msg("%s: unknown suffix; give OUT or use -c", in);
    return NULL;
}

static int open_input(void) {
    struct stat sb;
    if (!opt.in_path) {
        job.in_fd = STDIN_FILENO;
        job.in_name = "(stdin)";
    } else {
        job.in_name = opt.in_path;
        job.in_fd = open(opt.in_path, O_RDONLY);
        if (job.in_fd < 0) {
            msg("%s: %s", opt.in_path, strerror(errno));
            return -1;
        }
    }
    if (fstat(job.in_fd, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            msg("%s: is a directory", job.in_name);
            return -1;
        }
        if (S_ISREG(sb.st_mode)) job.in_size = (uint64_t)sb.st_size;
    }
    if (opt.decompress && !opt.in_path && isatty(STDIN_FILENO) && !opt.force) {
        msg("(stdin): is a terminal: refusing to read compressed data from it (use --force)");
        return -1;
    }
    return 0;
}

/* Open the output; when resuming, truncate it to `resume_produced` and append. */
static int open_output(int resumed, uint64_t resume_produced) {
    if (opt.to_stdout) {
        job.out_fd = STDOUT_FILENO;
        job.out_name = "(stdout)";
        if (!opt.decompress && isatty(STDOUT_FILENO) && !opt.force) {
            msg("(stdout): is a terminal: refusing to write compressed data to it (redirect it, or give OUT)");
            return -1;
        }
        return 0;
    }
    job.out_name = opt.out_path;
    if (resumed) {
        struct stat sb;
        job.out_fd = open(opt.out_path, O_WRONLY | (resume_produced == 0 ? O_CREAT : 0), 0644);
        if (job.out_fd < 0) {
            msg("%s: cannot resume into it: %s", opt.out_path, strerror(errno));
            return -1;
        }
        if (fstat(job.out_fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            msg("%s: resuming needs a regular output file", opt.out_path);
            return -1;
        }
        if ((uint64_t)sb.st_size < resume_produced) {
            msg("%s: is shorter (%" PRIu64 " bytes) than the state %s records (%" PRIu64 "): cannot resume", opt.out_path,
                (uint64_t)sb.st_size, opt.state_path, resume_produced);
            return -1;
        }
        if (ftruncate(job.out_fd, (off_t)resume_produced) != 0 ||
            lseek(job.out_fd, (off_t)resume_produced, SEEK_SET) != (off_t)resume_produced) {
            msg("%s: cannot truncate to %" PRIu64 " bytes: %s", opt.out_path, resume_produced, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (opt.in_path) { /* refuse to overwrite the input with itself, before touching it */
        struct stat a, b;
        if (fstat(job.in_fd, &a) == 0 && stat(opt.out_path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            msg("%s: input and output are the same file", opt.out_path);
            return -1;
        }
    }
    job.out_fd = open(opt.out_path, O_WRONLY | O_CREAT | (opt.force ? O_TRUNC : O_EXCL), 0644);
    if (job.out_fd < 0) {
        if (errno == EEXIST)
            msg("%s: already exists; use --force to overwrite it", opt.out_path);
        else
            msg("%s: %s", opt.out_path, strerror(errno));
        return -1;
    }
    job.out_created = 1;
    return 0;
}

static void report(void) {
    double t = now() - job.start;
    char a[32], b[32], sp[32];
    uint64_t in = job.in_total - job.in_base, out = job.out_total - job.out_base;
    uint64_t plain = opt.decompress ? job.out_total : job.in_total, packed = opt.decompress ? job.in_total : job.out_total;
    human(a, sizeof a, (double)in);
    human(b, sizeof b, (double)out);
    human(sp, sizeof sp, t > 0 ? (double)(opt.decompress ? out : in) / t : 0.0);
    notice("%s: %s -> %s (%.2f%% of the original, ratio %.3f), %.2f s, %s/s", job.in_name, a, b,
           plain ? 100.0 * (double)packed / (double)plain : 0.0, packed ? (double)plain / (double)packed : 0.0, t, sp);
}

int main(int argc, char **argv) {
    codec_dict *dict = NULL;
    codec_decoder *dec = NULL;
    char *derived = NULL;
    int rc, resumed = 0;
    size_t i;

    if ((rc = parse_args(argc, argv)) != 0) return rc;
    if (!opt.decompress && !opt.format) opt.format = format_by_name("zstd");
    if (opt.flush_every && opt.decompress) return usage_error("--flush-every is for compression");
    if (opt.flush_every && opt.format->fmt == CODEC_FORMAT_LZMA_ALONE)
        return usage_error("--flush-every: the lzma format (LZMA1) cannot flush; use xz or lzma2");
    if (opt.state_path && !opt.decompress) return usage_error("--state is for decompression (-d)");
    if (opt.state_path && (opt.to_stdout || (!opt.out_path && !opt.in_path)))
        return usage_error("--state needs an OUT file (it truncates and appends to it when resuming)");
    if (opt.remove_source && !opt.in_path) return usage_error("--rm needs an IN file");
    if (opt.decompress && opt.have_level && opt.verbose) notice("-l is ignored when decompressing");
    for (i = 0; i < opt.n_params; i++)
        if ((rc = resolve_param(opt.raw_params[i], opt.format, &opt.settings[opt.n_settings++])) != 0) return rc;
    if (opt.have_level && !opt.decompress) {
        struct param_setting *s = &opt.settings[opt.n_settings++];
        int64_t lo, hi;
        static char text[48];
        snprintf(text, sizeof text, "level=%" PRId64, opt.level);
        s->text = text;
        s->param = CODEC_PARAM_LEVEL;
        s->value = opt.level;
        if (codec_param_bounds(opt.format->fmt, CODEC_PARAM_LEVEL, &lo, &hi) == CODEC_OK && (opt.level < lo || opt.level > hi))
            return usage_error("-l %" PRId64 ": out of range for %s: %" PRId64 "..%" PRId64, opt.level, opt.format->name,
                               lo, hi);
    }
    opt.progress = opt.progress == 0 && !opt.quiet && isatty(STDERR_FILENO);
    if (!opt.to_stdout && !opt.out_path) {
        if (!(derived = derive_out_name(opt.in_path))) return EXIT_ERROR;
        opt.out_path = derived;
    }

    if (opt.dict_path) {
        size_t len = 0;
        unsigned char *content = slurp(opt.dict_path, &len);
        codec_status st;
        if (!content) {
            msg("%s: %s", opt.dict_path, strerror(errno));
            free(derived);
            return EXIT_ERROR;
        }
        st = codec_dict_load(content, len, &dict);
        free(content);
        if (st != CODEC_OK) {
            lib_error(opt.dict_path, "not a usable dictionary", st, codec_last_error());
            free(derived);
            return EXIT_ERROR;
        }
    }

    catch_signals();
    job.in_fd = job.out_fd = -1;
    job.start = now();
    rc = EXIT_ERROR;
    if (open_input() != 0) goto done;
    if (!opt.decompress) {
        if (open_output(0, 0) != 0) goto done;
        rc = compress_stream(dict);
    } else {
        uint64_t consumed = 0, produced = 0;
        if ((rc = open_decoder(dict, &dec, &resumed)) != 0) goto done;
        rc = EXIT_ERROR;
        if (resumed) {
            codec_decoder_position(dec, &consumed, &produced);
            notice("%s: resuming from %s at input byte %" PRIu64 ", output byte %" PRIu64, job.in_name, opt.state_path,
                   consumed, produced);
            if (skip_input(consumed) != 0 || open_output(1, produced) != 0) goto done;
        } else if (opt.state_path) {
            /* Record the start before creating OUT: from then on a state always exists, so a
             * run killed at any moment is resumable. Refuse an existing OUT first, so that a
             * state never stands for a file we did not write. */
            if (!opt.force && access(opt.out_path, F_OK) == 0) {
                msg("%s: already exists; use --force to overwrite it", opt.out_path);
                goto done;
            }
            if (save_state(dec) != 0) goto done;
            if (open_output(0, 0) != 0) {
                unlink(opt.state_path);
                goto done;
            }
        } else if (open_output(0, 0) != 0) {
            goto done;
        }
        job.in_total = job.in_base = consumed;
        job.out_total = job.out_base = produced;
        job.detect = !resumed && !opt.format;
        rc = decompress_stream(dec);
    }
    if (rc == EXIT_OK && job.out_fd >= 0 && job.out_fd != STDOUT_FILENO && close(job.out_fd) != 0) {
        msg("%s: %s", job.out_name, strerror(errno));
        rc = EXIT_ERROR;
    }
    if (rc == EXIT_OK && job.out_fd != STDOUT_FILENO) job.out_fd = -1;
    if (rc == EXIT_OK && opt.state_path) {
        char tmp[4096];
        unlink(opt.state_path);
        snprintf(tmp, sizeof tmp, "%s.tmp", opt.state_path);
        unlink(tmp);
    }
    if (rc == EXIT_OK && opt.remove_source && unlink(opt.in_path) != 0) msg("%s: cannot remove: %s", opt.in_path, strerror(errno));
    clear_progress();
    if (rc == EXIT_OK && opt.verbose) report();
done:
    clear_progress();
    if (interrupted && rc != EXIT_OK && !opt.state_path) notice("%s: interrupted", job.in_name);
    else if (interrupted && rc != EXIT_OK) notice("%s: interrupted; state saved in %s", job.in_name, opt.state_path);
    if (rc != EXIT_OK && job.out_created && !opt.state_path && opt.out_path) unlink(opt.out_path);
    if (job.out_fd >= 0 && job.out_fd != STDOUT_FILENO) close(job.out_fd);
    if (job.in_fd >= 0 && job.in_fd != STDIN_FILENO) close(job.in_fd);
    codec_decoder_free(dec);
    codec_dict_free(dict);
    free(derived);
    free(state_buf);
    if (interrupted && rc != EXIT_OK) { /* die by the signal, as the shell expects */
        signal(interrupted, SIG_DFL);
        raise(interrupted);
    }
    return rc;
}
