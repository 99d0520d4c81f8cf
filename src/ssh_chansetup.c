/*
 * The channel requests ssh makes before "exec" (clientloop.c,
 * client_session2_setup): pty-req, then SendEnv's variables in the order of
 * mrsh's environment, then SetEnv's. ssh sends the env requests without
 * asking for a reply, so a server that does not accept a variable
 * (AcceptEnv) is silent about it; libssh2 always asks, and a refusal is
 * only noted at -vv here. ssh carries on without a pty it could not get;
 * mrsh fails the host instead, since the pty was asked for because the
 * command needs one (sudo with requiretty). ssh sends the local terminal's
 * modes; mrsh sends none (the server's defaults), except ECHO off for
 * --sudo.
 */
#include "config.h"

#include <sys/ioctl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <libssh2.h>

#include "mrsh/log.h"
#include "mrsh/match.h"
#include "mrsh/sshconfig.h"
#include "mrsh/xmalloc.h"
#include "ssh_chansetup.h"

extern char **environ;

enum {
	CHANSETUP_PTY = 0,
	CHANSETUP_SENDENV,
	CHANSETUP_SETENV,
	CHANSETUP_DONE
};

int
ssh_chansetup_want_tty(int opt_tty, const struct ssh_host_config *hc)
{
	if (opt_tty != -1)
		return (opt_tty);
	switch (hc->request_tty) {
	case REQUEST_TTY_FORCE:
		return (1);
	case REQUEST_TTY_YES:
		return (isatty(STDIN_FILENO));
	default:
		return (0);
	}
}

/* Is the variable NAME=value in env one that SendEnv names? */
static int
ssh_chansetup_sendenv(const struct ssh_host_config *hc, const char *env,
    char **name, const char **value)
{
	const char	*eq;
	int		 i;

	if ((eq = strchr(env, '=')) == NULL)
		return (0);
	*name = xstrndup(env, (size_t)(eq - env));
	for (i = 0; i < hc->nsend_env; i++) {
		if (match_pattern(*name, hc->send_env[i])) {
			*value = eq + 1;
			return (1);
		}
	}
	free(*name);
	*name = NULL;
	return (0);
}

/* One env request; 0 sent or refused, EAGAIN, or -1 with err. */
static int
ssh_chansetup_env(LIBSSH2_CHANNEL *ch, const char *name, const char *value,
    char *err, size_t errlen)
{
	int	rc;

	rc = libssh2_channel_setenv_ex(ch, name, (unsigned int)strlen(name),
	    value, (unsigned int)strlen(value));
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return (rc);
	if (rc == 0)
		debug2("env %s sent", name);
	else if (rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED)
		debug2("env %s not accepted by the server (AcceptEnv)", name);
	else {
		snprintf(err, errlen, "env request for %s failed (%d)", name,
		    rc);
		return (-1);
	}
	return (0);
}

int
ssh_chansetup_step(LIBSSH2_CHANNEL *ch, struct ssh_chansetup *cs,
    const struct ssh_host_config *hc, int want_tty, int noecho, char *err,
    size_t errlen)
{
	/* RFC 4254 8: ECHO (53) = 0, then TTY_OP_END. */
	static const char echo_off[] = { 53, 0, 0, 0, 0, 0 };
	struct winsize	 ws;
	const char	*term, *value, *eq;
	char		*name;
	int		 rc;

	if (cs->phase == CHANSETUP_PTY) {
		if (want_tty) {
			/* As ssh: $TERM, the size of stdin's terminal or 0. */
			if ((term = getenv("TERM")) == NULL)
				term = "";
			if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == -1)
				memset(&ws, 0, sizeof ws);
			rc = libssh2_channel_request_pty_ex(ch, term,
			    (unsigned int)strlen(term),
			    noecho ? echo_off : NULL,
			    noecho ? (unsigned int)sizeof echo_off : 0, ws.ws_col,
			    ws.ws_row, ws.ws_xpixel, ws.ws_ypixel);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return (rc);
			if (rc != 0) {
				snprintf(err, errlen, "the server refused a "
				    "pseudo-terminal (pty-req)%s",
				    rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED ?
				    "" : ": request failed");
				return (-1);
			}
		}
		cs->phase = CHANSETUP_SENDENV;
		cs->i = 0;
	}
	while (cs->phase == CHANSETUP_SENDENV) {
		if (hc->nsend_env == 0 || environ == NULL ||
		    environ[cs->i] == NULL) {
			cs->phase = CHANSETUP_SETENV;
			cs->i = 0;
			break;
		}
		if (!ssh_chansetup_sendenv(hc, environ[cs->i], &name,
		    &value)) {
			cs->i++;
			continue;
		}
		rc = ssh_chansetup_env(ch, name, value, err, errlen);
		free(name);
		if (rc != 0)
			return (rc);
		cs->i++;
	}
	while (cs->phase == CHANSETUP_SETENV) {
		if (cs->i >= hc->nset_env) {
			cs->phase = CHANSETUP_DONE;
			break;
		}
		/* Checked at load time: every SetEnv word has an '='. */
		eq = strchr(hc->set_env[cs->i], '=');
		name = xstrndup(hc->set_env[cs->i],
		    (size_t)(eq - hc->set_env[cs->i]));
		rc = ssh_chansetup_env(ch, name, eq + 1, err, errlen);
		free(name);
		if (rc != 0)
			return (rc);
		cs->i++;
	}
	return (0);
}
