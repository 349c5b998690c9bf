# Sourced by benches that need a busy host for a whole-host profiler: many distinct binaries and
# shared libraries running at once (interpreters with their extension modules, compressors,
# compilers, coreutils), each a loop doing a few tens of milliseconds of work per second, so a
# 99 Hz profiler samples (and symbolizes, and unwinds) all of them within a window. About 0.3 to
# 0.5 of one CPU in all. busy_start DIR starts them (scratch files in DIR), busy_stop ends them.
busy_pgids=()

# busy_loop CMD...: CMD again and again, a pause after each; its own process group.
busy_loop() {
	setsid bash -c 'while :; do "$@" >/dev/null 2>&1 </dev/null; sleep 1; done' busy "$@" &
	busy_pgids+=("$!")
}

busy_start() {
	local d=$1 c
	mkdir -p "$d"
	head -c 256K /dev/urandom >"$d/rand"
	seq 1 20000 >"$d/seq"
	printf 'int f(int x) { return x * 3 + 1; }\nint main(void) { return f(2); }\n' >"$d/t.c"
	printf '#include <vector>\nint main() { std::vector<int> v(100, 1); return v[3]; }\n' >"$d/t.cc"
	# Short-lived processes, one exec per loop turn (captured through the side band).
	busy_loop xz -6 -T1 -c "$d/rand"
	busy_loop gzip -9 -c "$d/rand"
	busy_loop bzip2 -9 -c "$d/rand"
	busy_loop zstd -19 -c "$d/rand"
	busy_loop lz4 -9 -c "$d/rand"
	busy_loop zip -9 -q - "$d/rand"
	busy_loop sha256sum "$d/rand"
	busy_loop md5sum "$d/rand"
	busy_loop openssl dgst -sha512 "$d/rand"
	busy_loop sort -R "$d/seq"
	busy_loop mawk '{ s += $1 * $1 } END { print s }' "$d/seq"
	busy_loop sed -e 's/1/one/g' "$d/seq"
	busy_loop grep -c '12.*3' "$d/seq"
	busy_loop tar -cf - -C "$d" rand seq
	busy_loop cpio -o -H newc <<<"$d/rand"
	busy_loop bc -l <<<'scale=400; 4*a(1)'
	busy_loop jq -n '[range(20000)] | map(. * 2) | add'
	busy_loop sqlite3 :memory: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000) SELECT sum(x) FROM c;'
	busy_loop gcc -O2 -c "$d/t.c" -o /dev/null
	busy_loop g++ -O1 -c "$d/t.cc" -o /dev/null
	command -v clang >/dev/null && busy_loop clang -O2 -c "$d/t.c" -o /dev/null
	busy_loop perl -e 'my $s = 0; $s += sqrt($_) for 1 .. 300000; print $s'
	busy_loop python3 -c 'import json, decimal, hashlib, sqlite3, zlib, ssl; sum(i * i for i in range(200000))'
	busy_loop file "$d/rand" /usr/bin/xz /usr/lib/x86_64-linux-gnu/libc.so.6
	busy_loop git hash-object "$d/rand"
	busy_loop cmp "$d/rand" "$d/rand"
	busy_loop diff "$d/seq" "$d/seq"
	busy_loop find /usr/share/doc -name '*.gz'
	busy_loop tclsh <<<'set s 0; for {set i 0} {$i < 100000} {incr i} {incr s $i}'
	busy_loop busybox md5sum "$d/rand"
	# Long-lived processes with many shared libraries, each working in bursts.
	busy_loop python3 -c '
import time, json, decimal, hashlib, sqlite3, zlib, ssl, ctypes, bz2, lzma, csv, array
while True:
    t = time.time()
    while time.time() - t < 0.03:
        hashlib.sha256(zlib.compress(json.dumps(list(range(300))).encode())).hexdigest()
    time.sleep(0.5)'
	busy_loop perl -MPOSIX -MData::Dumper -e 'while (1) { my $s = 0; $s += sqrt($_) for 1 .. 50000; select(undef, undef, undef, 0.5) }'
	command -v node >/dev/null && busy_loop node -e '
const z = require("zlib"), c = require("crypto");
setInterval(() => { for (let i = 0; i < 200; i++) c.createHash("sha256").update(z.deflateSync(Buffer.alloc(4096, i))).digest("hex"); }, 500);'
	for c in 1 2; do busy_loop sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i + 1)); done'; done
}

busy_stop() {
	local g
	for g in "${busy_pgids[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
	for g in "${busy_pgids[@]}"; do wait "$g" 2>/dev/null; done
	busy_pgids=()
}
