/*
 * html: the pieces the status pages are made of. Escaping for HTML text and attributes, URL
 * query values, and the three SVG charts healhook draws itself (no script, no external asset,
 * no inline style: colours come from classes in the served stylesheet, so the pages keep a
 * Content-Security-Policy of default-src 'none').
 *
 * Every function appends to b and returns 0, or -1 when out of memory (the error set). Text
 * from the store (finding messages, file names, fixer output) is hostile: it only ever
 * reaches a page through hh_html_esc().
 */
#ifndef HH_HTML_H
#define HH_HTML_H

#include <stddef.h>

#include "internal/buf.h"

/* s with & < > " ' as entities (safe in text and in quoted attributes); invalid UTF-8 and
 * control characters other than tab and newline become U+FFFD. NULL appends nothing. */
int hh_html_esc(hh_buf *b, const char *s);
/* The first n bytes of s, escaped like hh_html_esc. */
int hh_html_escn(hh_buf *b, const char *s, size_t n);
/* s percent-encoded for a URL query value (unreserved characters kept). */
int hh_url_esc(hh_buf *b, const char *s);
/* <a href="url">text</a> when url is an http:// or https:// URL, else the text alone. */
int hh_html_link(hh_buf *b, const char *url, const char *text);
/* unix seconds as "YYYY-MM-DD HH:MM:SS" (UTC), "-" for 0. */
int hh_html_time(hh_buf *b, long long t);
/* A duration in ms as "850 ms", "12.3 s", "4 min 10 s". */
int hh_html_ms(hh_buf *b, double ms);

/* One bar or stage: a label and a value (ms for the stage charts). */
typedef struct hh_svg_bar {
	const char *label;
	double v;
} hh_svg_bar;

/* Horizontal bars, one row per entry, with the value as a duration (title for people using a
 * screen reader). */
int hh_svg_hbars(hh_buf *b, const char *title, const hh_svg_bar *bars, size_t n);
/* A waterfall: stages in order, each starting where the previous one ended. */
int hh_svg_waterfall(hh_buf *b, const char *title, const hh_svg_bar *stages, size_t n);

/* One series of a stacked bar chart: values for each x, drawn with CSS class cls. */
typedef struct hh_svg_series {
	const char *name;
	const char *cls;
	const double *v;
} hh_svg_series;
/* Stacked vertical bars: nx columns labelled xlabels, ns series stacked bottom up, a legend. */
int hh_svg_stacked(hh_buf *b, const char *title, const char *const *xlabels, size_t nx,
		   const hh_svg_series *s, size_t ns);

#endif
