#!/bin/sh
# Install what mrsh needs to build and to run its whole test suite on
# Debian 12 (as root): compilers and autotools, libevent and libssh2 (and
# dpkg-source and Debian's archive keyring for contrib/build-libssh2.sh), the
# real servers and peers the tests and benchmarks start (OpenSSH sshd,
# in.rshd, pdsh, clush, nodeset, nodeattr, sudo, pssh, gnuplot).
set -e
if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root (apt-get install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	dpkg-dev debian-archive-keyring \
	libevent-dev libssh2-1-dev libssl-dev libyaml-dev libgenders0-dev \
	openssh-server openssh-client rsh-server rsh-client \
	iproute2 procps util-linux python3 python3-paramiko ucspi-tcp netcat-openbsd \
	systemd pdsh clustershell genders sudo zsh pssh gnuplot-nox valgrind time \
	man-db >/dev/null
echo "install-deps.sh: dependencies installed"
