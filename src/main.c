/*
 * mrsh: run one command on many hosts at once, from one event loop, and
 * leave no TIME_WAIT sockets behind on this machine.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/pdsh.h"
#include "mrsh/run.h"
#include "mrsh/portsreport.h"
#include "mrsh/sshconfig.h"
#include "mrsh/transport.h"

/*
 * A closed fd 0, 1 or 2 would be taken by the next open() or socket():
 * stdin read from /dev/null's epoll-less fd (-I waits forever), output
 * written into a host's connection. Point closed ones at /dev/null.
 */
static void
main_sanitise_stdfd(void)
{
	int	fd, nullfd = -1;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (nullfd == -1 &&
		    (nullfd = open("/dev/null", O_RDWR)) == -1) {
			perror("mrsh: /dev/null");
			exit(EXIT_USAGE);
		}
		if (nullfd != fd && dup2(nullfd, fd) == -1) {
			perror("mrsh: dup2");
			exit(EXIT_USAGE);
		}
	}
	if (nullfd > 2)
		close(nullfd);
}

int
main(int argc, char **argv)
{
	struct options opt;
	struct run *run;
	const struct transport_ops *ops;
	const struct host *h;
	size_t i;
	int status, pdsh = 0, largest = 1;
	char **pargv = NULL;

	main_sanitise_stdfd();
	log_init("mrsh", 0);
	if (pdsh_invoked(argv[0])) {
		pdsh = 1;
		pargv = pdsh_translate(argc, argv, &argc, &largest);
		argv = pargv;
	}
	options_parse(&opt, argc, argv);
	log_init("mrsh", opt.verbose);

	if (opt.ports_report)
		return portsreport_run(opt.report_lo, opt.report_hi);
	if (opt.dump_config_host != NULL)
		return sshconfig_dump_host(&opt, opt.dump_config_host);
	if (opt.list_groups) {
		options_free(&opt);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (opt.list_hosts) {
		for (i = 0; i < opt.hosts.n; i++) {
			h = &opt.hosts.hosts[i];
			if (h->user != NULL)
				printf("%s@%s\n", h->user, h->label);
			else
				printf("%s\n", h->label);
		}
		options_free(&opt);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if ((ops = transport_find(opt.transport)) == NULL) {
		error("transport %s is not available", opt.transport);
		return EXIT_USAGE;
	}
	if ((run = run_new(&opt, ops)) == NULL) {
		options_free(&opt);
		return EXIT_USAGE;
	}
	status = run_loop(run);
	run_free(run);
	options_free(&opt);
	free(pargv);
	/* pdsh exits 0 whatever the hosts did, unless -S. */
	if (pdsh && !largest && status != EXIT_INTERRUPT)
		status = 0;
	return status;
}
