/*
 * fixer_path: fixer.path checked, expanded on the host and searched. See fixer_path.h.
 */
#include "internal/fixer_path.h"
#include "internal/fixer.h"
#include "internal/log.h"

#include <stdlib.h>
#include <string.h>

/*
 * $1 = fixer.path, $2 = the program. Prints three lines: the home, the expanded PATH, where
 * the program is ("" when nowhere). "~" elements are dropped when there is no home (the C side
 * reports that). Globbing is off, so no element is expanded beyond "~". Also a step of the
 * heal's fix script (rscript.h): it leaves hh_path and hh_found set, IFS and globbing as they
 * were before it.
 */
const char hh_fixer_probe[] = "set -f; home=${HOME-}; IFS=:; out=\n"
			      "for d in $1; do\n"
			      "  case $d in\n"
			      "    '~') [ -n \"$home\" ] || continue; d=$home ;;\n"
			      "    '~/'*) [ -n \"$home\" ] || continue; d=$home/${d#'~/'} ;;\n"
			      "  esac\n"
			      "  out=${out:+$out:}$d\n"
			      "done\n"
			      "found=\n"
			      "case $2 in\n"
			      "  */*) [ -f \"$2\" ] && [ -x \"$2\" ] && found=$2 ;;\n"
			      "  *) for d in $out; do\n"
			      "       if [ -n \"$d\" ] && [ -f \"$d/$2\" ] && [ -x \"$d/$2\" ]; "
			      "then found=$d/$2; break; fi\n"
			      "     done ;;\n"
			      "esac\n"
			      "unset IFS; set +f; hh_path=$out hh_found=$found\n"
			      "printf '%s\\n' \"$home\" \"$out\" \"$found\"\n";

int hh_fixer_path_check(const char *spec)
{
	const char *p = spec, *end;

	if (!spec || !*spec)
		return hh_error("fixer.path is empty (the default is %s)", HH_DEFAULT_FIXER_PATH);
	for (;; p = end + 1) {
		size_t n;

		end = strchr(p, ':');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0)
			return hh_error("fixer.path '%s' has an empty element", spec);
		if (p[0] != '/' && !(p[0] == '~' && (n == 1 || p[1] == '/')))
			return hh_error(
				"fixer.path '%s': '%.*s' is neither an absolute directory nor "
				"~ or ~/DIR",
				spec, (int)n, p);
		if (!end)
			return 0;
	}
}

static int uses_home(const char *spec)
{
	const char *p;

	for (p = spec; p; p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL)
		if (p[0] == '~')
			return 1;
	return 0;
}

/* The last non-empty line of b (ssh adds the shell's pid line first). */
static const char *last_line(const hh_buf *b)
{
	const char *s = b->ptr, *p;

	if (!s)
		return "";
	for (p = s; *p; p++)
		if (p[0] == '\n' && p[1] && p[1] != '\n')
			s = p + 1;
	return s;
}

/* Moves the next '\n'-terminated line of *s into a new string. */
static char *take_line(const char **s)
{
	const char *nl = *s ? strchr(*s, '\n') : NULL;
	char *line;

	if (!nl)
		return NULL;
	line = hh_asprintf("%.*s", (int)(nl - *s), *s);
	*s = nl + 1;
	return line;
}

char *hh_fixer_program(const hh_config *cfg)
{
	hh_strv argv = {0};
	char *p = NULL;

	if (hh_fixer_argv(&argv, cfg, "prompt.txt", "file", "") < 0) {
		hh_error_wrap("fixer.command");
	} else if (argv.n == 0) {
		hh_error("fixer.command is empty");
	} else if (!(p = hh_strdup(argv.v[0]))) {
		hh_error("out of memory");
	}
	hh_strv_release(&argv);
	return p;
}

int hh_fixer_where_parse(const char *spec, const char **s, hh_fixer_where *w)
{
	char *home = NULL;
	int rc = -1;

	free(w->path);
	free(w->found);
	w->path = w->found = NULL;
	if (!(home = take_line(s)) || !(w->path = take_line(s)) || !(w->found = take_line(s))) {
		hh_error("the probe's answer is cut short");
		goto out;
	}
	if (!*w->found) {
		free(w->found);
		w->found = NULL;
	}
	if (!*home && uses_home(spec))
		hh_log(HH_LOG_WARN, "fixer.path", "path", spec, "why",
		       "the host reports no HOME: its ~ elements are left out", NULL);
	rc = 0;
out:
	free(home);
	return rc;
}

int hh_fixer_locate(hh_remote *r, const hh_config *cfg, long timeout_ms, hh_fixer_where *out)
{
	hh_exec_opts o = {0};
	hh_exec_result res;
	const char *s, *spec = hh_fixer_path_spec(cfg);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	if (!(out->program = hh_fixer_program(cfg)))
		return -1;
	{
		const char *argv_probe[] = {"sh",         "-c", hh_fixer_probe, "sh", spec,
					    out->program, NULL};

		o.cwd = "/";
		o.timeout_ms = timeout_ms;
		o.out_cap = 16 * 1024;
		if (hh_remote_exec(r, argv_probe, &o, &res) < 0) {
			hh_error_wrap("cannot look for the fixer '%s' on the host", out->program);
			goto out;
		}
	}
	s = res.out.ptr;
	if (res.status != 0 || hh_fixer_where_parse(spec, &s, out) < 0) {
		hh_error("cannot look for the fixer '%s' on the host: the probe %s%s%.200s",
			 out->program, res.timed_out ? "timed out" : "failed",
			 res.err.len ? ": " : "", res.err.len ? last_line(&res.err) : "");
		goto out;
	}
	rc = 0;
out:
	hh_exec_result_release(&res);
	return rc;
}

char *hh_fixer_advice(const hh_fixer_where *w)
{
	return hh_asprintf("install %s on the host (Aider: pipx install aider-chat, or python3 -m "
			   "pip install aider-install && aider-install, which put it in "
			   "~/.local/bin) or set fixer.path (HEALHOOK_FIXER_PATH) to the directory "
			   "that holds it",
			   w->program ? w->program : "the fixer");
}

char *hh_fixer_not_found(const hh_fixer_where *w, const char *why)
{
	char *advice = hh_fixer_advice(w);
	char *s = hh_asprintf("the fixer '%s' %s on the host with PATH=%s (fixer.path); %s",
			      w->program ? w->program : "", why, w->path ? w->path : "",
			      advice ? advice : "");

	free(advice);
	return s;
}

void hh_fixer_where_release(hh_fixer_where *w)
{
	if (!w)
		return;
	free(w->program);
	free(w->path);
	free(w->found);
	memset(w, 0, sizeof(*w));
}
