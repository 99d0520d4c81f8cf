/*
 * The transport vtable: how a session's protocol work is done (ssh, rsh,
 * exec). The engine calls these; the transport answers through session.h.
 * A transport never frees the session and never exits the process.
 */
#ifndef MRSH_TRANSPORT_H
#define MRSH_TRANSPORT_H

struct run;
struct session;

struct transport_ops {
	const char	*name;

	/*
	 * File descriptors one running session holds at most (the fanout is
	 * fitted to the open-file limit with it), and how many of them are
	 * sockets bound from the source-port pool (0: no pool, --ports is
	 * ignored).
	 */
	int		 fds_per_session;
	int		 ports_per_session;

	/*
	 * Once per run, before any session starts (load keys, read config).
	 * Returns 0, or -1 after printing a one-line error (mrsh exits 2).
	 */
	int		(*init)(struct run *);

	/*
	 * Start (or, after session_wait_port_for(), resume) the session. Called in
	 * S_PENDING; the transport reports its progress (session_event(): a
	 * lookup, a connect, the stream up, the command started) and the
	 * session moves on.
	 */
	void		(*start)(struct session *);

	/*
	 * Everything has arrived (stdout EOF, stderr EOF, exit status), or
	 * the session failed (abort = 1), or timed out. Close per the run's
	 * --close mode, release every resource, then call session_closed().
	 * With abort = 1 the transport must finish promptly (RST, SIGKILL).
	 * May be called once only.
	 */
	void		(*close)(struct session *, int abort);

	/* Stop (paused = 1) or resume reading this session's output. */
	void		(*set_paused)(struct session *, int paused);

	/* Ctrl-C forwarding (rsh: over the stderr connection); may be NULL. */
	void		(*signal)(struct session *, int signo);

	/* Free transport state once the session is finished; may be NULL. */
	void		(*free)(struct session *);

	/* Once per run, after the loop ends; may be NULL. */
	void		(*cleanup)(struct run *);
};

extern const struct transport_ops transport_exec;
extern const struct transport_ops transport_ssh;
extern const struct transport_ops transport_rsh;

const struct transport_ops *transport_find(const char *name);

#endif
