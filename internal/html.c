/*
 * html: escaping and SVG charts for the status pages. See html.h.
 *
 * The charts are plain SVG elements with classes (the stylesheet colours them) and a <title>
 * per element, so hovering shows the numbers. Coordinates are computed here; nothing in a
 * chart comes from the store unescaped.
 */
#include "internal/html.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

int hh_html_escn(hh_buf *b, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, k;

	if (!str)
		return 0;
	while (i < len) {
		const char *rep = NULL;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: break;
		}
		k = rep ? 1 : utf8_len(s + i, len - i);
		if (!rep &&
		    (k == 0 || (s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f))
			rep = "\xef\xbf\xbd", k = k ? k : 1;
		if (!rep) {
			i += k;
			run += k;
			continue;
		}
		if ((run && hh_buf_put(b, s + i - run, run) < 0) || hh_buf_puts(b, rep) < 0)
			return -1;
		run = 0;
		i += k;
	}
	return run ? hh_buf_put(b, s + i - run, run) : 0;
}

int hh_html_esc(hh_buf *b, const char *s)
{
	return s ? hh_html_escn(b, s, strlen(s)) : 0;
}

int hh_url_esc(hh_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		int rc;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c))
			rc = hh_buf_putc(b, (char)c);
		else
			rc = hh_buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int hh_html_link(hh_buf *b, const char *url, const char *text)
{
	if (url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0)) {
		if (hh_buf_puts(b, "<a href=\"") < 0 || hh_html_esc(b, url) < 0 ||
		    hh_buf_puts(b, "\" rel=\"noreferrer\">") < 0 || hh_html_esc(b, text) < 0)
			return -1;
		return hh_buf_puts(b, "</a>");
	}
	return hh_html_esc(b, text);
}

int hh_html_time(hh_buf *b, long long t)
{
	char s[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0)
		return hh_buf_putc(b, '-');
	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm);
	return hh_buf_puts(b, s);
}

int hh_html_ms(hh_buf *b, double ms)
{
	if (ms < 1000)
		return hh_buf_printf(b, "%.0f ms", ms);
	if (ms < 60000)
		return hh_buf_printf(b, "%.1f s", ms / 1000);
	return hh_buf_printf(b, "%ld min %ld s", (long)(ms / 60000), ((long)(ms / 1000)) % 60);
}

/* ---- charts ---- */

#define ROW 22    /* height of one bar row */
#define LABEL 130 /* width of the label column */
#define PLOT 440  /* width of the bars */
#define VALUE 110 /* width of the value column */

static int svg_open(hh_buf *b, const char *title, int w, int h)
{
	if (hh_buf_printf(b,
			  "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
			  "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
			  "aria-label=\"",
			  w, h, w, h) < 0 ||
	    hh_html_esc(b, title) < 0 || hh_buf_puts(b, "\"><title>") < 0 ||
	    hh_html_esc(b, title) < 0)
		return -1;
	return hh_buf_puts(b, "</title>");
}

/* One labelled row: label, a bar from x0 to x0 + w (in plot units), the value. */
static int bar_row(hh_buf *b, int y, const char *label, double x0, double w, double v,
		   const char *cls)
{
	if (w < 1)
		w = 1;
	if (hh_buf_printf(b, "<g><title>") < 0 || hh_html_esc(b, label) < 0 ||
	    hh_buf_puts(b, ": ") < 0 || hh_html_ms(b, v) < 0 ||
	    hh_buf_printf(b, "</title><text class=\"label\" x=\"%d\" y=\"%d\">", LABEL - 8,
			  y + 15) < 0 ||
	    hh_html_esc(b, label) < 0 ||
	    hh_buf_printf(b,
			  "</text><rect class=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			  "height=\"%d\" rx=\"2\"/><text class=\"value\" x=\"%d\" y=\"%d\">",
			  cls, LABEL + x0, y + 3, w, ROW - 6, LABEL + PLOT + 8, y + 15) < 0 ||
	    hh_html_ms(b, v) < 0)
		return -1;
	return hh_buf_puts(b, "</text></g>");
}

int hh_svg_hbars(hh_buf *b, const char *title, const hh_svg_bar *bars, size_t n)
{
	double max = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (bars[i].v > max)
			max = bars[i].v;
	if (svg_open(b, title, LABEL + PLOT + VALUE, (int)n * ROW + 4) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (bar_row(b, (int)i * ROW, bars[i].label, 0, max > 0 ? bars[i].v / max * PLOT : 0,
			    bars[i].v, "bar") < 0)
			return -1;
	return hh_buf_puts(b, "</svg>");
}

int hh_svg_waterfall(hh_buf *b, const char *title, const hh_svg_bar *st, size_t n)
{
	double total = 0, at = 0;
	size_t i;

	for (i = 0; i < n; i++)
		total += st[i].v > 0 ? st[i].v : 0;
	if (svg_open(b, title, LABEL + PLOT + VALUE, (int)n * ROW + 22) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		double v = st[i].v > 0 ? st[i].v : 0;

		if (bar_row(b, (int)i * ROW, st[i].label, total > 0 ? at / total * PLOT : 0,
			    total > 0 ? v / total * PLOT : 0, v, "stage") < 0)
			return -1;
		at += v;
	}
	if (hh_buf_printf(b,
			  "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			  "<text class=\"value\" x=\"%d\" y=\"%d\">total ",
			  LABEL, (int)n * ROW + 4, LABEL + PLOT, (int)n * ROW + 4, LABEL + PLOT + 8,
			  (int)n * ROW + 18) < 0 ||
	    hh_html_ms(b, total) < 0)
		return -1;
	return hh_buf_puts(b, "</text></svg>");
}

int hh_svg_stacked(hh_buf *b, const char *title, const char *const *xl, size_t nx,
		   const hh_svg_series *s, size_t ns)
{
	const int w = 680, h = 230, left = 36, top = 28, bottom = 24;
	const double plot_h = h - top - bottom, col = nx ? (double)(w - left) / (double)nx : 0;
	double max = 0;
	size_t i, k;

	for (i = 0; i < nx; i++) {
		double sum = 0;
		for (k = 0; k < ns; k++)
			sum += s[k].v[i];
		if (sum > max)
			max = sum;
	}
	if (max < 1)
		max = 1;
	if (svg_open(b, title, w, h) < 0)
		return -1;
	for (k = 0; k < ns; k++)
		if (hh_buf_printf(b,
				  "<rect class=\"%s\" x=\"%d\" y=\"6\" width=\"12\" height=\"12\"/>"
				  "<text class=\"legend\" x=\"%d\" y=\"16\">",
				  s[k].cls, left + (int)k * 110, left + (int)k * 110 + 16) < 0 ||
		    hh_html_esc(b, s[k].name) < 0 || hh_buf_puts(b, "</text>") < 0)
			return -1;
	if (hh_buf_printf(b,
			  "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			  "<text class=\"tick\" x=\"%d\" y=\"%d\">%.0f</text>"
			  "<text class=\"tick\" x=\"%d\" y=\"%d\">0</text>",
			  left, h - bottom, w, h - bottom, left - 6, top + 10, max, left - 6,
			  h - bottom) < 0)
		return -1;
	for (i = 0; i < nx; i++) {
		double y = h - bottom, x = left + (double)i * col + col * 0.15;

		for (k = 0; k < ns; k++) {
			double bh = s[k].v[i] / max * plot_h;

			if (s[k].v[i] <= 0)
				continue;
			y -= bh;
			if (hh_buf_printf(b,
					  "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					  "height=\"%.1f\"><title>",
					  s[k].cls, x, y, col * 0.7, bh) < 0 ||
			    hh_html_esc(b, xl[i]) < 0 ||
			    hh_buf_printf(b, " %s: %.0f</title></rect>", s[k].name, s[k].v[i]) < 0)
				return -1;
		}
		if (hh_buf_printf(b, "<text class=\"day\" x=\"%.1f\" y=\"%d\">", x + col * 0.35,
				  h - 8) < 0 ||
		    hh_html_esc(b, xl[i]) < 0 || hh_buf_puts(b, "</text>") < 0)
			return -1;
	}
	return hh_buf_puts(b, "</svg>");
}
