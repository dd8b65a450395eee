# Host side of the firmware tests (sourced by tests/firmware/run, after
# tests/guest/lib.sh). A guest is QEMU booting a scripts/image disk; the test talks
# to its serial console as a user at the router's console would: it types a
# command line and reads the answer. Nothing is injected into the image.
#
# Every guest of a test sits on one QEMU socket hub (multicast on 127.0.0.1, one
# port per test), so the VRRP traffic never leaves this machine.
#
# Needs: FW_RUN (a directory for this run's guests), FW_IMG (scripts/image output
# root, one directory per arch), FW_CACHE (the per-arch download cache).

FW_SEQ=0
FW_GUEST_SECS=${FW_GUEST_SECS:-240} # hard limit of one guest's life (timeout)

fw_now() { date +%s.%N; }
fw_calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
fw_le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# fw_disk ARCH CONF OUT: a guest's own disk: the arch's image with CONF compiled
# onto its config partition (each guest writes its flash, so none is shared).
fw_disk() {
    cp --sparse=always "$FW_IMG/$1/disk.img" "$3" &&
        "$FW_REPO/scripts/image" "$1" --config "$2" --reflash "$3" -o "$FW_IMG/$1" 2>"$3.log" ||
        { cat "$3.log" >&2; return 1; }
}

# fw_start NAME ARCH DISK LAN MAC PORT: powers a guest on. Its console log grows
# in $FW_RUN/NAME/console.log (kept across reboots of the same NAME).
fw_start() {
    local name=$1 arch=$2 disk=$3 lan=$4 mac=$5 port=$6 d="$FW_RUN/$1"
    mkdir -p "$d"
    rm -f "$d/con.in" "$d/con.out" "$d/qemu.pid"
    mkfifo "$d/con.in" "$d/con.out"
    echo "$arch" >"$d/arch"
    (
        gl_arch "$arch"
        gl_host_qemu "$FW_CACHE/$arch"
        exec timeout -k 5 "$FW_GUEST_SECS" "${GL_QEMU[@]}" -accel tcg -nodefaults -no-reboot \
            -m 128 -display none -serial "pipe:$d/con" -pidfile "$d/qemu.pid" \
            -kernel "$FW_IMG/$arch/vmlinuz" -initrd "$FW_IMG/$arch/initrd.gz" \
            -append "$(cat "$FW_IMG/$arch/cmdline") lan=$lan" \
            -drive "file=$disk,format=raw,if=none,id=d0" -device virtio-blk-pci,drive=d0 \
            -netdev "socket,id=n0,mcast=230.0.0.1:$port,localaddr=127.0.0.1" \
            -device "virtio-net-pci,netdev=n0,mac=$mac,romfile="
    ) >>"$d/qemu.err" 2>&1 &
    echo $! >"$d/timeout.pid"
    # (romfile=: no PXE option ROM; Debian's unpacked QEMU lacks ipxe's files.)
    # QEMU holds both FIFOs open read-write, so this reader ends when QEMU does.
    cat "$d/con.out" >>"$d/console.log" &
    echo $! >"$d/cat.pid"
    fw_now >"$d/powered-on"
    fw_size "$name" >"$d/boot-offset"
}

# fw_type NAME LINE: types LINE and Enter. The FIFO is opened read-write, so a
# dead guest cannot block the harness.
fw_type() { printf '%s\n' "$2" 1<>"$FW_RUN/$1/con.in"; }

# fw_alive NAME: the guest's QEMU still runs.
fw_alive() { kill -0 "$(cat "$FW_RUN/$1/timeout.pid" 2>/dev/null)" 2>/dev/null; }

# fw_wait NAME OFFSET SECS ERE: waits until the console, from byte OFFSET, holds
# a line matching ERE; the line is in FW_LINE.
fw_wait() {
    local d="$FW_RUN/$1" off=$2 secs=$3 re=$4 t0
    t0=$(fw_now)
    while :; do
        FW_LINE=$(tail -c +$((off + 1)) "$d/console.log" 2>/dev/null | tr -d '\r' | grep -E -m1 -- "$re") && return 0
        fw_alive "$1" || return 125
        fw_le "$(fw_calc "$(fw_now) - $t0")" "$secs" || return 124
        sleep 0.1
    done
}

fw_size() { stat -c %s "$FW_RUN/$1/console.log" 2>/dev/null || echo 0; }

# fw_login NAME SECS: waits for the console shell, then switches off its echo and
# prompt so that answers can be read back verbatim. Sets FW_BOOT_S (guest uptime
# when the shell answered).
fw_login() {
    local name=$1 secs=$2 off t0
    off=$(cat "$FW_RUN/$name/boot-offset") # this boot's console, not an earlier one's
    t0=$(fw_now)
    fw_wait "$name" "$off" "$secs" '^BusyBox v.*built-in shell' || return $?
    # The quotes split the word, so the typed (echoed) line never matches READY.
    until fw_wait "$name" "$off" 1 '^READY [0-9.]+'; do
        fw_alive "$name" || return 125
        fw_le "$(fw_calc "$(fw_now) - $t0")" "$secs" || return 124
        fw_type "$name" 'read u _ </proc/uptime; echo "RE""ADY $u"'
    done
    FW_BOOT_S=${FW_LINE#READY }
    sleep 0.5 # let typed-ahead READY lines drain before the quiet mode
    fw_cmd "$name" 10 'stty -echo; PS1=; PS2=' >/dev/null
}

# fw_cmd NAME SECS LINE: runs LINE in the guest's console shell; prints its
# output and returns its exit status (124: no answer within SECS, 125: guest gone).
fw_cmd() {
    local name=$1 secs=$2 line=$3 off n rc
    FW_SEQ=$((FW_SEQ + 1))
    n=$FW_SEQ
    off=$(fw_size "$name")
    fw_type "$name" "$line"
    fw_type "$name" "echo \"@@@\$?@@@$n\""
    fw_wait "$name" "$off" "$secs" "^@@@[0-9]+@@@$n\$"
    rc=$?
    [ $rc -eq 0 ] || return $rc
    rc=${FW_LINE#@@@}
    rc=${rc%%@@@*}
    tail -c +$((off + 1)) "$FW_RUN/$name/console.log" | tr -d '\r' |
        sed -n "/^@@@[0-9]*@@@$n\$/q; p" | grep -v -e '^READY ' -e "@@@\$?@@@$n" || true
    return "$rc"
}

# fw_vrrp NAME: the VRRP view of the guest's first instance, from `vigil status
# --json` and /proc/uptime read together. Sets FW_STATE, FW_SINCE (guest uptime of
# the last transition), FW_UP; returns 1 if vigil does not answer.
fw_vrrp() {
    local out
    out=$(fw_cmd "$1" 10 'cat /proc/uptime; vigil status --json') || return 1
    read -r FW_UP FW_STATE FW_SINCE < <(printf '%s\n' "$out" | python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
up = float(lines[0].split()[0])
st = json.loads(next(l for l in lines if l.startswith("{")))
i = st["instances"][0]
ago = i.get("last_transition_s_ago")
print(f"{up:.3f}", i["state"], "none" if ago is None else f"{up - ago:.3f}")
') || return 1
}

# fw_until_state NAME STATE SECS: polls fw_vrrp until the instance is in STATE.
fw_until_state() {
    local t0
    t0=$(fw_now)
    until fw_vrrp "$1" && [ "$FW_STATE" = "$2" ]; do
        fw_alive "$1" || return 125
        fw_le "$(fw_calc "$(fw_now) - $t0")" "$3" || return 124
        sleep 0.3
    done
}

# fw_has_vip NAME VIP: the address is on the guest's eth0.
fw_has_vip() { fw_cmd "$1" 10 "ip -4 addr show dev eth0 | grep -q ' $2/'" >/dev/null; }

# fw_clock NAME: the guest's uptime minus the host's clock (seconds), read by one
# command typed at host time t: the answer is the guest's uptime a few ms after t.
fw_clock() {
    local t out
    t=$(fw_now)
    out=$(fw_cmd "$1" 10 'cat /proc/uptime') || return 1
    FW_OFFSET=$(fw_calc "${out%% *} - $t")
}

# fw_boot_figure NAME: after fw_until_state NAME MASTER, "U s kernel (H s power-on)":
# U the guest's uptime at the transition, H the same instant on the host's clock
# from fw_start (a cross-check: a starved TCG guest's clock can drift).
fw_boot_figure() {
    local since=$FW_SINCE on
    on=$(cat "$FW_RUN/$1/powered-on")
    fw_clock "$1" || { echo "$since s kernel"; return; }
    echo "$since s kernel ($(fw_calc "$since - $FW_OFFSET - $on") s power-on)"
}

# fw_poweroff NAME: pulls the plug (SIGKILL to QEMU: no shutdown, no priority-0
# advert). Prints the host time of the cut.
fw_poweroff() {
    local d="$FW_RUN/$1" t pid
    pid=$(cat "$d/qemu.pid" 2>/dev/null) || pid=
    t=$(fw_now)
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    fw_reap "$1"
    echo "$t"
}

# fw_reap NAME: waits (bounded) for the guest's QEMU and console reader to end,
# killing them by pid if they do not.
fw_reap() {
    local d="$FW_RUN/$1" p n=0
    while fw_alive "$1" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
    for p in timeout cat; do
        [ -f "$d/$p.pid" ] || continue
        kill "$(cat "$d/$p.pid")" 2>/dev/null
        wait "$(cat "$d/$p.pid")" 2>/dev/null
        rm -f "$d/$p.pid"
    done
    return 0
}

# fw_shutdown NAME SECS: a clean `poweroff` typed at the console (rcK stops vigil),
# then waits for QEMU to exit.
fw_shutdown() {
    fw_type "$1" 'poweroff'
    local n=0
    while fw_alive "$1" && [ $n -lt $(($2 * 10)) ]; do sleep 0.1; n=$((n + 1)); done
    fw_reap "$1"
}

# fw_cleanup: every guest of this run still alive is powered off (by its pid).
fw_cleanup() {
    local d
    for d in "$FW_RUN"/*/; do
        [ -f "$d/timeout.pid" ] && fw_poweroff "$(basename "$d")" >/dev/null
    done
    return 0
}

# --- results: the run counts CHECK lines; TIME lines are the figures.
fw_ok() { echo "CHECK $1 ok${2:+ $2}"; }
fw_fail() { echo "CHECK $1 FAILED ${2:-}"; }
fw_skip() { echo "CHECK $1 skipped $2"; }
fw_time() { echo "TIME $*"; }
