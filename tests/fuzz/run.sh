#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a
# fixed time.  Seeds: the heads of the real Xen fixtures (tests/fixtures) and
# hand-made wire messages / URIs / resume journals / tool messages / key files.
#
#   tests/fuzz/run.sh SECONDS_PER_TARGET [WORKDIR]
# Exit status: 0 when no target found a crash, leak or invariant violation.
set -euo pipefail
secs=${1:-30}
top=$(cd "$(dirname "$0")/../.." && pwd)
work=${2:-$top/build/fuzz}
mkdir -p "$work"
command -v clang >/dev/null || { echo "fuzz: clang not found (scripts/install-deps.sh)" >&2; exit 1; }

cflags=(-g -O1 -std=c11 -D_GNU_SOURCE -DRVMIG_BUILDING_LIBRARY -fsanitize=fuzzer,address,undefined
        -fno-sanitize-recover=undefined -I"$top/include" -I"$top/librvmig")
core=("$top"/librvmig/core/{ctx,errors,log,uri}.c)
declare -A srcs=(
  [stream]="$top/tests/fuzz/fuzz_stream.c $(ls "$top"/librvmig/stream/*.c | tr '\n' ' ')"
  [wire]="$top/tests/fuzz/fuzz_wire.c $top/librvmig/proto/wire.c"
  [uri]="$top/tests/fuzz/fuzz_uri.c"
  [monitor]="$top/tests/fuzz/fuzz_monitor.c $top/librvmig/monitor/linux/parse.c $top/librvmig/monitor/linux/parse_dev.c $top/librvmig/core/text.c"
  [appmsg]="$top/tests/fuzz/fuzz_appmsg.c $top/librvmig/xstream/msg.c $top/librvmig/core/text.c"
  [keyfile]="$top/tests/fuzz/fuzz_keyfile.c $top/librvmig/proto/keyfile.c"
  [journal]="$top/tests/fuzz/fuzz_journal.c $top/librvmig/xstream/journal.c $top/librvmig/xstream/ownfile.c -I$top/librvmig"
  [xrec]="$top/tests/fuzz/fuzz_xrec.c $top/librvmig/publish/record.c $top/librvmig/core/text.c"
  [prom]="$top/tests/fuzz/fuzz_prom.c $top/tools/policy/prom_decode.c $top/librvmig/core/text.c -I$top/tools -ljson-c"
  [samples]="$top/tests/fuzz/fuzz_samples.c $(ls "$top"/librvmig/policy/*.c | tr '\n' ' ') $top/librvmig/core/text.c"
  [xentrace]="$top/tests/fuzz/fuzz_xentrace.c $top/librvmig/monitor/xen/trace.c"
  # the receiver with everything it links (the monitor publisher, which
  # needs the endpoint calls, so the protocol engine and TCP transport too)
  [rebuild]="$top/tests/fuzz/fuzz_rebuild.c $(ls "$top"/librvmig/{xstream,stream,publish,proto}/*.c \
    "$top"/librvmig/transport/*.c "$top"/librvmig/transport/tcp/*.c "$top"/librvmig/monitor/linux/parse*.c \
    "$top"/librvmig/core/{crc32c,fdio,text,version}.c | tr '\n' ' ') -lxxhash -lpthread"
)

# Seeds.
mkdir -p "$work/seed-stream" "$work/seed-wire" "$work/seed-uri" "$work/seed-journal" \
         "$work/seed-appmsg" "$work/seed-keyfile" "$work/seed-xrec"
# The heads of the real Xen fixtures (tests/fixtures): layer byte 0 (xl),
# chunk byte 0x41, then the first 48 KiB of the file.
for fixture in "$top"/tests/fixtures/*.bin.zst; do
  seed=$work/seed-stream/$(basename "$fixture" .bin.zst)-head
  { printf '\x00\x41'; zstd -dc "$fixture" | head -c 49152; } > "$seed" || true
done
printf '\x00\x01Xen saved domain, xl format\n \0 \r' > "$work/seed-stream/xl-magic"
# The tail of the migration capture (END records, then xl's go message),
# as an xl stream with the go-message flag (layer byte 0x40): the parser
# will not reach it from the head, but the mutator splices it in.
{ printf '\x40\x05'; zstd -dc "$top/tests/fixtures/xl-migrate-pvh-32M.bin.zst" | tail -c 256; } \
  > "$work/seed-stream/xl-migrate-tail" || true
# The same heads for detection (layer byte 3): the xl save, and its libxl
# stream alone (after xl's header of 48 + optional_data_len octets).
for fixture in "$top"/tests/fixtures/xl-save-*.bin.zst; do
  seed=$work/seed-stream/$(basename "$fixture" .bin.zst)
  { printf '\x03\x07'; zstd -dc "$fixture" | head -c 49152; } > "$seed-auto" || true
  optlen=$(zstd -dc "$fixture" | head -c 48 | od -An -tu4 -j44 -N4 | tr -d ' ') || true
  { printf '\x03\x41'; zstd -dc "$fixture" | tail -c +$((48 + optlen + 1)) | head -c 49152; } > "$seed-libxl-auto" || true
done
printf 'tcp://127.0.0.1:7000' > "$work/seed-uri/a"
printf 'verbs://[fe80::1]:18515' > "$work/seed-uri/b"
printf '\x07\x00\x01\x00\x08\x00\x00\x00' > "$work/seed-wire/credit"
# A valid resume journal (librvmig/xstream/journal.h) and one with a short id.
body=$(printf 'rvmig-recv-journal 2\ntransfer-id %064d\nflags 11\nsize 9\noffset 5\ndigest %064d\n' 7 3)
printf '%s\ncheck %s\n' "$body" "$(printf '%s\n' "$body" | sha256sum | cut -d' ' -f1)" > "$work/seed-journal/valid"
sed 's/^transfer-id 0*/transfer-id abc/' "$work/seed-journal/valid" > "$work/seed-journal/short-id"
# Stream messages (include/rvmig/xstream.h): tag, format version 2, fields.
printf '\x01\x02\x02\x00\x00\x00\x02\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00' > "$work/seed-appmsg/hello"
printf '\x03\x02\x00\x00\x10\x00\x00\x00\x00\x00' > "$work/seed-appmsg/zero"
printf '\x05\x02\xfb\xff\xff\xffgave up\n\x1b[31m' > "$work/seed-appmsg/abort"
{ printf '\x06\x02\x00\x00\x00\x00\x00\x01\x00\x00'; head -c 40 /dev/zero; printf 'ok'; } > "$work/seed-appmsg/verdict"
printf '\x07\x02xl\0migrate-receive\0' > "$work/seed-appmsg/exec"
printf '\x02\x02Xen saved domain' > "$work/seed-appmsg/ctrl"
{ printf '\x04\x02\x00\x10\x00\x00\x00\x00\x00\x00'; head -c 32 /dev/zero | tr '\0' '\7'; printf '\x02\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0'; } > "$work/seed-appmsg/end"
{ printf '\x0b\x02\x00\x20\x00\x00\x00\x00\x00\x00'; head -c 32 /dev/zero; } > "$work/seed-appmsg/resume"
{ printf '\x01\x02\x00\x01\x00\x00\x0e\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00'; head -c 32 /dev/zero | tr '\0' 'i'; } > "$work/seed-appmsg/hello-resume"
{ printf '\x0a\x02\x00\x00\x00\x00\x00\x01\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00'; head -c 32 /dev/zero; printf 'exited'; } > "$work/seed-appmsg/exit"
printf '\x08\x02migrate-receive: ready\n' > "$work/seed-appmsg/out"
printf '\x09\x02warning\n' > "$work/seed-appmsg/err"
# Key files: a key with its line end, one too long.
printf '0123456789abcdef0123456789abcdef\n' > "$work/seed-keyfile/key"
head -c 300 /dev/zero | tr '\0' k > "$work/seed-keyfile/long"
# The policy model's measurement CSV (rvmig/policy.h): two shares with a
# boundary each, and a comment.
mkdir -p "$work/seed-samples"
{ printf '# sweep\napp,scenario,cpu_share,offered_rps,achieved_rps,p50_ms,p99_ms,mean_ms,errors,duration_s\n'
  printf 'nginx,alone,0.1,2000,2000,1,3,1.2,0,30\nnginx,alone,0.1,5000,4300,20,90,30,0,30\n'
  printf 'nginx,alone,0.2,4000,4000,1,3,1.2,0,30\nnginx,alone,0.2,10000,8900,20,90,30,12,30\n'
} > "$work/seed-samples/sweep"
# Prometheus query API answers (tools/policy/prom.h): a vector, a matrix,
# an error.
mkdir -p "$work/seed-prom"
printf '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"rvmig_host_cpus","instance":"h:9101"},"value":[1733500000.5,"2"]}]}}' > "$work/seed-prom/vector"
printf '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"domain":"a\\u001b"},"values":[[1,"NaN"],[2,"+Inf"],[3,"1e3"]]}]}}' > "$work/seed-prom/matrix"
printf '{"status":"error","errorType":"bad_data","error":"parse error"}' > "$work/seed-prom/error"
# Transfer files (librvmig/publish/record.h): one of rvmig-send's, one
# with escapes and no size.
printf 'rvmig-transfers 1\npid 42\npid_start 7\ntool rvmig-send\nupdated_ns 5\ntransfer 1\nstate active\ntransport tcp\npeer 10.0.0.2:7471\nmode push\nstarted_ns 1\ntime_elapsed 2\ndata_total 100\ndata_remaining 40\ndata_processed 60\nbytes_per_s 9\npages 3\nzero_pages 1\ncpu_ns 5\nwire_sent 50\nwire_recv 0\nend\n' > "$work/seed-xrec/send"
printf 'rvmig-transfers 1\npid 1\npid_start 1\ntool a"b\\\\c\\x1b\ntransfer 2\nstate setup\npeer [fe80::1]:1\nend\n' > "$work/seed-xrec/escapes"
# The monitor's parsers: this host's own /proc and cgroup files, each after
# the byte that selects its parser in fuzz_monitor.c.
mkdir -p "$work/seed-monitor"
mon_seed() { # SELECTOR FILE
  [ -r "$2" ] || return 0
  { printf "\\$(printf '%03o' "$1")"; head -c 16384 "$2"; } > "$work/seed-monitor/$1-$(basename "$2")"
}
mon_seed 0 /proc/self/schedstat; mon_seed 1 /proc/self/stat; mon_seed 2 /proc/self/statm
mon_seed 3 /proc/meminfo; mon_seed 4 /sys/fs/cgroup/cpu/cpu.stat; mon_seed 5 /proc/pressure/cpu
mon_seed 7 /proc/stat; mon_seed 7 /proc/self/mountinfo; mon_seed 8 /proc/net/dev
mon_seed 10 /sys/fs/cgroup/blkio/blkio.throttle.io_service_bytes
printf '\011254:0 rbytes=4096 wbytes=8388608 rios=1 wios=8 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2 rios=3 wios=4\n' > "$work/seed-monitor/9-io.stat"
# The Xen scheduler trace decoder: the first 8 KiB of each real trace
# (tests/fixtures).
mkdir -p "$work/seed-xentrace"
for fixture in "$top"/tests/fixtures/xen-sched-trace-*.bin.zst; do
  zstd -dc "$fixture" | head -c 8192 > "$work/seed-xentrace/$(basename "$fixture" .bin.zst)" || true
done

# The receiver's rebuild (fuzz_rebuild.c): config byte 0, the first
# message (op 0), the verifying parser (op 1), then the head of each real Xen
# fixture as CTRL messages of 255 bytes (op 4) and bulk data (op 2), a zero
# page (op 5), a matching END (op 6) and the end of input (op 7).
mkdir -p "$work/seed-rebuild"
for fixture in "$top"/tests/fixtures/xl-*.bin.zst; do
  seed=$work/seed-rebuild/$(basename "$fixture" .bin.zst)
  zstd -dc "$fixture" 2>/dev/null | head -c 8192 > "$seed.head" || true
  {
    printf '\x00\x00\x01'
    for i in 0 1 2 3; do printf '\x04\xff'; dd if="$seed.head" bs=255 skip=$i count=1 status=none; done
    printf '\x02\x00\x10'; dd if="$seed.head" bs=4 skip=255 count=1024 status=none
    printf '\x05\x01\x00\x00\x06\x07'
  } > "$seed"
  rm -f "$seed.head"
done
printf '\x00\x30\x00\x10\x00\x05\x01\x00\x00\x06\x07' > "$work/seed-rebuild/raw-zero-page"
# A second first message with another size (4096, then 1 MiB) before 8 KiB
# of data; a resumed prefix of 512 bytes past an announced 256.
{ printf '\x00\x30\x00\x10\x00\x30\x00\x00\x10\x02\x00\x20'; head -c 8192 /dev/zero; } \
  > "$work/seed-rebuild/announced-twice"
{ printf '\x00\x30\x00\x01\x00\x08\x00\x02'; head -c 512 /dev/zero | tr '\0' x; } \
  > "$work/seed-rebuild/prefix-past-size"

status=0
for t in stream wire uri journal monitor appmsg keyfile xrec samples prom xentrace rebuild; do
  bin="$work/fuzz_$t"
  # shellcheck disable=SC2086
  clang "${cflags[@]}" -o "$bin" ${srcs[$t]} "${core[@]}" -lcrypto -lm
  mkdir -p "$work/corpus-$t"
  echo "fuzz: $t for ${secs}s"
  if "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=1024 \
       -artifact_prefix="$work/crash-$t-" "$work/corpus-$t" "$work/seed-$t" >"$work/$t.log" 2>&1; then
    echo "fuzz: $t ok: $(grep -E '^Done [0-9]+ runs' "$work/$t.log" | tail -1)"
  else
    echo "fuzz: $t FAILED — see $work/$t.log:"
    tail -30 "$work/$t.log"
    status=1
  fi
done
exit $status
