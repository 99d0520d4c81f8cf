/*
 * User keys for the ssh transport. Each key file is read once per run and
 * kept in memory for every host (ssh_sign.c parses it once, or it goes to
 * libssh2_userauth_publickey_frommemory()), so a run of a thousand hosts
 * does not read ~/.ssh a thousand times. The file is inspected just enough
 * to know whether it is encrypted (then its passphrase is asked once on
 * /dev/tty and an OpenSSH-format key is decrypted once with it,
 * ssh_keyfmt.c, instead of libssh2 running the KDF for every host) and
 * whether it is an RSA key (libssh2 1.10 can only sign with ssh-rsa/SHA-1, which OpenSSH >= 8.8
 * refuses; the transport says so when such a key is turned down).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mrsh/log.h"
#include "mrsh/sshwire.h"
#include "mrsh/xmalloc.h"

#include "ssh_keyfmt.h"
#include "ssh_keys.h"
#include "ssh_sign.h"

/* Larger files are not keys. */
#define SSH_KEY_MAX	(64 * 1024)

#define OPENSSH_BEGIN	"-----BEGIN OPENSSH PRIVATE KEY-----"

/* Read a whole small file; NULL with errno on failure. */
static char *
ssh_key_readfile(const char *path, size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (NULL);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > SSH_KEY_MAX) {
		close(fd);
		/* EINVAL: not a regular file; EFBIG: too big for a key */
		errno = S_ISDIR(st.st_mode) ? EISDIR : !S_ISREG(st.st_mode) ?
		    EINVAL : EFBIG;
		return (NULL);
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return (buf);
}

#define SSH_CERT_SUFFIX	"-cert-v01@openssh.com"

/*
 * The plain key blob inside a certificate blob of type t (string type,
 * string nonce, then the key's own fields): NULL if blob is no
 * certificate we know.
 */
static unsigned char *
ssh_key_cert_plain(const unsigned char *blob, size_t len,
    const unsigned char *t, size_t tlen, size_t *outlen)
{
	static const struct {
		const char	*plain;
		int		 nfields;
	} types[] = {
		{ "ssh-ed25519", 1 }, { "ssh-rsa", 2 }, { "ssh-dss", 4 },
		{ "ecdsa-sha2-nistp256", 2 }, { "ecdsa-sha2-nistp384", 2 },
		{ "ecdsa-sha2-nistp521", 2 },
		{ "sk-ssh-ed25519@openssh.com", 2 },
		{ "sk-ecdsa-sha2-nistp256@openssh.com", 3 },
	};
	struct sshwire		 w;
	const unsigned char	*s, *fields;
	unsigned char		*out;
	size_t			 l, plen, slen = strlen(SSH_CERT_SUFFIX), i;
	int			 f;
	char			 name[128];

	if (tlen <= slen || tlen >= sizeof name)
		return (NULL);
	/* "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com": the @ moves */
	memcpy(name, t, tlen);
	name[tlen] = '\0';
	if (strcmp(name + tlen - slen, SSH_CERT_SUFFIX) != 0)
		return (NULL);
	name[tlen - slen] = '\0';
	if (strncmp(name, "sk-", 3) == 0)
		snprintf(name + strlen(name), sizeof name - strlen(name),
		    "@openssh.com");
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (strcmp(types[i].plain, name) == 0)
			break;
	}
	if (i == sizeof types / sizeof types[0])
		return (NULL);
	sshwire_init(&w, blob, len);
	if (sshwire_string(&w, &s, &l) == -1 ||		/* type */
	    sshwire_string(&w, &s, &l) == -1)		/* nonce */
		return (NULL);
	fields = w.p;
	for (f = 0; f < types[i].nfields; f++) {
		if (sshwire_string(&w, &s, &l) == -1)
			return (NULL);
	}
	plen = strlen(name);
	*outlen = 4 + plen + (size_t)(w.p - fields);
	out = xmalloc(*outlen);
	memcpy(sshwire_put_string(out, name, plen), fields,
	    (size_t)(w.p - fields));
	return (out);
}

void
ssh_key_describe(const unsigned char *blob, size_t len, char *buf,
    size_t buflen)
{
	static const struct {
		const char	*name;
		const char	*label;
	} types[] = {
		{ "ssh-ed25519", "ED25519" },
		{ "ssh-rsa", "RSA" },
		{ "ecdsa-sha2-nistp256", "ECDSA" },
		{ "ecdsa-sha2-nistp384", "ECDSA" },
		{ "ecdsa-sha2-nistp521", "ECDSA" },
		{ "ssh-dss", "DSA" },
		{ "sk-ssh-ed25519@openssh.com", "ED25519-SK" },
		{ "sk-ecdsa-sha2-nistp256@openssh.com", "ECDSA-SK" },
		{ "ssh-ed25519-cert-v01@openssh.com", "ED25519-CERT" },
		{ "ssh-rsa-cert-v01@openssh.com", "RSA-CERT" },
		{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ECDSA-CERT" },
		{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ECDSA-CERT" },
		{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ECDSA-CERT" },
		{ "sk-ssh-ed25519-cert-v01@openssh.com", "ED25519-SK-CERT" },
		{ "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
		    "ECDSA-SK-CERT" },
	};
	struct sshwire		 w;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	char			*b64, *eq;
	const unsigned char	*t;
	const char		*label = "unknown";
	unsigned char		*plain = NULL;
	unsigned int		 mdlen = 0;
	size_t			 tl = 0, i, plainlen;

	sshwire_init(&w, blob, len);
	if (sshwire_string(&w, &t, &tl) == 0 && tl > 0) {
		for (i = 0; i < sizeof types / sizeof types[0]; i++) {
			if (strlen(types[i].name) == tl &&
			    memcmp(types[i].name, t, tl) == 0)
				label = types[i].label;
		}
	}
	/* A certificate: as ssh, the fingerprint of its plain key. */
	if (tl > 0 && (plain = ssh_key_cert_plain(blob, len, t, tl,
	    &plainlen)) != NULL) {
		blob = plain;
		len = plainlen;
	}
	if (EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		free(plain);
		snprintf(buf, buflen, "%s", label);
		return;
	}
	free(plain);
	b64 = sshwire_base64(md, mdlen, NULL);
	if ((eq = strchr(b64, '=')) != NULL)
		*eq = '\0';	/* ssh prints it without padding */
	snprintf(buf, buflen, "%s SHA256:%s", label, b64);
	free(b64);
}

/* Keep blob as the key's public key, and describe it. */
static void
ssh_key_setblob(struct ssh_key *k, const unsigned char *blob, size_t len)
{
	if (k->blob != NULL || len == 0)
		return;
	k->blob = xmalloc(len);
	memcpy(k->blob, blob, len);
	k->bloblen = len;
	ssh_key_describe(blob, len, k->desc, sizeof k->desc);
}

/*
 * A public key line, "type base64 [comment]", into the key's blob. 0 if it
 * was one.
 */
static int
ssh_key_publine(struct ssh_key *k, const char *line)
{
	unsigned char	*bin;
	const char	*b, *e;
	size_t		 n, tlen, len;

	if ((b = strchr(line, ' ')) == NULL)
		return (-1);
	tlen = (size_t)(b - line);
	b++;
	for (e = b; *e != '\0' && *e != ' ' && *e != '\n' && *e != '\r'; e++)
		;
	n = (size_t)(e - b);
	if (n < 8)
		return (-1);
	if ((bin = sshwire_unbase64(b, n, SSH_KEY_MAX, &len)) == NULL)
		return (-1);
	if (len < 4 + tlen || sshwire_peek32(bin) != tlen ||
	    memcmp(bin + 4, line, tlen) != 0) {
		free(bin);
		return (-1);
	}
	ssh_key_setblob(k, bin, len);
	free(bin);
	return (0);
}

/* Is it encrypted, is it RSA: OpenSSH format or PEM. */
static void
ssh_key_sniff(struct ssh_key *k)
{
	struct sshwire		 b;
	const unsigned char	*str;
	unsigned char		*raw;
	size_t			 rawlen, len;
	uint32_t		 nkeys;

	if (strstr(k->priv, OPENSSH_BEGIN) != NULL) {
		if ((raw = ssh_keyfmt_open(k->priv, k->privlen, &rawlen,
		    &b)) == NULL)
			return;
		if (sshwire_string(&b, &str, &len) == 0)
			k->encrypted = !(len == 4 &&
			    memcmp(str, "none", 4) == 0);
		/* kdfname, kdfoptions, nkeys, then the first public key. */
		if (sshwire_string(&b, &str, &len) == 0 &&
		    sshwire_string(&b, &str, &len) == 0 &&
		    sshwire_u32(&b, &nkeys) == 0 &&
		    sshwire_string(&b, &str, &len) == 0) {
			ssh_key_setblob(k, str, len);
			sshwire_init(&b, str, len);
			if (sshwire_string_is(&b, "ssh-rsa"))
				k->rsa = 1;
		}
		explicit_bzero(raw, rawlen);
		free(raw);
		return;
	}
	if (strstr(k->priv, "BEGIN RSA PRIVATE KEY") != NULL)
		k->rsa = 1;
	if (strstr(k->priv, "ENCRYPTED") != NULL)
		k->encrypted = 1;
	if (k->pub != NULL && strncmp(k->pub, "ssh-rsa ", 8) == 0)
		k->rsa = 1;
}

/* Signals that must not leave the terminal without echo (as readpassphrase). */
static const int ssh_prompt_sigs[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU
};
#define SSH_PROMPT_NSIGS \
	(sizeof ssh_prompt_sigs / sizeof ssh_prompt_sigs[0])
static volatile sig_atomic_t ssh_prompt_signo;

static void
ssh_prompt_catch(int signo)
{
	ssh_prompt_signo = signo;
}

/*
 * Ask on /dev/tty with echo off. A signal while asking (^C, ^Z) first
 * turns echo back on, then is delivered as it would have been; after a
 * stop (^Z, fg) the question is asked again. NULL: no terminal, or the
 * signal was caught by a handler (the run is being interrupted).
 */
char *
ssh_prompt_secret(const char *prompt)
{
	struct sigaction sa, saved[SSH_PROMPT_NSIGS];
	struct termios	 old, noecho;
	char		 buf[1024], *nl;
	ssize_t		 n;
	size_t		 len, i;
	int		 fd, restore, signo;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1)
		return (NULL);
again:
	len = 0;
	restore = 0;
	ssh_prompt_signo = 0;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = ssh_prompt_catch;	/* no SA_RESTART: read stops */
	for (i = 0; i < SSH_PROMPT_NSIGS; i++)	/* ignored ones stay so */
		if (sigaction(ssh_prompt_sigs[i], NULL, &saved[i]) == 0 &&
		    saved[i].sa_handler != SIG_IGN)
			(void)sigaction(ssh_prompt_sigs[i], &sa, NULL);
	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(ECHO | ECHONL);
		noecho.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSANOW, &noecho) == 0)
			restore = 1;
	}
	if (ssh_prompt_signo == 0)
		(void)write(fd, prompt, strlen(prompt));
	while (ssh_prompt_signo == 0 && len < sizeof buf - 1) {
		n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len) != NULL)
			break;
	}
	buf[len] = '\0';
	if (restore)
		(void)tcsetattr(fd, TCSANOW, &old);
	(void)write(fd, "\n", 1);
	for (i = 0; i < SSH_PROMPT_NSIGS; i++)
		(void)sigaction(ssh_prompt_sigs[i], &saved[i], NULL);
	if ((signo = ssh_prompt_signo) != 0) {
		explicit_bzero(buf, sizeof buf);
		(void)kill(getpid(), signo);	/* dies, stops, or is caught */
		if (signo == SIGTSTP || signo == SIGTTIN || signo == SIGTTOU)
			goto again;
		close(fd);
		return (NULL);
	}
	close(fd);
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
	nl = xstrdup(buf);
	explicit_bzero(buf, sizeof buf);
	return (nl);
}

void
ssh_secret_free(char *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, strlen(p));
	free(p);
}

/*
 * The reading's own errnos in words (EINVAL: not a regular file; EFBIG:
 * too big for a key), the others as strerror says them.
 */
const char *
ssh_key_readerr(int err)
{
	if (err == EINVAL)
		return ("not a regular file");
	if (err == EFBIG)
		return ("larger than 64 KiB, not a key");
	return (strerror(err));
}

struct ssh_key *
ssh_key_peek(struct ssh_keyring *kr, const char *path, int explicit)
{
	struct ssh_key	*k;
	char		*pubpath;
	int		 save;

	for (k = kr->keys; k != NULL; k = k->next) {
		if (strcmp(k->path, path) == 0)
			break;
	}
	if (k == NULL) {
		k = xcalloc(1, sizeof *k);
		k->path = xstrdup(path);
		k->next = kr->keys;
		kr->keys = k;
		k->priv = ssh_key_readfile(path, &k->privlen);
		save = errno;
		k->priv_errno = k->priv == NULL ? save : 0;
		xasprintf(&pubpath, "%s.pub", path);
		if ((k->pub = ssh_key_readfile(pubpath, &k->publen)) != NULL)
			k->pubpath = pubpath;
		else
			free(pubpath);
		if (k->priv != NULL && ssh_key_publine(k, k->priv) == 0) {
			/* IdentityFile x.pub: as ssh, for an agent key. */
			k->pubonly = 1;
		} else if (k->priv == NULL && k->pub != NULL &&
		    ssh_key_publine(k, k->pub) == 0) {
			/* Only x.pub: ssh offers it through the agent. */
			k->pubonly = 1;
		} else if (k->priv == NULL) {
			k->unusable = 1;
			if (explicit && save != ENOENT)
				warnx_m("identity file %s: %s", path,
				    ssh_key_readerr(save));
			else if (explicit)
				info("identity file %s not found", path);
			return (k);
		} else {
			ssh_key_sniff(k);
			if (k->pub != NULL)
				(void)ssh_key_publine(k, k->pub);
		}
		if (k->pubonly && k->blob != NULL && k->bloblen > 11 &&
		    memcmp(k->blob + 4, "ssh-rsa", 7) == 0)
			k->rsa = 1;
		debug("key %s:%s%s%s%s %s", path, k->encrypted ?
		    " encrypted" : "", k->rsa ? " rsa" : "", k->pub != NULL ?
		    " with .pub" : "", k->pubonly ? " public only" : "",
		    k->desc);
	}
	return (k);
}

/*
 * An encrypted OpenSSH-format key, its passphrase just asked: decrypt it
 * once, so that no host pays the KDF again (priv becomes the unencrypted
 * key, the passphrase is forgotten). A wrong passphrase makes the key
 * unusable, said once; a KDF or cipher ssh_keyfmt.c does not do is left
 * to libssh2, which decrypts it for every host (slower, not wrong).
 */
static void
ssh_key_decrypt(struct ssh_key *k)
{
	char	*plain, what[128];
	size_t	 plainlen;

	if (strstr(k->priv, OPENSSH_BEGIN) == NULL) {
		info("key %s: not in OpenSSH format: libssh2 decrypts it "
		    "for every host", k->path);
		return;
	}
	switch (ssh_keyfmt_decrypt(k->priv, k->privlen, k->passphrase,
	    &plain, &plainlen, what, sizeof what)) {
	case SSH_KEYFMT_OK:
		explicit_bzero(k->priv, k->privlen);
		free(k->priv);
		k->priv = plain;
		k->privlen = plainlen;
		k->decrypted = 1;
		ssh_secret_free(k->passphrase);
		k->passphrase = NULL;
		debug("IdentityFile %s: decrypted once (%s)", k->path, what);
		break;
	case SSH_KEYFMT_WRONG_PASSPHRASE:
		k->unusable = 1;
		k->warned = 1;
		warnx_m("key %s: wrong passphrase: skipped", k->path);
		break;
	case SSH_KEYFMT_UNSUPPORTED:
	case SSH_KEYFMT_INVALID:
		info("key %s: %s: mrsh cannot decrypt it once, libssh2 "
		    "decrypts it for every host", k->path, what);
		break;
	}
}

struct ssh_key *
ssh_key_get(struct ssh_keyring *kr, const char *path, int explicit)
{
	struct ssh_key	*k;
	char		*prompt;

	k = ssh_key_peek(kr, path, explicit);
	if (k->unusable || k->pubonly || !k->encrypted ||
	    k->passphrase != NULL || k->decrypted)
		return (k);

	/*
	 * BatchMode: never ask; the key stays unasked for other hosts and
	 * is skipped for this one (ssh_key_locked).
	 */
	if (kr->batch)
		return (k);
	/* Encrypted: ask once; without a terminal the key is skipped. */
	if (!kr->prompt_ok) {
		k->unusable = 1;
		return (k);
	}
	xasprintf(&prompt, "Enter passphrase for key '%s': ", path);
	k->passphrase = ssh_prompt_secret(prompt);
	free(prompt);
	if (k->passphrase == NULL) {
		k->unusable = 1;
		warnx_m("key %s is encrypted and there is no terminal to ask "
		    "for its passphrase: skipped", path);
	} else
		ssh_key_decrypt(k);
	return (k);
}

int
ssh_key_locked(const struct ssh_key *k)
{
	return (k->encrypted && k->passphrase == NULL && !k->decrypted);
}

void
ssh_keyring_free(struct ssh_keyring *kr)
{
	struct ssh_key	*k, *next;

	for (k = kr->keys; k != NULL; k = next) {
		next = k->next;
		if (k->priv != NULL)
			explicit_bzero(k->priv, k->privlen);
		free(k->priv);
		free(k->pub);
		free(k->pubpath);
		free(k->blob);
		ssh_secret_free(k->passphrase);
		ssh_signer_free(k->signer);
		free(k->path);
		free(k);
	}
	kr->keys = NULL;
}
