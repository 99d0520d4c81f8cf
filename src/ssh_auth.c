/*
 * User authentication for the ssh transport (ssh_auth.h): after the
 * handshake, the server's accepted methods (AUTHLIST), then agent keys,
 * key files, and with --askpass password and keyboard-interactive. Every
 * attempt owns a sub-step whose libssh2 call is repeated with the same
 * arguments on EAGAIN; the transport waits for libssh2's directions in
 * between. When all were refused, one line names what was tried.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh2.h>

#include "mrsh/log.h"
#include "mrsh/match.h"
#include "mrsh/ssh_agent.h"
#include "mrsh/ssh_auth.h"
#include "mrsh/sshalgs.h"
#include "mrsh/sshconfig.h"
#include "mrsh/sshwire.h"
#include "mrsh/xmalloc.h"

#include "ssh_keys.h"
#include "ssh_sign.h"

enum auth_step {
	AUTH_AUTHLIST = 0,
	AUTH_AGENT_LIST,	/* waiting for the agent's keys */
	AUTH_AGENT,
	AUTH_KEY,
	AUTH_PASSWORD,
	AUTH_KBDINT,
	AUTH_DONE,
	AUTH_FAILED
};

static const char *auth_step_names[] = {
	"AUTHLIST", "AUTH_AGENT_LIST", "AUTH_AGENT", "AUTH_KEY", "AUTH_PASSWORD", "AUTH_KBDINT",
	"AUTH_DONE", "AUTH_FAILED"
};

struct ssh_auth {
	void			*sign_abstract;	/* ssh_signer_sign's *abstract */
	LIBSSH2_SESSION		*ssh;
	const struct ssh_host_config *hc;
	struct ssh_keyring	*keys;
	const char		*password;	/* --askpass */
	const char		*label;
	enum auth_step		 step;

	struct event_base	*base;
	double			 agent_timeout;
	void			(*kick)(void *);	/* an agent answered */
	void			*kick_arg;
	const char		*agent_sock;
	struct agent_req	*agent_list;	/* the agent's keys */
	struct agent_req	*agent_sig;	/* a signature under way */
	const struct agent_key	*agent_id;	/* the key offered */
	int			 agent_badsig;	/* its signature malformed */
	char			 agent_why[256]; /* why no agent keys */
	int			 iagent;
	char			*authlist;
	int			 ikey;
	int			 icert;		/* 0 the key, 1 KEY-cert.pub, */
						/* 2.. CertificateFile */
	struct ssh_key		*cert;		/* the certificate offered */
	int			 nkeys_tried;
	int			 nrsa_tried;
	int			 nagent_tried;
	int			 nkeys_bad;	/* could not be used */
	int			 nkeys_excluded; /* PubkeyAcceptedAlgorithms */
	int			 password_tried;
	char			*tried;		/* "agent key ED25519 SHA256:..., ..." */
	int			 nfiles;	/* identity files of the host */
	unsigned char		*via_agent;	/* [nfiles]: offered by the agent */

	enum fail_kind		 fail_kind;	/* AUTH_FAILED: */
	char			 why[1024];
};

/*
 * The password for the keyboard-interactive callback, which gets the
 * session's abstract pointer (the transport's), not ours. Set before each
 * call; one loop, no threads, and one password per run.
 */
static const char *auth_kbdint_password;

/*
 * The one setter of the sub-step: traces "FROM -> TO" at -vvv with the
 * caller's function and line, as session_set_state().
 */
#define auth_set_step(a, st) auth_set_step_at((a), (st), __func__, __LINE__)
static void
auth_set_step_at(struct ssh_auth *a, enum auth_step step, const char *func,
    int line)
{
	log_msg(LOG_DEBUG2, func, line, "%s: ssh %s -> %s", a->label,
	    auth_step_names[a->step], auth_step_names[step]);
	a->step = step;
}

/* Authentication failed: keep the reason for ssh_auth_step's caller. */
static void
auth_fail(struct ssh_auth *a, enum fail_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
auth_fail(struct ssh_auth *a, enum fail_kind kind, const char *fmt, ...)
{
	va_list	ap;

	if (a->step == AUTH_FAILED)
		return;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof a->why, fmt, ap);
	va_end(ap);
	a->fail_kind = kind;
	auth_set_step(a, AUTH_FAILED);
}

/* libssh2's last error text for this session. */
static const char *
auth_errstr(struct ssh_auth *a)
{
	char	*msg = NULL;

	libssh2_session_last_error(a->ssh, &msg, NULL, 0);
	return (msg != NULL && *msg != '\0' ? msg : "unknown error");
}

static const char *
auth_user(struct ssh_auth *a)
{
	return (a->hc->user != NULL ? a->hc->user : "");
}

/*
 * Add one attempt to the list the failure line names; -v says it too
 * ("refused", or why it was not sent when nosig is not NULL).
 */
static void
auth_tried(struct ssh_auth *a, const char *nosig, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
auth_tried(struct ssh_auth *a, const char *nosig, const char *fmt, ...)
{
	char	*what, *all;
	va_list	 ap;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	if (nosig != NULL) {
		info("%s: %s not signed: %s", a->label, what, nosig);
		xasprintf(&all, "%s (not signed: %s)", what, nosig);
		free(what);
		what = all;
	} else
		info("%s: %s refused", a->label, what);
	if (a->tried == NULL)
		a->tried = what;
	else {
		xasprintf(&all, "%s, %s", a->tried, what);
		free(a->tried);
		free(what);
		a->tried = all;
	}
}

static int
auth_list_has(struct ssh_auth *a, const char *method)
{
	return (match_list_has(method, a->authlist));
}

/*
 * May a key with this public blob be offered (PubkeyAcceptedAlgorithms)?
 * As ssh, a key whose type the list leaves out is skipped, and so is a
 * malformed blob (from a broken agent). A key whose public half is not
 * known before decryption is left to libssh2.
 */
static int
auth_type_ok(struct ssh_auth *a, const unsigned char *blob, size_t len)
{
	struct sshwire		 w;
	const unsigned char	*t;
	char			 type[64];
	size_t			 tlen;

	if (blob == NULL)
		return (1);
	sshwire_init(&w, blob, len);
	if (sshwire_string(&w, &t, &tlen) == -1 || tlen == 0 ||
	    tlen >= sizeof type) {
		/* As ssh (key_from_blob: invalid format): not offered. */
		info("%s: skipping a key whose public key blob is malformed",
		    a->label);
		return (0);
	}
	memcpy(type, t, tlen);
	type[tlen] = '\0';
	if (sshalgs_pubkey_ok(a->hc, type))
		return (1);
	debug("%s: skipping %s key: not in PubkeyAcceptedAlgorithms",
	    a->label, type);
	a->nkeys_excluded++;
	return (0);
}

/*
 * Every method we could try was refused: one line naming the user, and
 * each key (type and fingerprint, as ssh -v names them) and method tried.
 */
static void
auth_failed(struct ssh_auth *a)
{
	const char	*user = auth_user(a);
	const char	*askpass;
#ifndef SSH_HAVE_RSA_SHA2
	int		 nkeys = a->nkeys_tried + a->nagent_tried;
#endif

	askpass = a->password == NULL && (auth_list_has(a, "password") ||
	    auth_list_has(a, "keyboard-interactive")) ?
	    " (password authentication needs --askpass)" : "";
	if (a->tried == NULL) {
		if (a->nkeys_bad > 0)
			auth_fail(a, FAIL_AUTH, "permission denied (%s) as %s: "
			    "no usable key (%d could not be read, decrypted or "
			    "found in the agent)%s", a->authlist, user, a->nkeys_bad,
			    askpass);
		else if (auth_list_has(a, "publickey") && a->nkeys_excluded > 0)
			auth_fail(a, FAIL_AUTH, "permission denied (%s) as %s: "
			    "no key to offer (%d left out by "
			    "PubkeyAcceptedAlgorithms)%s", a->authlist, user,
			    a->nkeys_excluded, *askpass != '\0' ?
			    "; password authentication needs --askpass" : "");
		else if (auth_list_has(a, "publickey"))
			auth_fail(a, FAIL_AUTH, "permission denied (%s) as %s: "
			    "no key to offer (%s, no identity file found)%s",
			    a->authlist, user, a->agent_why[0] != '\0' ?
			    a->agent_why : "no agent keys", *askpass != '\0' ?
			    "; password authentication needs --askpass" : "");
		else
			auth_fail(a, FAIL_AUTH, "permission denied as %s: the "
			    "server offers only %s%s", user, a->authlist,
			    a->password == NULL ? " (password "
			    "authentication needs --askpass)" : "");
		return;
	}
#ifndef SSH_HAVE_RSA_SHA2
	if (nkeys > 0 && a->nrsa_tried == nkeys)
		auth_fail(a, FAIL_AUTH, "permission denied (%s) as %s: tried "
		    "%s; the only key%s tried %s RSA and %s", a->authlist, user,
		    a->tried, nkeys > 1 ? "s" : "", nkeys > 1 ? "are" : "is",
		    SSH_RSA_HINT);
	else
#endif
		auth_fail(a, FAIL_AUTH, "permission denied (%s) as %s: tried "
		    "%s; all refused%s%s", a->authlist, user, a->tried,
		    a->nkeys_bad > 0 ? "; a key could not be used" : "",
		    askpass);
}

/* The agent's socket for this host, or NULL for none. */
static const char *
auth_agent_sock(struct ssh_auth *a)
{
	const char	*path = a->hc->identity_agent;
	const char	*sock = getenv("SSH_AUTH_SOCK");

	if (path != NULL)
		return (strcmp(path, "none") == 0 ? NULL : path);
	return (sock != NULL && *sock != '\0' ? sock : NULL);
}

/* An agent request ended: run the session again. */
static void
auth_agent_done(void *arg)
{
	struct ssh_auth	*a = arg;

	a->kick(a->kick_arg);
}

static void
auth_agent_close(struct ssh_auth *a)
{
	agent_req_free(a->agent_list);
	agent_req_free(a->agent_sig);
	a->agent_list = a->agent_sig = NULL;
	a->agent_id = NULL;
}

/*
 * Can this libssh2 send a signature for the agent key's type? It wraps our
 * signature in the key's type name, cut down from a certificate's to the
 * plain key's only for ECDSA before 1.11, and knows no security keys (sk-)
 * before 1.11: the server would refuse what it sent.
 */
static int
auth_agent_usable(const struct agent_key *ak)
{
	static const char *new_types[] = {
		"ssh-ed25519-cert-v01@openssh.com",
		"ssh-rsa-cert-v01@openssh.com",
		"sk-",
	};
	size_t	i, l;

	if (libssh2_version(0x010b00) != NULL)
		return (1);
	if (ak->bloblen < 4)
		return (0);
	for (i = 0; i < sizeof new_types / sizeof new_types[0]; i++) {
		l = strlen(new_types[i]);
		if (ak->bloblen >= 4 + l &&
		    memcmp(ak->blob + 4, new_types[i], l) == 0)
			return (0);
	}
	return (1);
}

/* An RSA certificate, which no libssh2 up to 1.11.1 sends (auth_cert_at). */
static int
auth_rsa_cert(const unsigned char *blob, size_t len)
{
	static const char rsa_cert[] = "ssh-rsa-cert-v01@openssh.com";

	return (len >= 4 + sizeof rsa_cert - 1 &&
	    memcmp(blob + 4, rsa_cert, sizeof rsa_cert - 1) == 0);
}

#define AUTH_RSA_CERT_WHY \
	"cannot send RSA certificates (1.10 signs them with SHA-1, 1.11.1 " \
	"under the plain key's type name)"

/*
 * The key file of index i for this host: its IdentityFile list, which
 * sshconfig fills with ssh's defaults when none is named, and leaves
 * empty for "IdentityFile none". peek: never ask for a passphrase (to
 * match agent keys against the files).
 */
static struct ssh_key *
auth_key_at(struct ssh_auth *a, int i, int peek)
{
	a->keys->batch = a->hc->batch_mode;	/* never prompt */
	if (i >= a->nfiles)
		return (NULL);
	if (peek)
		return (ssh_key_peek(a->keys, a->hc->identity[i],
		    a->hc->identity_explicit));
	return (ssh_key_get(a->keys, a->hc->identity[i],
	    a->hc->identity_explicit));
}

/*
 * The agent key about to be offered is one of the host's identity files:
 * remember it (the file is not offered again). Returns whether it was.
 */
static int
auth_agent_is_file(struct ssh_auth *a)
{
	struct ssh_key	*k;
	int		 i, found = 0;

	for (i = 0; (k = auth_key_at(a, i, 1)) != NULL; i++) {
		if (k->blob != NULL && k->bloblen == a->agent_id->bloblen &&
		    memcmp(k->blob, a->agent_id->blob, k->bloblen) == 0) {
			a->via_agent[i] = 1;
			found = 1;
		}
	}
	return (found);
}

/*
 * A public key only, and no agent offered its private key. The private
 * key may be there and unreadable (EACCES, EMFILE): not "not there".
 */
static void
auth_pubonly(struct ssh_auth *a, struct ssh_key *k)
{
	a->nkeys_bad++;
	if (k->warned)
		return;
	k->warned = 1;
	if (k->priv_errno != 0 && k->priv_errno != ENOENT)
		warnx_m("key %s: cannot read the private key (%s) and no "
		    "agent holds it", k->path, ssh_key_readerr(k->priv_errno));
	else
		warnx_m("key %s: the private key is not there and no agent "
		    "holds it", k->path);
}

/* The public key fields of a key blob: what follows its type name. */
static const unsigned char *
auth_blob_fields(const unsigned char *blob, size_t len, int skip,
    size_t *left)
{
	struct sshwire		 w;
	const unsigned char	*s;
	size_t			 l;
	int			 i;

	sshwire_init(&w, blob, len);
	for (i = 0; i < skip; i++) {	/* type, and a certificate's nonce */
		if (sshwire_string(&w, &s, &l) == -1)
			return (NULL);
	}
	*left = w.left;
	return (w.p);
}

/*
 * Is the certificate blob one for this key? A certificate holds, after
 * its type and nonce, the same public key fields as the key's blob after
 * its type.
 */
static int
auth_cert_matches(const struct ssh_key *cert, const struct ssh_key *k)
{
	const unsigned char	*cf, *kf;
	size_t			 cl, kl;

	if (cert->blob == NULL || k->blob == NULL ||
	    (cf = auth_blob_fields(cert->blob, cert->bloblen, 2, &cl)) ==
	    NULL || (kf = auth_blob_fields(k->blob, k->bloblen, 1, &kl)) ==
	    NULL)
		return (0);
	return (strstr(cert->desc, "-CERT ") != NULL && cl >= kl &&
	    memcmp(cf, kf, kl) == 0);
}

/* The key's parsed signer, made once per run; NULL if we cannot sign. */
static struct ssh_signer *
auth_key_signer(struct ssh_key *k)
{
	if (!k->signer_checked) {
		k->signer_checked = 1;
		if ((!k->encrypted || k->decrypted) && !k->pubonly &&
		    k->priv != NULL)
			k->signer = ssh_signer_new(k->priv, k->privlen);
	}
	return (k->signer);
}

/*
 * Certificate slot i of key k (1: KEY-cert.pub beside it, as ssh loads
 * it; 2..: the CertificateFile lines), if it holds a certificate of k
 * that we can send. One that cannot be sent is refused with the reason,
 * once per run: never offered in a way the server would turn down.
 */
static struct ssh_key *
auth_cert_at(struct ssh_auth *a, struct ssh_key *k, int i)
{
	struct ssh_key	*c;
	char		 path[4096];

	if (i == 1) {
		if (k->pubonly)
			return (NULL);
		snprintf(path, sizeof path, "%s-cert.pub", k->path);
		c = ssh_key_peek(a->keys, path, 0);
	} else
		c = ssh_key_peek(a->keys, a->hc->certificate[i - 2], 1);
	if (c->blob == NULL || !auth_cert_matches(c, k))
		return (NULL);
	if (auth_rsa_cert(c->blob, c->bloblen)) {
		/*
		 * 1.10 signs an RSA certificate with ssh-rsa (SHA-1), which
		 * OpenSSH >= 8.8 refuses; 1.11.1 upgrades it to rsa-sha2-512
		 * but names the request "rsa-sha2-512", without "-cert-v01",
		 * (the inverted memcmp in _libssh2_key_sign_algorithm), which
		 * OpenSSH turns down as a type mismatch.
		 */
		if (!c->warned)
			warnx_m("certificate %s (%s): libssh2 %s "
			    AUTH_RSA_CERT_WHY ": not offered", c->path,
			    c->desc, libssh2_version(0));
		c->warned = 1;
		a->nkeys_bad++;
		return (NULL);
	}
	if (!auth_type_ok(a, c->blob, c->bloblen))
		return (NULL);
	if (libssh2_version(0x010b00) == NULL &&
	    strncmp(c->desc, "ECDSA-CERT ", 11) != 0) {
		if (!c->warned)
			warnx_m("certificate %s (%s): libssh2 %s cannot sign "
			    "with this certificate type (1.11 can): not "
			    "offered", c->path, c->desc, libssh2_version(0));
		c->warned = 1;
		a->nkeys_bad++;
		return (NULL);
	}
	if (ssh_key_locked(k) || k->unusable || auth_key_signer(k) == NULL) {
		if (!c->warned && (ssh_key_locked(k) || k->unusable))
			warnx_m("certificate %s: its key %s %s: not offered",
			    c->path, k->path, ssh_key_locked(k) ? "is "
			    "encrypted and BatchMode asks no passphrase" :
			    "cannot be used");
		else if (!c->warned)
			warnx_m("certificate %s: mrsh can send a certificate "
			    "only with an ed25519 or ECDSA key in OpenSSH "
			    "format, and %s is not one: not offered",
			    c->path, k->path);
		c->warned = 1;
		a->nkeys_bad++;
		return (NULL);
	}
	return (c);
}

/*
 * The next key file to offer, as ssh orders them: each identity file,
 * then its certificates. Returns 1 with ikey (and cert) set, 0 at the end.
 */
static int
auth_next_file(struct ssh_auth *a)
{
	struct ssh_key	*k;

	for (;;) {
		k = a->ikey >= 0 ? auth_key_at(a, a->ikey, 0) : NULL;
		if (k != NULL && a->icert < 1 + a->hc->ncertificate) {
			if ((a->cert = auth_cert_at(a, k, ++a->icert)) != NULL)
				return (1);
			continue;
		}
		a->icert = 0;
		a->cert = NULL;
		if ((k = auth_key_at(a, ++a->ikey, 0)) == NULL)
			return (0);
		if (a->via_agent[a->ikey])
			continue;	/* offered already */
		if (!auth_type_ok(a, k->blob, k->bloblen))
			continue;
		if (k->pubonly) {
			auth_pubonly(a, k);
			continue;
		}
		if (!k->unusable && !ssh_key_locked(k))
			return (1);
		if (k->priv != NULL)
			a->nkeys_bad++;	/* undecryptable */
	}
}

/*
 * Choose the next authentication attempt, after AUTHLIST or a refusal:
 * agent keys, then key files, then (with --askpass) password and
 * keyboard-interactive. The step names the attempt to make.
 */
static void
auth_next(struct ssh_auth *a)
{
	if (a->step == AUTH_AUTHLIST) {
		a->ikey = -1;
		a->agent_id = NULL;
		a->iagent = -1;
		if (auth_list_has(a, "publickey") &&
		    (a->agent_sock = auth_agent_sock(a)) != NULL) {
			auth_set_step(a, AUTH_AGENT_LIST);
			a->agent_list = agent_list_keys(a->base, a->agent_sock,
			    a->agent_timeout, auth_agent_done, a);
			return;
		}
		auth_set_step(a, AUTH_KEY);
	}
	if (a->step == AUTH_AGENT) {
		const struct agent_key *keys;
		int n;
		char desc[128];

		/*
		 * As ssh: with IdentitiesOnly, only the agent keys of
		 * identity files.
		 */
		keys = agent_req_keys(a->agent_list, &n);
		while (++a->iagent < n) {
			a->agent_id = &keys[a->iagent];
			if (!auth_agent_is_file(a) && a->hc->identities_only)
				continue;
			if (auth_rsa_cert(a->agent_id->blob,
			    a->agent_id->bloblen)) {
				ssh_key_describe(a->agent_id->blob,
				    a->agent_id->bloblen, desc, sizeof desc);
				warnx_m("%s: agent key %s (%s): libssh2 %s "
				    AUTH_RSA_CERT_WHY ": skipped", a->label,
				    desc, a->agent_id->comment,
				    libssh2_version(0));
				a->nkeys_bad++;
				continue;
			}
			if (!auth_type_ok(a, a->agent_id->blob,
			    a->agent_id->bloblen))
				continue;
			if (auth_agent_usable(a->agent_id))
				return;
			ssh_key_describe(a->agent_id->blob,
			    a->agent_id->bloblen, desc, sizeof desc);
			warnx_m("%s: agent key %s (%s): libssh2 %s cannot sign "
			    "with this key type (1.11 can): skipped", a->label,
			    desc, a->agent_id->comment, libssh2_version(0));
			a->nkeys_bad++;
		}
		auth_agent_close(a);
		auth_set_step(a, AUTH_KEY);
	}
	if (a->step == AUTH_KEY) {
		if (auth_list_has(a, "publickey") && auth_next_file(a))
			return;
		auth_set_step(a, AUTH_PASSWORD);
		if (a->password != NULL && a->hc->password_auth &&
		    auth_list_has(a, "password"))
			return;
		goto kbdint;		/* password skipped */
	}
	if (a->step == AUTH_PASSWORD) {
kbdint:
		if (a->password != NULL && a->hc->kbdint_auth &&
		    auth_list_has(a, "keyboard-interactive")) {
			auth_set_step(a, AUTH_KBDINT);
			return;
		}
	}
	auth_failed(a);
}

/*
 * libssh2's sign callback for an agent key: the first call asks the agent
 * and says EAGAIN (the session waits, its fd unwatched, until the answer
 * kicks it); libssh2 then calls again with the same data, and gets the
 * signature. RSA keys are signed with the hash the request names
 * (rsa-sha2-256/512 where libssh2 chose it), as libssh2's agent code does.
 */
static int
auth_agent_sign(LIBSSH2_SESSION *session, unsigned char **sig,
    size_t *sig_len, const unsigned char *data, size_t data_len,
    void **abstract)
{
	struct ssh_auth		*a = *abstract;
	struct sshwire		 w;
	const unsigned char	*s, *blob;
	size_t			 len, bloblen;
	unsigned int		 flags = 0;

	*sig = NULL;
	*sig_len = 0;
	if (a->agent_sig == NULL) {
		/* session id, byte 50, user, service, "publickey", 1, alg */
		sshwire_init(&w, data, data_len);
		if (sshwire_string(&w, &s, &len) == 0 &&
		    sshwire_skip(&w, 1) == 0 &&
		    sshwire_string(&w, &s, &len) == 0 &&
		    sshwire_string(&w, &s, &len) == 0 &&
		    sshwire_string(&w, &s, &len) == 0 &&
		    sshwire_skip(&w, 1) == 0 &&
		    sshwire_string(&w, &s, &len) == 0 && len >= 12) {
			/* the -cert-v01@openssh.com names too */
			if (memcmp(s, "rsa-sha2-256", 12) == 0)
				flags = 2;	/* SSH_AGENT_RSA_SHA2_256 */
			else if (memcmp(s, "rsa-sha2-512", 12) == 0)
				flags = 4;	/* SSH_AGENT_RSA_SHA2_512 */
		}
		a->agent_sig = agent_sign(a->base, a->agent_sock,
		    a->agent_timeout, a->agent_id->blob, a->agent_id->bloblen, data, data_len,
		    flags, auth_agent_done, a);
		return (LIBSSH2_ERROR_EAGAIN);
	}
	switch (agent_req_status(a->agent_sig)) {
	case AGENT_PENDING:
		return (LIBSSH2_ERROR_EAGAIN);
	case AGENT_DONE:
		break;
	default:
		return (-1);
	}
	/* string type, string signature: libssh2 adds the type itself */
	blob = agent_req_signature(a->agent_sig, &bloblen);
	sshwire_init(&w, blob, bloblen);
	if (sshwire_string(&w, &s, &len) == -1 ||
	    sshwire_string(&w, &s, &len) == -1) {
		a->agent_badsig = 1;
		return (-1);
	}
	/* libssh2 frees it with the session's allocator: plain free(). */
	if ((*sig = malloc(len > 0 ? len : 1)) == NULL)
		return (-1);
	memcpy(*sig, s, len);
	*sig_len = len;
	return (0);
}

/* The keyboard-interactive prompts: answer each with the password. */
static void
auth_kbdint_cb(const char *name, int name_len, const char *instruction,
    int instruction_len, int num_prompts,
    const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
    LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract)
{
	int	 i;

	for (i = 0; i < num_prompts; i++) {
		responses[i].text = strdup(auth_kbdint_password);
		responses[i].length = responses[i].text != NULL ?
		    (unsigned int)strlen(auth_kbdint_password) : 0;
	}
}

/* AUTHLIST: ask for the server's methods. 1 to go on, 0 on EAGAIN. */
static int
auth_list(struct ssh_auth *a)
{
	char	*list;

	list = libssh2_userauth_list(a->ssh, auth_user(a),
	    (unsigned int)strlen(auth_user(a)));
	if (list == NULL) {
		if (libssh2_userauth_authenticated(a->ssh)) {
			auth_set_step(a, AUTH_DONE);
			return (1);
		}
		if (libssh2_session_last_errno(a->ssh) ==
		    LIBSSH2_ERROR_EAGAIN)
			return (0);
		auth_fail(a, FAIL_PROTOCOL, "cannot get the "
		    "authentication methods: %s", auth_errstr(a));
		return (1);
	}
	a->authlist = xstrdup(list);
	info("%s: the server accepts %s for %s", a->label, list,
	    auth_user(a));
	auth_next(a);
	return (1);
}

/*
 * One authentication attempt. Returns 1 to go on (authenticated or next
 * attempt chosen), 0 on EAGAIN.
 */
static int
auth_attempt(struct ssh_auth *a)
{
	const char	*user = auth_user(a);
	const char	*nosig;
	struct ssh_key	*k;
	char		 desc[128], *badsig = NULL;
	int		 rc;

	switch (a->step) {
	case AUTH_AGENT_LIST:
		switch (agent_req_status(a->agent_list)) {
		case AGENT_PENDING:
			return (0);
		case AGENT_NONE:
			/* No agent there, or a broken one: as ssh, go on. */
			snprintf(a->agent_why, sizeof a->agent_why, "%s",
			    agent_req_error(a->agent_list));
			info("%s: %s", a->label, a->agent_why);
			auth_agent_close(a);
			auth_set_step(a, AUTH_KEY);
			auth_next(a);
			return (1);
		case AGENT_FAILED:
			auth_fail(a, FAIL_AUTH, "%s",
			    agent_req_error(a->agent_list));
			return (1);
		case AGENT_DONE:
			break;
		}
		auth_set_step(a, AUTH_AGENT);
		auth_next(a);
		return (1);
	case AUTH_AGENT:
		a->sign_abstract = a;
		rc = libssh2_userauth_publickey(a->ssh, user,
		    a->agent_id->blob, a->agent_id->bloblen, auth_agent_sign,
		    &a->sign_abstract);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (0);
		if (rc == 0)
			break;
		if (a->agent_sig != NULL &&
		    agent_req_status(a->agent_sig) == AGENT_FAILED) {
			auth_fail(a, FAIL_AUTH, "%s",
			    agent_req_error(a->agent_sig));
			return (1);
		}
		/* As ssh: a signature the agent would not make, next key. */
		nosig = NULL;
		if (a->agent_badsig) {
			xasprintf(&badsig, "ssh-agent %s sent a malformed "
			    "signature", a->agent_sock);
			nosig = badsig;
		} else if (a->agent_sig != NULL &&
		    agent_req_status(a->agent_sig) == AGENT_NONE)
			nosig = agent_req_error(a->agent_sig);
		a->nagent_tried++;
		if (a->agent_id->bloblen > 11 &&
		    memcmp(a->agent_id->blob + 4, "ssh-rsa", 7) == 0)
			a->nrsa_tried++;
		ssh_key_describe(a->agent_id->blob, a->agent_id->bloblen,
		    desc, sizeof desc);
		auth_tried(a, nosig, "agent key %s%s%s%s", desc,
		    *a->agent_id->comment != '\0' ? " (" : "",
		    a->agent_id->comment,
		    *a->agent_id->comment != '\0' ? ")" : "");
		free(badsig);
		agent_req_free(a->agent_sig);
		a->agent_sig = NULL;
		a->agent_badsig = 0;
		auth_next(a);
		return (1);
	case AUTH_KEY:
		k = auth_key_at(a, a->ikey, 0);
		if (a->cert != NULL) {
			/* The certificate, signed with its key. */
			a->sign_abstract = k->signer;
			rc = libssh2_userauth_publickey(a->ssh, user,
			    a->cert->blob, a->cert->bloblen, ssh_signer_sign,
			    &a->sign_abstract);
		} else if (auth_key_signer(k) != NULL) {
			const unsigned char *blob;
			size_t bloblen;

			/* Parsed once per run: we sign ourselves. */
			blob = ssh_signer_pubkey(k->signer, &bloblen);
			a->sign_abstract = k->signer;
			rc = libssh2_userauth_publickey(a->ssh, user, blob,
			    bloblen, ssh_signer_sign, &a->sign_abstract);
		} else
			rc = libssh2_userauth_publickey_frommemory(a->ssh,
			    user, strlen(user), k->pub,
			    k->pub != NULL ? k->publen : 0, k->priv,
			    k->privlen, k->passphrase);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (0);
		if (rc == 0)
			break;
		if (rc == LIBSSH2_ERROR_FILE || (k->encrypted &&
		    strstr(auth_errstr(a), "Callback") != NULL)) {
			/* Unreadable, or a wrong passphrase: never again. */
			if (!k->warned)
				warnx_m("key %s: %s%s", k->path, auth_errstr(a),
				    k->encrypted && !k->decrypted ?
				    " (wrong passphrase?)" : "");
			k->warned = 1;
			k->unusable = 1;
			a->nkeys_bad++;
		} else {
			a->nkeys_tried++;
			if (k->rsa)
				a->nrsa_tried++;
			debug("%s: key %s: %s", a->label, k->path,
			    auth_errstr(a));
			if (a->cert != NULL)
				auth_tried(a, NULL, "certificate %s %s",
				    a->cert->path, a->cert->desc);
			else
				auth_tried(a, NULL, "key file %s%s%s", k->path,
				    k->desc[0] != '\0' ? " " : "", k->desc);
		}
		auth_next(a);
		return (1);
	case AUTH_PASSWORD:
		rc = libssh2_userauth_password_ex(a->ssh, user,
		    (unsigned int)strlen(user), a->password,
		    (unsigned int)strlen(a->password), NULL);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (0);
		if (rc == 0)
			break;
		a->password_tried = 1;
		auth_tried(a, NULL, "password");
		auth_next(a);
		return (1);
	case AUTH_KBDINT:
		auth_kbdint_password = a->password;
		rc = libssh2_userauth_keyboard_interactive_ex(a->ssh, user,
		    (unsigned int)strlen(user), auth_kbdint_cb);
		auth_kbdint_password = NULL;
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (0);
		if (rc == 0)
			break;
		a->password_tried = 1;
		auth_tried(a, NULL, "keyboard-interactive");
		auth_next(a);
		return (1);
	default:
		fatalx("auth_attempt in %s", auth_step_names[a->step]);
	}
	auth_agent_close(a);
	debug("%s: authenticated as %s", a->label, user);
	auth_set_step(a, AUTH_DONE);
	return (1);
}

/*
 * The RSA signature algorithms an RSA key may be signed with, as ssh
 * takes them from PubkeyAcceptedAlgorithms: libssh2 >= 1.11 otherwise
 * picks rsa-sha2-512/256 whatever the list says (with "ssh-rsa" only,
 * ssh signs with SHA-1, which OpenSSH >= 8.8 servers refuse).
 */
static void
auth_rsa_sign_algs(struct ssh_auth *a)
{
#ifdef LIBSSH2_METHOD_SIGN_ALGO
	static const char *rsa[] = {
		"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"
	};
	char	*list, *p, *name, prefs[64] = "";
	size_t	 i;

	if (libssh2_version(0x010b00) == NULL)
		return;
	list = sshalgs_assemble(ALGS_PUBKEY, a->hc->algs[ALGS_PUBKEY]);
	for (p = list; (name = strsep(&p, ",")) != NULL; ) {
		for (i = 0; i < sizeof rsa / sizeof rsa[0]; i++) {
			if (strcmp(name, rsa[i]) == 0 &&
			    !match_list_has(name, prefs))
				snprintf(prefs + strlen(prefs), sizeof prefs -
				    strlen(prefs), "%s%s", *prefs != '\0' ?
				    "," : "", name);
		}
	}
	free(list);
	if (*prefs != '\0' && libssh2_session_method_pref(a->ssh,
	    LIBSSH2_METHOD_SIGN_ALGO, prefs) != 0)
		debug("%s: libssh2 refused the RSA signature list %s",
		    a->label, prefs);
#endif
}

struct ssh_auth *
ssh_auth_new(LIBSSH2_SESSION *ssh, const struct ssh_host_config *hc,
    struct ssh_keyring *keys, const char *password, const char *label,
    struct event_base *base, double connect_timeout, void (*kick)(void *),
    void *kick_arg)
{
	struct ssh_auth	*a;

	a = xcalloc(1, sizeof *a);
	a->base = base;
	/* Fail on the agent's silence before the connect timeout does. */
	a->agent_timeout = SSH_AGENT_TIMEOUT;
	if (connect_timeout > 0 && connect_timeout / 2 < a->agent_timeout)
		a->agent_timeout = connect_timeout / 2;
	a->kick = kick;
	a->kick_arg = kick_arg;
	a->ssh = ssh;
	a->hc = hc;
	a->keys = keys;
	a->password = password;
	a->label = label;
	a->step = AUTH_AUTHLIST;
	a->nfiles = hc->nidentity;
	a->via_agent = xcalloc((size_t)(a->nfiles > 0 ? a->nfiles : 1), 1);
	auth_rsa_sign_algs(a);
	return (a);
}

enum ssh_auth_status
ssh_auth_step(struct ssh_auth *a, enum fail_kind *kind, char *why,
    size_t whylen)
{
	for (;;) {
		switch (a->step) {
		case AUTH_AUTHLIST:
			if (auth_list(a) == 0)
				return (SSH_AUTH_AGAIN);
			break;
		case AUTH_AGENT_LIST:
		case AUTH_AGENT:
		case AUTH_KEY:
		case AUTH_PASSWORD:
		case AUTH_KBDINT:
			if (auth_attempt(a) == 0)
				return (SSH_AUTH_AGAIN);
			break;
		case AUTH_DONE:
			return (SSH_AUTH_DONE);
		case AUTH_FAILED:
			*kind = a->fail_kind;
			snprintf(why, whylen, "%s", a->why);
			return (SSH_AUTH_FAILED);
		}
	}
}

int
ssh_auth_waiting(const struct ssh_auth *a)
{
	return ((a->step == AUTH_AGENT_LIST && a->agent_list != NULL &&
	    agent_req_status(a->agent_list) == AGENT_PENDING) ||
	    (a->step == AUTH_AGENT && a->agent_sig != NULL &&
	    agent_req_status(a->agent_sig) == AGENT_PENDING));
}

void
ssh_auth_free(struct ssh_auth *a)
{
	if (a == NULL)
		return;
	auth_agent_close(a);
	free(a->authlist);
	free(a->tried);
	free(a->via_agent);
	free(a);
}
