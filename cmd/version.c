/*
 * healhook version
 */
#include "cmd/cmd.h"
#include "internal/version.h"

#include <stdio.h>
#include <string.h>

int cmd_version(int argc, char **argv)
{
	hh_buf b = HH_BUF_INIT;

	if (argc > 1) {
		int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
		fputs("usage: healhook version\n\nPrints healhook's version and the versions of "
		      "the "
		      "libraries it runs with.\n",
		      help ? stdout : stderr);
		return help ? HH_EXIT_OK : HH_EXIT_USAGE;
	}
	hh_version_libs(&b);
	printf("healhook %s (%s)\n", HH_VERSION, b.ptr);
	hh_buf_release(&b);
	return HH_EXIT_OK;
}
