/*
 * ssh_config and known_hosts as OpenSSH reads them: ~/.ssh/config then
 * /etc/ssh/ssh_config (or -F), -o overrides, Include with globs, Host
 * patterns with * ? !, first value wins. Used by the ssh transport and by
 * -G HOST.
 */
#ifndef MRSH_SSHCONFIG_H
#define MRSH_SSHCONFIG_H

struct options;

/* mrsh -G HOST: print the effective configuration like ssh -G; exit status. */
int	sshconfig_dump_host(const struct options *, const char *host);

#endif
