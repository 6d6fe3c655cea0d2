/*
 * san_defaults: the sanitizer defaults of SAN=... builds (linked into every program of such a
 * build by the Makefile; never into a normal build).
 *
 * libgit2 1.5.1 (Debian 12) leaks a little in its ssh transport on every connection: the
 * known_hosts handle and a few strings allocated while connecting are only freed on error
 * (libgit2 issue #6598, fixed upstream by #6599 in 1.7). That is inside the library, under
 * git_remote_connect_ext(), and healhook cannot free it; LeakSanitizer is told to ignore
 * leaks allocated there, and nothing else. The suppression needs whole stacks through
 * libgit2, which has no frame pointers, hence the slow unwinder for malloc stacks.
 */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0:detect_leaks=1";
}

const char *__lsan_default_suppressions(void)
{
	return "leak:git_remote_connect_ext\n";
}
