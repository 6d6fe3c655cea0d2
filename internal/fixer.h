/*
 * fixer: how the fixer (Aider) and the repository's check command are invoked. Pure argv and
 * environment building plus the Ollama probe; running them is the pipeline's job (through
 * remote.h, never a shell).
 *
 * The finding's text never appears in an argv: it reaches the fixer only through the prompt
 * file ({prompt} is that file's path).
 */
#ifndef HH_FIXER_H
#define HH_FIXER_H

#include "internal/buf.h"
#include "internal/config.h"

/*
 * The fixer's argv: cfg->fixer_command with {model}, {prompt} (prompt file path), {file} (the
 * target, relative to the scratch work directory) and {ollama} (the chosen base, "" if none).
 */
int hh_fixer_argv(hh_strv *out, const hh_config *cfg, const char *prompt_path, const char *file,
		  const char *ollama);

/*
 * The fixer's whole environment (the command gets nothing else but PATH): HOME=home,
 * NO_COLOR=1, TERM=dumb, BROWSER=true, and OLLAMA_API_BASE when ollama is non-empty.
 */
int hh_fixer_env(hh_strv *out, const char *home, const char *ollama);

/*
 * The default check of a .py file: what `python3 -m py_compile` does (compile() on the file's
 * bytes, its coding cookie honoured), without py_compile's imports and site's start-up (-I -S:
 * 9 ms of Python instead of 30) and without writing a .pyc beside the file. The file is
 * sys.argv[1], never part of the program text. A syntax error exits 1 with
 * "FILE:LINE: SyntaxError: MESSAGE" on stderr.
 */
#define HH_PY_CHECK                                                                                \
	"import sys\n"                                                                             \
	"f = sys.argv[1]\n"                                                                        \
	"try:\n"                                                                                   \
	"    compile(open(f, 'rb').read(), f, 'exec', dont_inherit=True)\n"                        \
	"except (SyntaxError, ValueError, OSError) as e:\n"                                        \
	"    sys.exit('%s:%s: %s: %s' % (f, getattr(e, 'lineno', None) or 0,\n"                    \
	"             type(e).__name__, getattr(e, 'msg', None) or e))\n"

/*
 * The check command for file: repo->check with {file}, else HH_PY_CHECK run by
 * `python3 -I -S -c` for a .py file. Leaves out empty when there is no check for this file type.
 */
int hh_check_argv(hh_strv *out, const hh_repo_config *repo, const char *file);

/* fixer.path's default: where Aider's own installers (aider-install, pipx, pip --user, uv tool)
 * put `aider`, then the system directories. */
#define HH_DEFAULT_FIXER_PATH "~/.local/bin:/usr/local/bin:/usr/bin:/bin"

/* Checks a fixer.path value: ':'-separated, every element an absolute directory, "~" or "~/..."
 * (no empty element). Returns 0, or -1 with an error naming fixer.path. */
int hh_fixer_path_check(const char *spec);

/* The Ollama model name for an aider model ("ollama_chat/qwen2.5-coder:7b" → "qwen2.5-coder:7b";
 * a name without a tag gets ":latest"). Caller frees. */
char *hh_ollama_model_name(const char *aider_model);

/*
 * One candidate: 0 when base's GET /api/tags answers within timeout_ms and lists model (a name
 * from hh_ollama_model_name, compared exactly, after adding ":latest" to untagged names).
 * Otherwise HH_ENOTFOUND "BASE does not have MODEL" when it answered without it, else a
 * failure saying why (no answer, or "URL answered STATUS").
 */
int hh_ollama_has(const char *base, const char *model, long timeout_ms);

/*
 * Returns in *out (caller frees) the first candidate base whose GET /api/tags answers within
 * timeout_ms and lists the model (compared exactly, after adding ":latest" to untagged names).
 * No candidates: *out = NULL and 0. None usable: -1 with an error listing what each said.
 */
int hh_ollama_pick(const hh_strv *candidates, const char *aider_model, long timeout_ms, char **out);

#endif
