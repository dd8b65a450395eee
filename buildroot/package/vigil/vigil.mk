################################################################################
#
# vigil
#
################################################################################

# This BR2_EXTERNAL tree sits in the repository's buildroot/ directory, so the
# package builds the repository itself: local site method, hence no tarball, no
# .hash file and no version.
VIGIL_SITE = $(BR2_EXTERNAL_VIGIL_PATH)/..
VIGIL_SITE_METHOD = local
VIGIL_LICENSE = GPL-2.0-or-later

# Buildroot rsyncs the source into its build directory: skip the developer's
# build outputs (target/, and build/ with scripts/build-static's 1 GB toolchain).
VIGIL_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude /target --exclude /build --exclude /output

# Only the daemon: the workspace also holds the namespace-lab test crate.
VIGIL_CARGO_BUILD_OPTS = -p vigil

# Buildroot's cargo environment derives the release profile from BR2_OPTIMIZE_*
# and BR2_ENABLE_LTO (16 codegen units, no LTO by default). Put back the
# workspace's size profile: flash and RAM are what a router lacks. These come
# after Buildroot's variables on the cargo command line, so they win.
VIGIL_CARGO_ENV = \
	CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
	CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
	CARGO_PROFILE_RELEASE_LTO=true

# Crates are normally vendored by Buildroot's download step (into VENDOR/, with
# a .cargo/config.toml pointing there), which a local package skips, while the
# build runs `cargo build --offline --locked`. Two ways to get them here:
# - offline: `cargo vendor --locked VENDOR` in the vigil checkout beforehand
#   (on any machine with network); the rsync copies VENDOR/ and this hook
#   points cargo at it, the same layout as Buildroot's own vendoring;
# - online: without VENDOR/, fetch them into Buildroot's cargo home in DL_DIR
#   (kept there for later builds). Every platform's crates are fetched, as
#   build scripts run on the host. The lock is the one Buildroot's vendoring
#   takes on that cargo home.
define VIGIL_CARGO_FETCH
	if [ -d $(@D)/VENDOR ]; then \
		mkdir -p $(@D)/.cargo && \
		printf '%s\n' '[source.crates-io]' \
			'replace-with = "vendored-sources"' \
			'[source.vendored-sources]' 'directory = "VENDOR"' \
			>$(@D)/.cargo/config.toml; \
	else \
		mkdir -p $(BR_CARGO_HOME) && \
		cd $(@D) && $(TARGET_MAKE_ENV) $(PKG_COMMON_CARGO_ENV) \
			flock $(BR_CARGO_HOME)/.br-lock \
			cargo fetch --locked --manifest-path Cargo.toml; \
	fi
endef
VIGIL_PRE_BUILD_HOOKS += VIGIL_CARGO_FETCH

# The cargo infrastructure's default install is `cargo install` into /usr/bin,
# which cannot name a workspace member and puts a system daemon in the wrong
# place: install the binary built above into /usr/sbin instead, with the
# default config from the repository's rootfs/ (an overlay can replace it).
VIGIL_PROFILE_DIR = $(if $(BR2_ENABLE_DEBUG),debug,release)

define VIGIL_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 \
		$(@D)/target/$(RUSTC_TARGET_NAME)/$(VIGIL_PROFILE_DIR)/vigil \
		$(TARGET_DIR)/usr/sbin/vigil
	$(INSTALL) -D -m 0600 $(@D)/rootfs/etc/vigil/vigil.conf \
		$(TARGET_DIR)/etc/vigil/vigil.conf
endef

# Called by Buildroot when the init system is BusyBox or SysV.
define VIGIL_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(@D)/rootfs/etc/init.d/S45vigil \
		$(TARGET_DIR)/etc/init.d/S45vigil
endef

# Applied when the image is made, after overlays (whose copy makes files
# world-readable): the config can hold VRRP passwords and script paths.
define VIGIL_PERMISSIONS
	/etc/vigil d 700 0 0 - - - - -
	/etc/vigil/vigil.conf f 600 0 0 - - - - -
endef

$(eval $(cargo-package))
