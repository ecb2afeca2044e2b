#!/usr/bin/env bash
# gst-femo fuzzing: builds the libFuzzer targets (build-fuzz, clang with
# ASan + UBSan + libFuzzer) and runs each for a while.
#
#   tests/fuzz/run-fuzz.sh [SECONDS | -runs=N] [TARGET...]
#
# SECONDS per target (default 60), or -runs=N inputs per process. TARGETs:
# cascade, safetensors, fer-csv, femodetect (default all). Seeds come from
# tests/fuzz/corpus/TARGET (read-only); new inputs go to
# build-fuzz/corpus/TARGET, crashes to build-fuzz/crashes/TARGET. Copy a
# fixed crash input into tests/fuzz/regressions/TARGET so that the suite
# replays it (test fuzz-replay). Installs clang and libclang-rt-14-dev
# (Debian 12) when missing (gst-femo/setup.sh --fuzz). Exits non-zero when
# a target crashed, leaked or hit UB.
# Environment: JOBS (ninja -j, default nproc), CC (default clang), PROCS
# (fuzzer processes per target, default 1: each gets the whole budget, so
# -runs=N runs N x PROCS inputs, and they share the corpus directory). The
# summary line gives the total of executed inputs, the sum of the
# processes' stat::number_of_executed_units. tests/fuzz/README.md records
# what makes fuzz-femodetect fast and its 1,000,000-input run.
set -euo pipefail
cd "$(dirname "$0")/../.."

limit=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cascade safetensors fer-csv femodetect)
if [[ $limit == -runs=* ]]; then
  budget=("$limit")
else
  budget=("-max_total_time=$limit")
fi

# clang and libFuzzer (apt-get when missing)
bash gst-femo/setup.sh --fuzz --no-build >/dev/null
if [ ! -f build-fuzz/build.ninja ]; then
  CC=${CC:-clang} meson setup build-fuzz -Dfuzzing=true -Dtests=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer'
fi
ninja -C build-fuzz -j "${JOBS:-$(nproc)}" \
  $(printf 'tests/fuzz/fuzz-%s ' "${targets[@]}")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
procs=${PROCS:-1}
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
  echo "=== fuzz-$t (${budget[*]}, $procs process(es))"
  pids=()
  for ((k = 1; k <= procs; k++)); do
    # -rss_limit_mb: the loaders must refuse what does not fit, not try it.
    build-fuzz/tests/fuzz/fuzz-"$t" "${budget[@]}" -rss_limit_mb=2048 \
      -max_len=65536 -timeout=10 -print_final_stats=1 -seed=$((k * 7919)) \
      -artifact_prefix="build-fuzz/crashes/$t/" \
      "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" \
      >"build-fuzz/fuzz-$t.$k.log" 2>&1 &
    pids+=($!)
  done
  result=ok
  for pid in "${pids[@]}"; do
    wait "$pid" || result=FAILED
  done
  # Each process prints its own stat:: lines (also when it crashes): the
  # target's total is their sum.
  execs=0
  speed=0
  per=()
  for ((k = 1; k <= procs; k++)); do
    log="build-fuzz/fuzz-$t.$k.log"
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    s=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    execs=$((execs + ${n:-0}))
    speed=$((speed + ${s:-0}))
    per+=("${n:-0}")
  done
  cov=$(grep -ho 'cov: [0-9]* ft: [0-9]*' build-fuzz/fuzz-"$t".*.log | tail -1 \
    || true)
  echo "fuzz-$t: $result, total executed inputs: $execs" \
    "($(IFS=+; echo "${per[*]}") in $procs process(es), $speed/s)," \
    "${cov:-cov: ?}, corpus $(ls "build-fuzz/corpus/$t" | wc -l) files"
  if [ $result = FAILED ]; then
    status=1
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' \
      build-fuzz/fuzz-"$t".*.log | head -20
    echo "(full logs: build-fuzz/fuzz-$t.*.log)"
  fi
done
exit $status
