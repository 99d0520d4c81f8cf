/*
 * mrsh: run one command on many hosts at once, from one event loop, and
 * leave no TIME_WAIT sockets behind on this machine.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/run.h"
#include "mrsh/sockdiag.h"
#include "mrsh/sshconfig.h"
#include "mrsh/transport.h"

int
main(int argc, char **argv)
{
	struct options opt;
	struct run run;
	const struct transport_ops *ops;
	const struct host *h;
	size_t i;
	int status;

	log_init("mrsh", 0);
	options_parse(&opt, argc, argv);
	log_init("mrsh", opt.verbose);

	if (opt.ports_report)
		return portsreport_run(opt.report_lo, opt.report_hi);
	if (opt.dump_config_host != NULL)
		return sshconfig_dump_host(&opt, opt.dump_config_host);
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
	if (run_init(&run, &opt, ops) != 0) {
		run_free(&run);
		options_free(&opt);
		return EXIT_USAGE;
	}
	status = run_loop(&run);
	run_free(&run);
	options_free(&opt);
	return status;
}
