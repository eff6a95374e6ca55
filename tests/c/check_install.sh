#!/bin/sh
# Check a staged install (make install DESTDIR=...): files, soname, exported symbols, and a
# program built through pkg-config against it, linked shared and static.
# Usage: check_install.sh STAGE_DIR CC
set -eu
stage=$1
cc=${2:-cc}
lib=$stage/usr/lib
fail() { echo "check_install: $*" >&2; exit 1; }

for f in "$lib"/libcodec.so "$lib"/libcodec.so.0 "$lib"/libcodec.a "$stage"/usr/include/codec.h "$lib"/pkgconfig/codec.pc; do
    [ -e "$f" ] || fail "missing $f"
done
real=$(readlink -f "$lib"/libcodec.so)
case "$real" in */libcodec.so.0.*.*) ;; *) fail "libcodec.so does not resolve to libcodec.so.0.X.Y ($real)";; esac
[ "$(readlink "$lib"/libcodec.so)" = libcodec.so.0 ] || fail "libcodec.so must point at libcodec.so.0"
soname=$(readelf -d "$real" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libcodec.so.0 ] || fail "soname is '$soname', expected libcodec.so.0"
bad=$(nm -D --defined-only "$real" | awk '{print $3}' | grep -v '^codec_' || true)
[ -z "$bad" ] || fail "exported symbols outside codec_*: $(echo $bad | head -c 300)"
undef=$(nm -D --undefined-only "$real" | grep -E ' U (ZSTD|LZ4|XXH|lzma)' || true)
[ -z "$undef" ] || fail "unresolved compression-library symbols: $undef"
if ldd "$real" | grep -q liblzma; then fail "linked against a system liblzma"; fi

export PKG_CONFIG_SYSROOT_DIR="$stage"
export PKG_CONFIG_LIBDIR="$lib/pkgconfig"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/prog.c" <<'C'
#include <codec.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    const char msg[] = "installed libcodec works, installed libcodec works";
    unsigned char comp[256], back[256];
    size_t n = 0, m = 0;
    if (codec_compress(CODEC_FORMAT_ZSTD, 3, (const unsigned char *)msg, sizeof msg, comp, sizeof comp, &n)) return 1;
    if (codec_decompress(CODEC_FORMAT_AUTO, comp, n, back, sizeof back, &m)) return 2;
    if (m != sizeof msg || memcmp(back, msg, m)) return 3;
    printf("%s\n", codec_version_string());
    return codec_version_number() == CODEC_VERSION_NUMBER ? 0 : 4;
}
C
# shared
$cc -std=c99 -Wall -Wextra -Werror -pedantic -o "$work/prog" "$work/prog.c" $(pkg-config --cflags --libs codec)
LD_LIBRARY_PATH="$lib" "$work/prog" > /dev/null || fail "shared-linked program failed"
ldd "$work/prog" | grep -q 'libcodec.so.0 =>' || fail "program is not linked to libcodec.so.0"
# static
$cc -std=c99 -Wall -Wextra -Werror -pedantic -static-libgcc -o "$work/prog_static" "$work/prog.c" \
    $(pkg-config --cflags codec) "$lib/libcodec.a" $(pkg-config --libs-only-other --libs-only-l --static codec | sed 's/-lcodec//')
if ldd "$work/prog_static" | grep -q libcodec; then fail "static program still needs libcodec.so"; fi
"$work/prog_static" > /dev/null || fail "static-linked program failed"
echo "install check passed: $(basename "$real"), soname $soname, $(nm -D --defined-only "$real" | wc -l) codec_* symbols, shared and static links work"
