# bench/fio-figs.awk: fio's JSON output (one job) -> "IOPS P99_US IOS":
# the IOPS and the 99th percentile of the completion latency (us) of the
# direction that did I/O (read if any, else write), and the data I/Os
# completed (reads and writes; fsyncs not counted). Exits 1 when the job
# reports an error or did no I/O. For bench/blk, on the host and in the
# guest (busybox awk).
$1 ~ /^"(read|write|trim|sync)"$/ && $3 == "{" {
    s = $1
    gsub(/"/, "", s)
    cl = 0
}
$1 == "\"clat_ns\"" { cl = 1 }
$1 == "\"lat_ns\"" { cl = 0 }
$1 == "\"iops\"" { v = $3; sub(/,/, "", v); iops[s] = v }
$1 == "\"total_ios\"" { v = $3; sub(/,/, "", v); ios[s] = v }
cl && $1 == "\"99.000000\"" { v = $3; sub(/,/, "", v); p99[s] = v }
$1 == "\"error\"" && $3 + 0 != 0 { err = 1 }
END {
    d = ios["read"] > 0 ? "read" : "write"
    if (err || ios[d] + 0 == 0)
        exit 1
    printf "%.0f %.1f %d\n", iops[d], p99[d] / 1000, ios["read"] + ios["write"]
}
