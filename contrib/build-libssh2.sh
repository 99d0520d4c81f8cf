#!/bin/sh
# Build libssh2 1.11.1 from Debian 13 (trixie)'s source package into PREFIX
# (a static libssh2.a with the OpenSSL back end, headers, libssh2.pc), for
#
#   ./configure --with-libssh2=PREFIX
#
# Debian 12 ships libssh2 1.10, which has no rsa-sha2-256/512 (RSA user keys
# and RSA-only hosts are refused by OpenSSH >= 8.8), no certificate key types
# and no channel signals; trixie's 1.11.1 has them, with Debian's security
# patches applied.
#
# The source is fetched with apt under a private apt state (its own sources
# list, lists, cache and state directories under PREFIX/.apt): the machine's
# apt configuration and state are never touched. apt checks the .dsc and the
# tarballs against the Sources index of trixie's Release file, whose
# signature it verifies with Debian's archive keyring
# (/usr/share/keyrings/debian-archive-keyring.gpg, package
# debian-archive-keyring; trixie's keys are in Debian 12's version).
#
# The mirror is the one this machine's apt already uses for Debian (and for
# Debian's security archive); MRSH_DEBIAN_MIRROR and
# MRSH_DEBIAN_SECURITY_MIRROR override them. Needs no root, no new build
# dependency beyond what contrib/install-deps.sh installs (a C compiler,
# make, libssl-dev, dpkg-dev for dpkg-source). Takes about a minute of CPU.
#
# A PREFIX that already holds this version is left as it is (exit 0), so
# check.sh can call this once per run and reuse the build.
set -eu

VERSION=1.11.1
SUITE=trixie
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 PREFIX" >&2
	exit 2
fi
mkdir -p "$1"
PREFIX=$(cd "$1" && pwd)

if [ -f "$PREFIX/lib/libssh2.a" ] && [ -f "$PREFIX/include/libssh2.h" ] &&
    grep -q "^#define LIBSSH2_VERSION  *\"$VERSION\"" \
    "$PREFIX/include/libssh2.h"; then
	echo "build-libssh2.sh: libssh2 $VERSION already in $PREFIX"
	exit 0
fi

for tool in apt-get dpkg-source cc make; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "build-libssh2.sh: $tool not found (contrib/install-deps.sh" \
		    "installs it)" >&2
		exit 1
	fi
done
if [ ! -r "$KEYRING" ]; then
	echo "build-libssh2.sh: $KEYRING missing (apt-get install" \
	    "debian-archive-keyring)" >&2
	exit 1
fi

# The Debian mirrors this machine's apt uses (first one of each label).
mirror_of() {
	apt-get indextargets --format '$(LABEL) $(REPO_URI)' 2>/dev/null |
	    awk -v l="$1" '$1 == l { print $2; exit }'
}
MIRROR=${MRSH_DEBIAN_MIRROR:-$(mirror_of Debian)}
SECMIRROR=${MRSH_DEBIAN_SECURITY_MIRROR:-$(mirror_of Debian-Security)}
if [ -z "$MIRROR" ]; then
	echo "build-libssh2.sh: this machine's apt names no Debian mirror;" \
	    "set MRSH_DEBIAN_MIRROR" >&2
	exit 1
fi

APT=$PREFIX/.apt
rm -rf "$APT"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" \
    "$APT/etc/sources.list.d" "$APT/etc/preferences.d" \
    "$APT/etc/trusted.gpg.d" "$APT/etc/apt.conf.d" "$APT/src"
{
	echo "deb-src [signed-by=$KEYRING] $MIRROR $SUITE main"
	if [ -n "$SECMIRROR" ]; then
		echo "deb-src [signed-by=$KEYRING] $SECMIRROR $SUITE-security main"
	fi
} >"$APT/etc/sources.list"

# Every directory apt reads or writes, pointed at the private state. The
# empty Dir::Etc::Parts keeps the machine's apt.conf.d out; status
# /dev/null: nothing installed matters for a source download.
apt_private() {
	APT_CONFIG=/dev/null apt-get \
	    -o Dir::Etc=/nonexistent \
	    -o Dir::Etc::main=/dev/null \
	    -o Dir::Etc::Parts="$APT/etc/apt.conf.d" \
	    -o Dir::Etc::SourceList="$APT/etc/sources.list" \
	    -o Dir::Etc::SourceParts="$APT/etc/sources.list.d" \
	    -o Dir::Etc::Preferences="$APT/etc/preferences" \
	    -o Dir::Etc::PreferencesParts="$APT/etc/preferences.d" \
	    -o Dir::Etc::Trusted="$APT/etc/trusted.gpg" \
	    -o Dir::Etc::TrustedParts="$APT/etc/trusted.gpg.d" \
	    -o Dir::State="$APT" \
	    -o Dir::State::Lists="$APT/lists" \
	    -o Dir::State::status=/dev/null \
	    -o Dir::Cache="$APT/cache" \
	    -o Dir::Log="$APT" \
	    -o Debug::NoLocking=1 \
	    -o APT::Sandbox::User="$(id -un)" \
	    -o Acquire::Languages=none \
	    "$@"
}

echo "build-libssh2.sh: fetching libssh2 from $SUITE's source package"
apt_private -q update >"$APT/update.log" 2>&1 || {
	cat "$APT/update.log" >&2
	echo "build-libssh2.sh: apt-get update (private state) failed" >&2
	exit 1
}
# A Release file apt could not verify leaves no Sources index: say so.
if ! ls "$APT/lists/"*_"$SUITE"_main_source_Sources* >/dev/null 2>&1; then
	cat "$APT/update.log" >&2
	echo "build-libssh2.sh: no verified $SUITE Sources index" >&2
	exit 1
fi
(cd "$APT/src" && apt_private -q source "libssh2" >"$APT/source.log" 2>&1) || {
	cat "$APT/source.log" >&2
	echo "build-libssh2.sh: apt-get source libssh2 failed" >&2
	exit 1
}
DEBVER=$(sed -n 's/^Version: //p' "$APT/src/"libssh2_*.dsc | head -1)
SRC=$APT/src/libssh2-$VERSION
if [ ! -x "$SRC/configure" ]; then
	echo "build-libssh2.sh: $SUITE has libssh2 $DEBVER, not $VERSION" >&2
	exit 1
fi
echo "build-libssh2.sh: building libssh2 $DEBVER into $PREFIX"

# Upstream configure, OpenSSL back end, static only, no zlib (mrsh does not
# ask for compression), neither examples nor libssh2's own tests.
cd "$SRC"
./configure --prefix="$PREFIX" --with-crypto=openssl --disable-shared \
    --enable-static --without-libz --disable-examples-build \
    --disable-docker-tests --disable-sshd-tests \
    >"$APT/configure.log" 2>&1 || {
	tail -30 "$APT/configure.log" >&2
	echo "build-libssh2.sh: libssh2's configure failed" >&2
	exit 1
}
{ make -j2 -C src && make -C src install && make install-pkgconfigDATA \
    install-includeHEADERS; } >"$APT/make.log" 2>&1 || {
	tail -30 "$APT/make.log" >&2
	echo "build-libssh2.sh: building libssh2 failed" >&2
	exit 1
}
echo "$DEBVER" >"$PREFIX/DEBIAN-VERSION"
cd "$PREFIX"
rm -rf "$APT/src"
echo "build-libssh2.sh: libssh2 $DEBVER in $PREFIX"
