/*
 * nullhttp: the HTTP floor of the intake benchmark (bench/limits.py). libmicrohttpd set up
 * as healhook's receiver sets it up (a pool of 8 threads, epoll), answering every POST with
 * 202 and a small JSON body once its whole body has arrived: no signature, no parse, no
 * store. With --close every answer closes its connection, as healhook's do.
 *
 *   nullhttp PORT [--close]      (runs until killed; prints "ready" when listening)
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int close_each;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	static const char body[] = "{\"status\":\"accepted\"}\n";
	struct MHD_Response *r;
	enum MHD_Result rc;
	(void)cls, (void)url, (void)method, (void)version, (void)data;

	if (!*con_cls) {
		*con_cls = c; /* the head: wait for the body */
		return MHD_YES;
	}
	if (*data_size) {
		*data_size = 0;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (close_each)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	rc = MHD_queue_response(c, 202, r);
	MHD_destroy_response(r);
	return rc;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	if (argc < 2) {
		fprintf(stderr, "usage: nullhttp PORT [--close]\n");
		return 2;
	}
	close_each = argc > 2 && strcmp(argv[2], "--close") == 0;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
			     (uint16_t)atoi(argv[1]), NULL, NULL, on_request, NULL,
			     MHD_OPTION_THREAD_POOL_SIZE, 8u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
			     (size_t)32768, MHD_OPTION_CONNECTION_LIMIT, 512u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "nullhttp: cannot listen on port %s\n", argv[1]);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
