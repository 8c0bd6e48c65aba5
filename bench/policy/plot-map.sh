#!/usr/bin/env bash
# Draws the good/bad map of a bench/policy/sweep.sh CSV to PNG: one panel per
# scenario, x = offered load, y = CPU cap, each cell coloured by its p99
# against an SLA target (green at or under, red over) and labelled with p99 in
# ms. Repetitions of a point are combined by their median p99, or with "min"
# by the lowest: stalls of a shared host only ever add latency, so the lowest
# repetition is the closer estimate of what the cap alone does.
# With X = per-cpu the x axis is the load per CPU of the cap, offered / cap
# (for a sweep made with sweep.sh --per-cpu-rates; uncapped rows: / 1), and
# BOUNDARY (req/s per CPU, rvmig_map_coef()'s c1 of a map fitted with
# RVMIG_MAP_FIT_UTILISATION) is drawn as a line at that load.  METRIC p50
# colours by the median latency instead of p99.
#
#   bench/policy/plot-map.sh CSV [OUT.png] [SLA_MS] [median|min] [offered|per-cpu] [BOUNDARY] [p99|p50]
#                                          (defaults map.png, 20, median, offered, none, p99)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csv=${1:?usage: plot-map.sh CSV [OUT.png] [SLA_MS] [median|min]}
out=${2:-map.png}
sla=${3:-20}
combine=${4:-median}
xaxis=${5:-offered}
boundary=${6:-0}
metric=${7:-p99}
case $metric in p99) col=7 ;; p50) col=6 ;; *) echo "plot-map.sh: metric '$metric' is not p99 or p50" >&2; exit 2 ;; esac
case $combine in median|min) ;; *) echo "plot-map.sh: combine '$combine' is not median or min" >&2; exit 2 ;; esac
case $xaxis in offered|per-cpu) ;; *) echo "plot-map.sh: x axis '$xaxis' is not offered or per-cpu" >&2; exit 2 ;; esac
[[ $boundary =~ ^[0-9]+([.][0-9]+)?$ ]] ||
  { echo "plot-map.sh: boundary '$boundary' is not a load per CPU" >&2; exit 2; }
[ -r "$csv" ] || { echo "plot-map.sh: cannot read $csv" >&2; exit 1; }
[[ $sla =~ ^[0-9]+([.][0-9]+)?$ ]] && [ "$sla" != 0 ] ||
  { echo "plot-map.sh: SLA '$sla' is not a positive number of ms" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "plot-map.sh: gnuplot not installed" >&2; exit 1; }

cells=$(mktemp /tmp/plot-map.XXXXXX)
trap 'rm -f "$cells"' EXIT
want='app,scenario,cpu_share,offered_rps,achieved_rps,p50_ms,p99_ms,mean_ms,errors,duration_s'
# scenarios in first-seen order, then one block per scenario
scen=$(awk -F, -v want="$want" -v f="$csv" '
  /^#/ { next }
  !hdr { if ($0 != want) { printf "plot-map.sh: %s: header is not %s\n", f, want > "/dev/stderr"; exit 1 }
         hdr = 1; next }
  NF != 10 { printf "plot-map.sh: %s:%d: %d fields, want 10\n", f, NR, NF > "/dev/stderr"; exit 1 }
  !($2 in seen) { seen[$2] = 1; printf "%s%s", n++ ? " " : "", $2 }' "$csv")
[ -n "$scen" ] || { echo "plot-map.sh: $csv has no rows" >&2; exit 1; }
# the cpu_share that stands for "uncapped", from the sweep's metadata
# (sweep.sh: "# cgroup: ... uncapped = 2"; xen-sweep.sh: "# cap: ... uncapped = 1")
uncapped=$(sed -n 's/^# \(cgroup\|cap\):.*uncapped = \([0-9.]*\).*/\2/p' "$csv" | head -n1)
app=$(awk -F, '/^#/ || $1 == "app" { next } { print $1; exit }' "$csv")
for s in $scen; do
  awk -F, -v s="$s" -v sla="$sla" -v unc="$uncapped" -v combine="$combine" -v xaxis="$xaxis" \
      -v bound="$boundary" -v col="$col" '
    function median(list,   a, n, i, j, t) {
      n = split(list, a, " ")
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      if (combine == "min") return a[1]
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    /^#/ || $1 == "app" || $2 != s { next }
    {
      x = $4
      if (xaxis == "per-cpu" && x > 0) {
        x = x / ((unc != "" && $3 == unc + 0) ? 1 : $3)
        x = sprintf(x >= 100 ? "%.0f" : "%.2g", x)   # a Xen guest under TCG: a few req/s
      }
      k = $3 SUBSEP x; p[k] = p[k] " " $col; caps[$3] = 1; offs[x] = 1
    }
    END {
      nc = 0; for (c in caps) cl[++nc] = c + 0
      for (i = 2; i <= nc; i++) for (j = i; j > 1 && cl[j - 1] > cl[j]; j--) { t = cl[j]; cl[j] = cl[j - 1]; cl[j - 1] = t }
      no = 0; for (o in offs) if (o + 0 > 0) ol[++no] = o + 0
      for (i = 2; i <= no; i++) for (j = i; j > 1 && ol[j - 1] > ol[j]; j--) { t = ol[j]; ol[j] = ol[j - 1]; ol[j - 1] = t }
      if ("0" in offs) ol[++no] = 0       # the closed-loop point last
      for (y = 1; y <= nc; y++) for (x = 1; x <= no; x++) {
        k = cl[y] SUBSEP ol[x]
        for (kk in p) { split(kk, q, SUBSEP); if (q[1] + 0 == cl[y] && q[2] + 0 == ol[x]) { k = kk; break } }
        if (!(k in p)) continue
        m = median(p[k]); v = log((m > 0.001 ? m : 0.001) / sla) / log(10)
        v = v > 1.5 ? 1.5 : (v < -1.5 ? -1.5 : v)
        lab = m >= 10 ? sprintf("%.0f", m) : sprintf("%.1f", m)
        printf "%d %d %.4f %s %s %s\n", x - 1, y - 1, v, lab, ol[x] ? ol[x] : "closed", (unc != "" && cl[y] == unc + 0) ? "none" : cl[y]
      }
      # the boundary: a line at its fractional place on the (log) load axis
      bx = -1
      if (bound > 0) for (x = 1; x < no; x++) if (ol[x] > 0 && ol[x + 1] > 0 && ol[x] <= bound && bound <= ol[x + 1])
        bx = x - 1 + log(bound / ol[x]) / log(ol[x + 1] / ol[x])
      printf "# boundary %s\n\n\n", bx
    }' "$csv"
done >"$cells"

bxs=$(sed -n 's/^# boundary //p' "$cells" | tr '\n' ' ')
xlabel="offered load (req/s; closed = closed loop, no think time)"
[ "$xaxis" = offered ] || xlabel="offered load per CPU of the cap (req/s; closed = closed loop)"
gnuplot -e "cells='$cells'; out='$out'; sla=$sla; scen='$scen'; bxs='$bxs'; xlabel='$xlabel'; title='$app $metric (ms, $combine of repetitions): green <= SLA $sla ms < red'" \
  "$here/plot-map.gp"
echo "plot-map.sh: wrote $out"
