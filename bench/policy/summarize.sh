#!/usr/bin/env bash
# Markdown tables from a bench/policy/sweep.sh CSV, as in README.md: per
# scenario and cap, the capacity (closed-loop rate, and the highest rate
# achieved at any offered load), p99 at the closed-loop point, and the SLA
# boundary (the highest offered rate up to which every paced point has p99 at
# or under the target). Repetitions are combined by their median; for the
# boundary, with "min", by the lowest p99 (host stalls only add). The spread
# between repetitions is reported as well, and a one-parameter check of the
# data: capacity = k x cap (req/s per CPU), k fitted on the first repetition's
# closed-loop points under a cap and its error measured on the later
# repetitions' (sweep.sh writes repetition r after repetition r-1).
# When the sweep's points file (CSV without .csv + .points.csv) is there,
# also the host during the sweep: per repetition the load and CPU pressure,
# and how often a paced point under half its cap's closed-loop rate missed
# the SLA with the host's CPU pressure below and above its median.
#
#   bench/policy/summarize.sh CSV [SLA_MS] [median|min]   (default 20, median)
set -euo pipefail
csv=${1:?usage: summarize.sh CSV [SLA_MS] [median|min]}
sla=${2:-20}
combine=${3:-median}
case $combine in median|min) ;; *) echo "summarize.sh: combine '$combine' is not median or min" >&2; exit 2 ;; esac
[ -r "$csv" ] || { echo "summarize.sh: cannot read $csv" >&2; exit 1; }
awk -F, -v sla="$sla" -v combine="$combine" '
  function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
  function median(list,   a, n) { n = split(list, a, " "); sort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  function lowest(list,   a, n) { n = split(list, a, " "); sort(a, n); return a[1] }
  function bp99(list) { return combine == "min" ? lowest(list) : median(list) }
  function spread(list,   a, n) { n = split(list, a, " "); sort(a, n); return n > 1 && a[n] > 0 ? (a[n] - a[1]) / median(list) : 0 }
  /^#/ || $1 == "app" { next }
  {
    if (!($2 in sseen)) { sseen[$2] = 1; sl[++ns] = $2 }
    if (!($3 in cseen)) { cseen[$3] = 1; cl[++nc] = $3 }
    if (!($4 in oseen)) { oseen[$4] = 1; ol[++no] = $4 }
    k = $2 SUBSEP $3 SUBSEP $4
    ach[k] = ach[k] " " $5; p99[k] = p99[k] " " $7; err[k] += $9
    if ($4 == 0) {
      n = ++occ[k]; if ($3 + 0 > maxcap[$2]) maxcap[$2] = $3 + 0
      if (n == 1) { fx[$2] = fx[$2] " " $3; fy[$2] = fy[$2] " " $5 }
      else { tx[$2] = tx[$2] " " $3; ty[$2] = ty[$2] " " $5 }
    }
  }
  END {
    sort(cl, nc); sort(ol, no)
    for (s = 1; s <= ns; s++) {
      printf "%s\n\n| cap (CPUs) | closed-loop req/s | its p99 ms | highest req/s achieved | p99 (%s) <= %s ms up to offered (achieved) |\n|---|---|---|---|---|\n", sl[s], combine, sla
      for (c = 1; c <= nc; c++) {
        best = 0; bound = "none"; broken = 0
        for (o = 1; o <= no; o++) {
          k = sl[s] SUBSEP cl[c] SUBSEP ol[o]
          if (!(k in ach)) continue
          m = median(ach[k]); if (m > best) best = m
          # spread between repetitions of every point
          np++; sp = spread(ach[k]); q[np] = sp; if (sp > worst) worst = sp
          if (err[k] > 0) nerr++
          if (ol[o] + 0 == 0) continue
          if (!broken && bp99(p99[k]) <= sla) bound = sprintf("%s (%.0f)", ol[o], m)
          else broken = 1
        }
        cap[s, c] = best
        k0 = sl[s] SUBSEP cl[c] SUBSEP 0
        if (k0 in ach) { cap0[s, c] = median(ach[k0]); printf "| %s | %.0f | %.1f | %.0f | %s |\n", cl[c], median(ach[k0]), median(p99[k0]), best, bound }
        else printf "| %s | - | - | %.0f | %s |\n", cl[c], best, bound
      }
      printf "\n"
    }
    if (ns > 1) {
      printf "Highest achieved req/s relative to %s\n\n| cap (CPUs) |", sl[1]
      for (s = 2; s <= ns; s++) printf " %s |", sl[s]
      printf "\n|---|"; for (s = 2; s <= ns; s++) printf "---|"; printf "\n"
      for (c = 1; c <= nc; c++) {
        printf "| %s |", cl[c]
        for (s = 2; s <= ns; s++) {
          if (cap[1, c] > 0) printf " %.2f |", cap[s, c] / cap[1, c]
          else printf " - |"
        }
        printf "\n"
      }
    }
    printf "\nCapacity = k x cap, fitted on repetition 1 (caps below the uncapped value), validated on the later repetitions:\n\n| scenario | k (req/s per CPU) | held-out points | mean abs error | worst |\n|---|---|---|---|---|\n"
    for (s = 1; s <= ns; s++) {
      sc = sl[s]; n = split(fx[sc], x, " "); split(fy[sc], y, " "); sxy = sxx = 0
      for (i = 1; i <= n; i++) if (x[i] + 0 < maxcap[sc]) { sxy += x[i] * y[i]; sxx += x[i] * x[i] }
      if (sxx == 0) continue
      kk = sxy / sxx
      n = split(tx[sc], x, " "); split(ty[sc], y, " "); m = e = w = 0
      for (i = 1; i <= n; i++) if (x[i] + 0 < maxcap[sc] && y[i] > 0) {
        d = kk * x[i] / y[i] - 1; if (d < 0) d = -d
        m++; e += d; if (d > w) w = d
      }
      if (m) printf "| %s | %.0f | %d | %.0f %% | %.0f %% |\n", sc, kk, m, 100 * e / m, 100 * w
      else printf "| %s | %.0f | 0 | - | - |\n", sc, kk
    }
    sort(q, np)
    i90 = int(0.9 * np + 0.5); if (i90 < 1) i90 = 1
    printf "\nSpread of achieved req/s between repetitions of a point ((max - min) / median): median %.0f %%, 90th percentile %.0f %%, worst %.0f %% over %d points; %d points with errors.\n", 100 * q[int((np + 1) / 2)], 100 * q[i90], 100 * worst, np, nerr + 0
  }' "$csv"

points=${csv%.csv}.points.csv
[ -r "$points" ] || exit 0
# Row i of the points file is the i-th data row of the CSV.
awk -F, -v sla="$sla" '
  function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
  FNR == 1 { file++ }
  /^#/ || $1 == "app" || $1 == "row" { next }
  file == 1 { n++; scen[n] = $2; cap[n] = $3; off[n] = $4; ach[n] = $5; p99[n] = $7
              if ($4 == 0) { cl[$2 SUBSEP $3] += $5; ncl[$2 SUBSEP $3]++ } ; next }
  file == 2 { m++; rep[m] = $2; la[m] = $7; psi[m] = $8; busy[m] = $9
              if (!($2 in rs)) { rs[$2] = 1; nr++ }
              rn[$2]++; rla[$2] += $7; if ($8 != "") { rpsi[$2] += $8; rnp[$2]++ }
              if (rla_max[$2] < $7 + 0) rla_max[$2] = $7 + 0; next }
  END {
    if (m != n) { printf "summarize.sh: %d rows in the CSV, %d in the points file: not the same sweep\n", n, m > "/dev/stderr"; exit 1 }
    printf "\nThe host during the sweep (points file):\n\n| repetition | points | load average (1 min) mean / max | CPU pressure (PSI some) mean |\n|---|---|---|---|\n"
    for (r = 1; r <= nr; r++) printf "| %d | %d | %.1f / %.1f | %s |\n", r, rn[r], rla[r] / rn[r], rla_max[r], rnp[r] ? sprintf("%.0f %%", 100 * rpsi[r] / rnp[r]) : "-"
    # light points: paced, offered under half the closed-loop rate of the cap
    for (i = 1; i <= n; i++) {
      k = scen[i] SUBSEP cap[i]
      if (off[i] == 0 || !ncl[k] || off[i] >= 0.5 * cl[k] / ncl[k] || psi[i] == "") continue
      nl++; lp[nl] = psi[i]; li[nl] = i
    }
    if (!nl) exit 0
    for (j = 1; j <= nl; j++) sp[j] = lp[j]
    sort(sp, nl); med = sp[int((nl + 1) / 2)]
    for (j = 1; j <= nl; j++) {
      i = li[j]; hi = lp[j] > med
      tot[hi]++; if (p99[i] > sla) miss[hi]++
    }
    printf "\nPaced points under half their cap'"'"'s closed-loop rate (the cap nowhere near): p99 over %s ms in %d of %d with CPU pressure up to the median %.0f %%, in %d of %d above it.\n", sla, miss[0], tot[0], 100 * med, miss[1], tot[1]
  }' "$csv" "$points"
