#!/bin/sh
# Buildroot post-build script for qemu-aarch64 (BR2_ROOTFS_POST_BUILD_SCRIPT).
# Nothing is specific to this board yet: the vigil steps live in common/.
exec "$(dirname "$0")/../common/post-build.sh" "$@"
