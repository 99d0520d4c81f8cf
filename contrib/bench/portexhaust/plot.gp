# Plots for contrib/bench/portexhaust/run.sh: client-side TIME_WAIT over
# time and failed hosts per round, one line per case.
#   gnuplot -e "dir='OUT'; cases='mrsh-ssh-remote mrsh-ssh-local'; hosts=500" plot.gp
set datafile separator ","
set key outside right top
set grid

do_plots = "\
set multiplot layout 2,1 title sprintf('portexhaust: %d hosts per round on reserved ports', hosts); \
set title 'client-side TIME_WAIT after each round'; \
set xlabel 'seconds since the case started'; \
set ylabel 'TIME_WAIT sockets'; \
plot for [c in cases] dir.'/'.c.'.csv' using 2:7 with linespoints title c; \
set title 'failed hosts per round'; \
set xlabel 'round'; \
set ylabel 'failed hosts'; \
set yrange [0:*]; \
plot for [c in cases] dir.'/'.c.'.csv' using 1:5 with linespoints title c; \
unset multiplot; \
set yrange [*:*]"

set terminal pngcairo noenhanced size 1100,900 font ",10"
set output dir.'/portexhaust.png'
eval do_plots
set output

set terminal svg noenhanced size 1100,900 dynamic
set output dir.'/portexhaust.svg'
eval do_plots
set output
