/*
 * The lookups of ssh_config's CanonicalizeHostname, made as OpenSSH's
 * getaddrinfo(AI_CANONNAME) on an absolute name makes them, through evdns
 * without blocking the loop: the servers of /etc/resolv.conf, no search
 * list and no hosts file (glibc answers a name ending in a dot from the
 * DNS only), and the CNAME the answer reports. sshconfig.c decides what
 * to look up and what the answers mean.
 */
#ifndef MRSH_SSHCANON_H
#define MRSH_SSHCANON_H

struct event_base;
struct sshconfig_host;
struct sshcanon;
struct sshcanon_job;

/* A resolver on base, made on first use by sshcanon_start(). */
struct sshcanon *sshcanon_new(struct event_base *);
void	sshcanon_free(struct sshcanon *);

/*
 * Answer every lookup h asks for, then call done(arg) (at once, before
 * returning NULL, when there is none). The job frees itself after done;
 * sshcanon_cancel() stops it (done is not called).
 */
struct sshcanon_job *sshcanon_start(struct sshcanon *, struct sshconfig_host *,
	    void (*done)(void *), void *arg);
void	sshcanon_cancel(struct sshcanon_job *);

/* The same, waiting for the answers (mrsh -G, no loop yet). */
void	sshcanon_sync(struct sshconfig_host *);

#endif
