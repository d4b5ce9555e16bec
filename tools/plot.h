/* mcprobe --plot: an SVG with latency over time, a latency histogram and
 * loss/FEC over time. Plain SVG, no library: open it in any browser. */
#ifndef MC_TOOLS_PLOT_H
#define MC_TOOLS_PLOT_H

typedef struct {
    double t, p50, p95;    /* seconds since start; latency of the interval, ms */
    double loss_pct;       /* loss before FEC in the interval */
    double recovered_pct;  /* share of the interval's packets FEC rebuilt */
} plot_point;

/* Returns 0, or -1 when the file cannot be written. */
int plot_write_svg(const char *path, const char *title, const plot_point *pts, int n,
                   const float *lat, int nlat);

#endif
