#!/bin/sh
# Run libcodec's fuzz targets one after another (see docs/fuzzing.md).
#
#   fuzz/run.sh SECONDS TARGET...
#
# For each target: replay fuzz/regressions/TARGET (every reproducer of a fixed bug must pass),
# then fuzz for SECONDS over fuzz/corpus/TARGET (grown across runs), the generated seeds
# (fuzz/corpus/seed/TARGET) and the regressions. Crashes go to fuzz/artifacts/TARGET/.
# Prints one line per target (executions, exec/s, corpus size, findings) and exits non-zero
# when any target found something or a regression failed.
#
# FUZZ_BIN picks the directory of the target binaries (default: the AddressSanitizer build of
# `make fuzz-build`; `make fuzz FUZZ_SANITIZER=none` points it at the coverage-only build).
set -u
cd "$(dirname "$0")"
secs=$1; shift
bin=${FUZZ_BIN:-target/x86_64-unknown-linux-gnu/release}
log=artifacts/logs
mkdir -p "$log"
# Leak checking stays on (the library must not leak on any input); deep-ish stacks are fine.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
# glibc malloc (the coverage-only build; ASan has its own allocator and ignores this): keep
# freed memory for reuse instead of unmapping it. Targets that create encoders every run
# (dict_load: four of them, liblzma's hash tables among them) otherwise spend much of their time
# in page faults mapping fresh zeroed pages; dict_load runs about twice as fast with this.
export GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=67108864}"
fail=0
summary=""
for t in "$@"; do
    mkdir -p "corpus/$t" "artifacts/$t" "regressions/$t"
    regs=$(find "regressions/$t" -type f | sort)
    if [ -n "$regs" ]; then
        # shellcheck disable=SC2086
        if ! "$bin/$t" -runs=1 $regs > "$log/$t.replay" 2>&1; then
            echo "fuzz: $t: a regression reproducer fails again (see fuzz/$log/$t.replay)"
            tail -n 30 "$log/$t.replay"
            fail=1
        fi
    fi
    before=$(find "artifacts/$t" -type f | wc -l)
    "$bin/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=20 -rss_limit_mb=3072 \
        -max_len=16384 -artifact_prefix="artifacts/$t/" \
        "corpus/$t" "corpus/seed/$t" "regressions/$t" > "$log/$t.log" 2>&1
    rc=$?
    after=$(find "artifacts/$t" -type f | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log/$t.log" | tail -n1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log/$t.log" | tail -n1)
    size=$(find "corpus/$t" -type f | wc -l)
    found=$((after - before))
    line=$(printf '%-18s %12s execs %8s exec/s %6s corpus %3s findings (exit %s)' "$t" "${execs:-?}" "${rate:-?}" "$size" "$found" "$rc")
    echo "fuzz: $line"
    summary="$summary
$line"
    if [ "$rc" != 0 ] || [ "$found" != 0 ]; then
        fail=1
        grep -m1 -A25 -E "panicked at|ERROR: AddressSanitizer|ERROR: libFuzzer|==ERROR" "$log/$t.log" || tail -n 30 "$log/$t.log"
    fi
done
echo "fuzz: summary ($secs s per target)$summary"
exit $fail
