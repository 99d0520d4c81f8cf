/*
 * CanonicalizeHostname's lookups through evdns (see sshcanon.h): one
 * evdns base with the name servers and options of /etc/resolv.conf but no
 * search list and no hosts file, so that "node03.example.com." is asked
 * of the DNS as it is, as glibc asks it for ssh; A and AAAA with the
 * CNAME the answer names. The job answers sshconfig_host's questions one
 * after the other; -G runs the same job on a private loop.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "mrsh/log.h"
#include "mrsh/sshcanon.h"
#include "mrsh/sshconfig.h"
#include "mrsh/xmalloc.h"

struct sshcanon {
	struct event_base	*base;
	struct evdns_base	*dns;
};

struct sshcanon_job {
	struct sshcanon		*sc;
	struct sshconfig_host	*h;
	struct evdns_getaddrinfo_request *req;
	void			(*done)(void *);
	void			*arg;
	int			 in_call;	/* inside evdns_getaddrinfo */
	int			 answered;	/* ... and it answered */
	int			 cancelled;
	char			 name[1025];	/* asked */
};

static int	sshcanon_ask(struct sshcanon_job *);

struct sshcanon *
sshcanon_new(struct event_base *base)
{
	struct sshcanon	*sc;

	sc = xcalloc(1, sizeof *sc);
	sc->base = base;
	return (sc);
}

void
sshcanon_free(struct sshcanon *sc)
{
	if (sc == NULL)
		return;
	if (sc->dns != NULL)
		evdns_base_free(sc->dns, 1);
	free(sc);
}

/* The resolver: resolv.conf's servers and options, never its search. */
static struct evdns_base *
sshcanon_dns(struct sshcanon *sc)
{
	if (sc->dns != NULL)
		return (sc->dns);
	if ((sc->dns = evdns_base_new(sc->base, 0)) == NULL)
		fatalx("evdns_base_new failed");
	if (evdns_base_resolv_conf_parse(sc->dns, DNS_OPTION_NAMESERVERS |
	    DNS_OPTION_MISC, "/etc/resolv.conf") != 0)
		debug("canonicalization: /etc/resolv.conf unusable");
	/* Unreachable servers: "not found" in seconds, as run_dns(). */
	evdns_base_set_option(sc->dns, "timeout:", "2");
	evdns_base_set_option(sc->dns, "attempts:", "2");
	return (sc->dns);
}

/* evdns answered one name. */
static void
sshcanon_answered(int result, struct evutil_addrinfo *res, void *arg)
{
	struct sshcanon_job	*job = arg;

	job->req = NULL;
	if (result == EVUTIL_EAI_CANCEL || job->cancelled) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		if (!job->in_call)
			free(job);
		return;
	}
	debug("canonicalization: %s: %s%s%s", job->name, result == 0 && res != NULL ? "found" : "not found",
	    res != NULL && res->ai_canonname != NULL ? ", CNAME " : "",
	    res != NULL && res->ai_canonname != NULL ? res->ai_canonname :
	    "");
	sshconfig_canon_answer(job->h, result == 0 ? res : NULL,
	    res != NULL ? res->ai_canonname : NULL);
	if (res != NULL)
		evutil_freeaddrinfo(res);
	if (job->in_call) {
		/* Answered at once: the caller goes on. */
		job->answered = 1;
		return;
	}
	(void)sshcanon_ask(job);
}

/* Ask the next name, or finish (then 1: the job is gone). */
static int
sshcanon_ask(struct sshcanon_job *job)
{
	struct evutil_addrinfo	 hints;
	const char		*name;
	void			(*done)(void *);
	void			*arg;

	for (;;) {
		if ((name = sshconfig_canon_next(job->h)) == NULL) {
			done = job->done;
			arg = job->arg;
			free(job);
			done(arg);
			return (1);
		}
		snprintf(job->name, sizeof job->name, "%s", name);
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_protocol = IPPROTO_TCP;
		hints.ai_flags = EVUTIL_AI_CANONNAME;
		job->in_call = 1;
		job->answered = 0;
		job->req = evdns_getaddrinfo(sshcanon_dns(job->sc), name, "22",
		    &hints, sshcanon_answered, job);
		job->in_call = 0;
		if (!job->answered)
			return (0);	/* the answer comes later */
		job->req = NULL;
	}
}

struct sshcanon_job *
sshcanon_start(struct sshcanon *sc, struct sshconfig_host *h,
    void (*done)(void *), void *arg)
{
	struct sshcanon_job	*job;

	if (sshconfig_canon_next(h) == NULL) {
		done(arg);
		return (NULL);
	}
	job = xcalloc(1, sizeof *job);
	job->sc = sc;
	job->h = h;
	job->done = done;
	job->arg = arg;
	if (sshcanon_ask(job))
		return (NULL);	/* done() has run */
	return (job);
}

void
sshcanon_cancel(struct sshcanon_job *job)
{
	if (job == NULL)
		return;
	job->cancelled = 1;
	if (job->req != NULL)
		evdns_getaddrinfo_cancel(job->req);	/* frees job */
	else
		free(job);
}

static void
sshcanon_sync_done(void *arg)
{
	*(int *)arg = 1;
}

void
sshcanon_sync(struct sshconfig_host *h)
{
	struct event_base	*base;
	struct sshcanon		*sc;
	int			 finished = 0;

	if (sshconfig_canon_next(h) == NULL)
		return;
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	sc = sshcanon_new(base);
	(void)sshcanon_start(sc, h, sshcanon_sync_done, &finished);
	while (!finished)
		event_base_loop(base, EVLOOP_ONCE);
	sshcanon_free(sc);
	event_base_free(base);
}
