/* SVG writer for mcprobe --plot. Three panels stacked vertically. */
#include "plot.h"

#include <stdio.h>

#define W 900
#define PH 220 /* panel height */
#define ML 70  /* left margin (axis labels) */
#define MR 20
#define PW (W - ML - MR)

static double max_of(const plot_point *p, int n, int which, double floor)
{
    double m = floor;
    for (int i = 0; i < n; i++) {
        double v = which == 0 ? p[i].p95 : p[i].loss_pct > p[i].recovered_pct ? p[i].loss_pct
                                                                               : p[i].recovered_pct;
        m = v > m ? v : m;
    }
    return m * 1.1;
}

static void frame(FILE *f, int y0, const char *title, const char *ylabel, double ymax,
                  const char *xlabel, double xmax)
{
    fprintf(f, "<g transform='translate(0,%d)'>\n", y0);
    fprintf(f, "<text x='%d' y='18' font-size='15' font-weight='bold'>%s</text>\n", ML, title);
    fprintf(f, "<rect x='%d' y='30' width='%d' height='%d' fill='#fafafa' stroke='#999'/>\n", ML,
            PW, PH - 60);
    for (int k = 0; k <= 4; k++) {
        int y = 30 + (PH - 60) * k / 4;
        fprintf(f, "<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='#ddd'/>\n", ML, ML + PW, y, y);
        fprintf(f, "<text x='%d' y='%d' font-size='11' text-anchor='end'>%.3g</text>\n", ML - 6,
                y + 4, ymax * (4 - k) / 4);
    }
    fprintf(f, "<text x='%d' y='%d' font-size='11' text-anchor='end'>%.3g</text>\n", ML + PW,
            PH - 14, xmax);
    fprintf(f, "<text x='%d' y='%d' font-size='11'>0</text>\n", ML, PH - 14);
    fprintf(f, "<text x='%d' y='%d' font-size='12' text-anchor='middle'>%s</text>\n", ML + PW / 2,
            PH - 12, xlabel);
    fprintf(f, "<text x='14' y='%d' font-size='12' transform='rotate(-90 14 %d)' "
               "text-anchor='middle'>%s</text>\n", 30 + (PH - 60) / 2, 30 + (PH - 60) / 2, ylabel);
}

static void line(FILE *f, const plot_point *p, int n, double xmax, double ymax, int which,
                 const char *color, const char *name, int legend_y)
{
    fprintf(f, "<polyline class='%s' fill='none' stroke='%s' stroke-width='1.5' points='", name,
            color);
    for (int i = 0; i < n; i++) {
        double v = which == 0 ? p[i].p50 : which == 1 ? p[i].p95 : which == 2 ? p[i].loss_pct
                                                                              : p[i].recovered_pct;
        fprintf(f, "%.1f,%.1f ", ML + PW * p[i].t / xmax, 30 + (PH - 60) * (1 - v / ymax));
    }
    fprintf(f, "'/>\n<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='%s' stroke-width='3'/>\n"
               "<text x='%d' y='%d' font-size='12' fill='%s'>%s</text>\n",
            ML + PW - 180, ML + PW - 156, legend_y - 4, legend_y - 4, color, ML + PW - 150, legend_y,
            color, name);
}

int plot_write_svg(const char *path, const char *title, const plot_point *pts, int n,
                   const float *lat, int nlat)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    double xmax = n ? pts[n - 1].t : 1;
    if (xmax <= 0)
        xmax = 1;
    fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n<svg xmlns='http://www.w3.org/2000/svg' "
               "width='%d' height='%d' font-family='sans-serif'>\n<rect width='100%%' "
               "height='100%%' fill='white'/>\n<text x='%d' y='24' font-size='17'>%s</text>\n",
            W, 3 * PH + 40, ML, title);
    double lmax = max_of(pts, n, 0, 1.0);
    frame(f, 40, "Latency, capture to decoded", "ms", lmax, "seconds", xmax);
    line(f, pts, n, xmax, lmax, 0, "#1f77b4", "p50", 50);
    line(f, pts, n, xmax, lmax, 1, "#d62728", "p95", 66);
    fprintf(f, "</g>\n");

    /* Histogram of the last samples, 40 bins from 0 to the largest. */
    enum { BINS = 40 };
    int bins[BINS] = {0}, top = 1;
    double hmax = 0.1;
    for (int i = 0; i < nlat; i++)
        hmax = lat[i] > hmax ? lat[i] : hmax;
    for (int i = 0; i < nlat; i++) {
        int b = (int)(lat[i] / hmax * (BINS - 1));
        b = b < 0 ? 0 : b >= BINS ? BINS - 1 : b;
        top = ++bins[b] > top ? bins[b] : top;
    }
    frame(f, 40 + PH, "Latency histogram (last frames)", "frames", top, "ms", hmax);
    for (int b = 0; b < BINS; b++) {
        double h = (double)(PH - 60) * bins[b] / top;
        fprintf(f, "<rect class='bin' x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#2ca02c'/>\n",
                ML + (double)PW * b / BINS, 30 + (PH - 60) - h, (double)PW / BINS - 1, h);
    }
    fprintf(f, "</g>\n");

    double qmax = max_of(pts, n, 1, 1.0);
    frame(f, 40 + 2 * PH, "Loss before FEC and packets rebuilt by FEC", "% of packets", qmax,
          "seconds", xmax);
    line(f, pts, n, xmax, qmax, 2, "#d62728", "lost", 50);
    line(f, pts, n, xmax, qmax, 3, "#1f77b4", "rebuilt", 66);
    fprintf(f, "</g>\n</svg>\n");
    return fclose(f) ? -1 : 0;
}
