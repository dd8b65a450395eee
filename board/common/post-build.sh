#!/bin/sh
# Post-build steps shared by the vigil boards. Buildroot runs each board's
# post-build.sh (BR2_ROOTFS_POST_BUILD_SCRIPT) after the packages and the rootfs
# overlay are in the target tree, with that tree as $1 and in $TARGET_DIR.
set -eu

target=${1:-${TARGET_DIR:?post-build.sh: no target directory given}}

# Fail the image here, not at boot: the daemon and its init script come from the
# vigil package (BR2_PACKAGE_VIGIL), the config from the package or the overlay.
for f in usr/sbin/vigil etc/init.d/S45vigil etc/vigil/vigil.conf; do
	[ -e "$target/$f" ] || {
		echo "post-build.sh: $f missing from $target (is BR2_PACKAGE_VIGIL enabled?)" >&2
		exit 1
	}
done

# The overlay copy makes every file world-readable, but the config may hold VRRP
# passwords and names scripts that vigil runs as root: only root reads it.
chmod 0700 "$target/etc/vigil"
chmod 0600 "$target/etc/vigil/vigil.conf"
chmod 0755 "$target/usr/sbin/vigil" "$target/etc/init.d/S45vigil"
