# The good/bad map of bench/policy/sweep.sh data, one panel per scenario:
# x = offered load, y = CPU cap, colour = p99 against the SLA target.
# Input is the cell table plot-map.sh writes; run through plot-map.sh:
#   gnuplot -e "cells='F'; out='map.png'; sla=20; scen='alone shared-cpu'; title='...'" plot-map.gp
# cells: one block per scenario of scen, in that order, separated by two blank
# lines, of
#   x_index y_index log10(p99/sla) p99_label x_label y_label
if (!exists("cells")) cells = "cells.dat"
if (!exists("out")) out = "map.png"
if (!exists("sla")) sla = 20
if (!exists("scen")) scen = "alone shared-cpu disjoint-cpu"
nscen = words(scen)
if (!exists("title")) title = ""
# per scenario: the x index of the map's boundary, -1 for none
if (!exists("bxs")) bxs = ""
if (!exists("xlabel")) xlabel = "offered load (req/s; closed = closed loop, no think time)"

set terminal pngcairo size (nscen > 1 ? 400*nscen+40 : 600),480 font "sans,9"
set output out
# green at or under the target, red over it; darker further from it (the
# shade saturates at 1/30 and 30 times the target)
set palette defined (-1.5 "#1a7a3a", -0.001 "#b8e186", 0.001 "#f4a582", 1.5 "#b2182b")
set cbrange [-1.5:1.5]
unset colorbox
set style fill solid 1.0 noborder
set tics nomirror scale 0
set xtics rotate by -45 font "sans,8"
set xlabel xlabel
set ylabel "CPU cap (CPUs)"
set key off
set multiplot layout 1,nscen title title font "sans,11"
do for [i = 0:nscen-1] {
  stats cells index i using 1:2 nooutput
  set title word(scen, i + 1)
  set xrange [-0.5:STATS_max_x + 0.5]
  set yrange [-0.5:STATS_max_y + 0.5]
  unset arrow
  bx = (words(bxs) > i) ? real(word(bxs, i + 1)) : -1
  if (bx >= 0) {
    set arrow from bx, -0.5 to bx, STATS_max_y + 0.5 nohead lw 2 dt 2 lc rgb "#000000" front
  }
  plot cells index i using 1:2:($1-0.5):($1+0.5):($2-0.5):($2+0.5):3:xtic(5):ytic(6) \
         with boxxy fc palette, \
       '' index i using 1:2:4 with labels font "sans,7"
}
unset multiplot
