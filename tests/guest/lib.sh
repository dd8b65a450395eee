# Host-side functions of the guest harness (sourced by tests/guest/run).
#
# Everything the guest needs comes from Debian's archive for the guest's
# architecture, through a private apt state: the host's dpkg setup and package
# set stay untouched, and an arm64 guest never sees an amd64 library.

gl_say() { printf 'guest: %s\n' "$*" >&2; }
gl_die() { gl_say "$*"; exit 2; }

# gl_arch ARCH: sets the per-architecture facts every other function uses.
gl_arch() {
    case "$1" in
    x86_64)
        GL_DEB_ARCH=amd64 GL_TRIPLET=x86_64-linux-gnu GL_CONSOLE=ttyS0
        GL_QEMU=(qemu-system-x86_64 -M pc -cpu max) ;;
    aarch64)
        # cortex-a53: -cpu max is about 5x slower under TCG (notes/qemu.md).
        GL_DEB_ARCH=arm64 GL_TRIPLET=aarch64-linux-gnu GL_CONSOLE=ttyAMA0
        GL_QEMU=(qemu-system-aarch64 -M virt -cpu cortex-a53) ;;
    *) gl_die "unknown arch $1 (x86_64 or aarch64)" ;;
    esac
}

# gl_host_qemu WORK: makes "${GL_QEMU[@]}" runnable. The system's QEMU if it is
# installed; otherwise Debian's qemu-system debs unpacked under WORK, because
# installing them here would remove the host's newer qemu-utils.
gl_host_qemu() {
    local work=$1 bin=${GL_QEMU[0]}
    command -v "$bin" >/dev/null && return 0
    local q="$work/host-qemu"
    if [ ! -f "$q/.complete" ]; then
        gl_say "unpacking $bin from Debian into $q (not installed on the host)"
        rm -rf "$q" && mkdir -p "$q/debs" && chmod 777 "$q/debs"
        (cd "$q/debs" && apt-get download -qq qemu-system-x86 qemu-system-arm \
            qemu-system-common qemu-system-data seabios libcapstone4 libfdt1 libpmem1 \
            librdmacm1 libibverbs1 libslirp0 libvdeplug2 libndctl6 libdaxctl1 \
            libnl-3-200 libnl-route-3-200) || gl_die "apt-get download of QEMU failed"
        local d
        for d in "$q"/debs/*.deb; do dpkg-deb -x "$d" "$q/root"; done
        touch "$q/.complete"
    fi
    local r="$q/root"
    export LD_LIBRARY_PATH="$r/usr/lib/x86_64-linux-gnu:$r/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    GL_QEMU=("$r/usr/bin/$bin" -L "$r/usr/share/qemu" -L "$r/usr/share/seabios" "${GL_QEMU[@]:1}")
    "${GL_QEMU[0]}" --version >/dev/null || gl_die "unpacked $bin does not run"
}

# gl_apt WORK: the private apt options (lists and cache under WORK).
gl_apt() {
    local work=$1
    mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
    GL_APT=(-o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
        -o APT::Architectures::=amd64 -o "APT::Architectures::=$GL_DEB_ARCH")
}

# gl_closure PKG...: PKG and the libraries they depend on, recursively, as
# names apt-get download takes. Only lib* packages (and zlib1g) are followed:
# the guest needs shared objects, not perl, debconf or init helpers.
# libelogind0 is the alternative to libsystemd0 and would overwrite its files.
# apt-cache names a foreign package NAME:ARCH and an Architecture: all one
# plainly (it has no NAME:arm64); a plain name that also has NAME:ARCH is the
# host's copy and dropped.
gl_closure() {
    local p
    for p in "$@"; do echo "$p:$GL_DEB_ARCH"; done
    apt-cache "${GL_APT[@]}" depends --recurse --no-recommends --no-suggests \
        --no-conflicts --no-breaks --no-replaces --no-enhances \
        $(for p in "$@"; do echo "$p:$GL_DEB_ARCH"; done) |
        awk -v a=":$GL_DEB_ARCH" '/^[a-z0-9]/ {
                n = $1
                if (sub(a "$", "", n)) arch[n] = 1; else plain[n] = 1
            }
            END {
                for (n in arch) print n a
                for (n in plain) if (!(n in arch)) print n
            }' |
        grep -E '^(lib|zlib1g)' | grep -vE -- '-perl(:|$)|^libelogind|^libdebian-installer'
}

# gl_fetch WORK PKG...: downloads Debian's cloud kernel, busybox-static and PKG
# (with their libraries) for the guest's arch; unpacks the kernel into WORK/k,
# busybox into WORK/bb and the packages into WORK/root. Cached by a marker that
# names the package list.
gl_fetch() {
    local work=$1; shift
    local want="v3 kernel busybox-static $*" d # bump v3 when the closure rule changes
    [ "$(cat "$work/.fetched" 2>/dev/null)" = "$want" ] && return 0
    gl_apt "$work"
    gl_say "apt-get update (private state, $GL_DEB_ARCH)"
    apt-get "${GL_APT[@]}" update -qq || gl_die "apt-get update failed"
    local kpkg
    kpkg=$(apt-cache "${GL_APT[@]}" depends "linux-image-cloud-$GL_DEB_ARCH:$GL_DEB_ARCH" |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { sub(/:.*/, "", $2); print $2; exit }')
    [ -n "$kpkg" ] || gl_die "apt-cache names no cloud kernel for $GL_DEB_ARCH"
    local pkgs
    pkgs=$(gl_closure "$@" | sort -u) || gl_die "apt-cache depends failed"
    rm -rf "$work/debs" "$work/k" "$work/bb" "$work/root"
    mkdir -p "$work/debs" && chmod 777 "$work/debs" # apt drops to _apt for downloads
    gl_say "downloading $kpkg-unsigned, busybox-static and $(echo "$pkgs" | wc -l) packages"
    (cd "$work/debs" && apt-get "${GL_APT[@]}" download -qq "$kpkg-unsigned:$GL_DEB_ARCH" \
        "busybox-static:$GL_DEB_ARCH" $pkgs) ||
        gl_die "apt-get download failed"
    for d in "$work"/debs/linux-image-*.deb; do dpkg-deb -x "$d" "$work/k"; done
    dpkg-deb -x "$work"/debs/busybox-static_*.deb "$work/bb"
    for d in "$work"/debs/*.deb; do
        case "$(basename "$d")" in linux-image-* | busybox-static_*) continue ;; esac
        dpkg-deb -x "$d" "$work/root"
    done
    echo "$want" >"$work/.fetched"
}

# gl_find_lib ROOT SONAME: the path of SONAME inside ROOT's library directories.
gl_find_lib() {
    local root=$1 so=$2 dir
    for dir in "lib/$GL_TRIPLET" "usr/lib/$GL_TRIPLET" lib usr/lib lib64; do
        [ -e "$root/$dir/$so" ] || [ -L "$root/$dir/$so" ] && { echo "$dir/$so"; return 0; }
    done
    return 1
}

# gl_resolve ROOT REL: REL with every symlink followed inside ROOT. Debian's debs
# hold absolute links (/lib64/ld-linux-x86-64.so.2 -> /lib/...): `cp -L` would
# follow them into the host's own files.
gl_resolve() {
    local root=$1 rel=${2#/} n=0 t
    while [ -L "$root/$rel" ]; do
        t=$(readlink "$root/$rel")
        case "$t" in
        /*) rel=${t#/} ;;
        *) rel=$(dirname "$rel")/$t ;;
        esac
        n=$((n + 1)); [ $n -lt 20 ] || gl_die "symlink loop at $2 in $root"
    done
    [ -e "$root/$rel" ] || return 1
    echo "$rel"
}

# gl_copy_elf ROOT REL DEST: copies ROOT/REL to DEST/REL with its program
# interpreter and every library its NEEDED entries name, recursively, all taken
# from ROOT (the guest arch's own debs). readelf reads the ELF without running
# it, so this works the same for a foreign architecture. A static binary copies
# alone. A soname found nowhere is an error, not a guest that fails to exec.
gl_copy_elf() {
    local root=$1 rel=$2 dest=$3
    local todo=("$rel") seen=" " f real interp i so lib
    while [ ${#todo[@]} -gt 0 ]; do
        f=${todo[0]}; todo=("${todo[@]:1}")
        [[ "$seen" == *" $f "* ]] && continue
        seen+="$f "
        real=$(gl_resolve "$root" "$f") || gl_die "$rel: $f not in $root"
        mkdir -p "$dest/$(dirname "$f")"
        cp "$root/$real" "$dest/$f"
        interp=$(readelf -lW "$root/$real" 2>/dev/null |
            sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
        if [ -n "$interp" ]; then
            i=$(gl_resolve "$root" "$interp") || gl_die "$rel: interpreter $interp not in $root"
            mkdir -p "$dest/$(dirname "$interp")"
            cp "$root/$i" "$dest/$interp"
        fi
        for so in $(readelf -dW "$root/$real" 2>/dev/null |
            sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            lib=$(gl_find_lib "$root" "$so") || gl_die "$rel needs $so: no package provides it"
            todo+=("$lib")
        done
    done
}

# gl_modules KROOT DEST MOD...: copies MOD and their dependencies into
# DEST/lib/modules and writes DEST/lib/modules/order, the insmod order
# (dependencies first, each once). The .deb has no modules.dep: depmod makes it.
gl_modules() {
    local kroot=$1 dest=$2; shift 2
    local kver m path have=" "
    kver=$(basename "$(ls -d "$kroot"/lib/modules/*)")
    depmod -b "$kroot" "$kver" || gl_die "depmod failed"
    mkdir -p "$dest/lib/modules"
    : >"$dest/lib/modules/order"
    for m in "$@"; do
        local deps
        deps=$(modprobe -C /dev/null -d "$kroot" -S "$kver" --show-depends "$m") ||
            gl_die "kernel $kver has no module $m"
        while read -r kind path _; do
            [ "$kind" = insmod ] || continue # builtin: nothing to load
            m=$(basename "$path")
            [[ "$have" == *" $m "* ]] && continue
            have+="$m "
            # Debian compresses modules (.ko.xz) in newer kernels; busybox insmod
            # wants them plain.
            case "$m" in
            *.xz) xz -dc "$path" >"$dest/lib/modules/${m%.xz}"; m=${m%.xz} ;;
            *.zst) zstd -qdc "$path" >"$dest/lib/modules/${m%.zst}"; m=${m%.zst} ;;
            *) cp "$path" "$dest/lib/modules/$m" ;;
            esac
            echo "$m" >>"$dest/lib/modules/order"
        done <<<"$deps"
    done
    GL_KVER=$kver
}

# gl_cpio DIR OUT: DIR as a gzip'd newc initramfs.
gl_cpio() {
    (cd "$1" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$2"
}

# gl_boot KERNEL INITRD APPEND LOG SECONDS [interactive]: boots under TCG with
# no devices but the serial console; prints the guest's CHECK/TIME lines as
# they come and keeps the whole console in LOG. Interactive (--keep) runs
# without timeout, with the terminal attached.
gl_boot() {
    local kernel=$1 initrd=$2 append=$3 log=$4 secs=$5 inter=${6:-}
    local q=("${GL_QEMU[@]}" -accel tcg -nodefaults -no-reboot -m 512 -nographic
        -serial mon:stdio -kernel "$kernel" -initrd "$initrd"
        -append "console=$GL_CONSOLE quiet $append")
    if [ -n "$inter" ]; then
        "${q[@]}" | tee "$log" || true
    else
        timeout --foreground -k 5 "$secs" "${q[@]}" </dev/null 2>&1 | tr -d '\r' | tee "$log" |
            grep --line-buffered -E '^(CHECK|TIME|INFO) ' || true
    fi
    return 0
}
