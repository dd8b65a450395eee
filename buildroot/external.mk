# BR2_EXTERNAL tree of vigil: pulls in its package recipes. Use it from a
# Buildroot checkout with `make BR2_EXTERNAL=/path/to/vigil/buildroot
# vigil_qemu_x86_64_defconfig` (or vigil_qemu_aarch64_defconfig), then `make`.
include $(sort $(wildcard $(BR2_EXTERNAL_VIGIL_PATH)/package/*/*.mk))
