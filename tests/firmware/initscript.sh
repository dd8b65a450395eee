# The init script and the config partition as a user meets them at the console of
# one router booted from the default image (sourced by tests/firmware/run). The
# router is alone on its hub, so the default config (VIP 192.168.1.254) makes it
# MASTER.
#
# fw_initscript ARCH PORT:
#   boot      / is the read-only squashfs, /etc/vigil the ext4 flash holding the
#             compiled (VIGL) config, S45vigil started vigil from it at boot
#   status    `S45vigil status` while running (0) and stopped (3)
#   stop/start, options (/etc/default/vigil -> /etc/vigil/default: VIGIL_ARGS, CONTROL)
#   reload    a recompiled config (priority 150) is applied in place, same pid;
#             a broken one is refused and the running config kept (also by restart)
#   persist   after `reboot` the recompiled config is the one running
#   corrupt   a byte flipped in the binary config: refused at boot with a console
#             message, the image default runs instead
fw_initscript() {
    local arch=$1 port=$2 g="init-$1" vip=192.168.1.254 out pid disk="$FW_RUN/init-$1.img"
    local S=/etc/init.d/S45vigil mac
    mac="52:54:00:$(printf '%02x' $((port % 256))):00:01"
    fw_disk "$arch" "$FW_REPO/rootfs/etc/vigil/vigil.conf" "$disk" || { fw_fail "$g.image" "scripts/image failed"; return; }
    fw_start "$g" "$arch" "$disk" 192.168.1.1/24 "$mac" "$port"
    fw_login "$g" 60 || { fw_fail "$g.boot" "no console shell within 60 s ($FW_RUN/$g/console.log)"; fw_cleanup; return; }
    if fw_cmd "$g" 10 "grep -q ' / squashfs ro' /proc/mounts && grep -q '^/dev/vda2 /etc/vigil ext4 rw' /proc/mounts && [ \"\$(head -c 4 /etc/vigil/vigil.conf)\" = VIGL ] && ! touch /usr/x 2>/dev/null" >/dev/null &&
        fw_until_state "$g" MASTER 30 && fw_has_vip "$g" "$vip"; then
        fw_ok "$g.boot" "squashfs / read-only, flash /etc/vigil ext4 rw with a VIGL config, MASTER with $vip at $FW_SINCE s"
    else
        fw_fail "$g.boot" "mounts, binary config or MASTER state wrong ($(fw_cmd "$g" 10 'cat /proc/mounts' | tr '\n' ';'))"
    fi
    out=$(fw_cmd "$g" 10 "$S status")
    if [ $? -eq 0 ] && [[ "$out" == *"is running (pid"*"config /etc/vigil/vigil.conf)"* ]] && [[ "$out" == *MASTER* ]]; then
        fw_ok "$g.status-running" "exit 0: $(head -n 1 <<<"$out")"
    else
        fw_fail "$g.status-running" "$(tr '\n' ';' <<<"$out")"
    fi

    out=$(fw_cmd "$g" 20 "$S stop")
    if [ $? -eq 0 ] && [[ "$out" == *"Stopping vigil: OK"* ]] && ! fw_has_vip "$g" "$vip" &&
        fw_cmd "$g" 10 '[ ! -e /var/run/vigil.pid ]' >/dev/null; then
        fw_ok "$g.stop" "VIP $vip and pid file gone"
    else
        fw_fail "$g.stop" "$(tr '\n' ';' <<<"$out")"
    fi
    out=$(fw_cmd "$g" 10 "$S status")
    if [ $? -eq 3 ] && [[ "$out" == *"vigil is not running"* ]]; then
        fw_ok "$g.status-stopped" "exit 3: $out"
    else
        fw_fail "$g.status-stopped" "$(tr '\n' ';' <<<"$out")"
    fi
    out=$(fw_cmd "$g" 20 "$S start")
    if [ $? -eq 0 ] && fw_until_state "$g" MASTER 30 && fw_has_vip "$g" "$vip"; then
        fw_ok "$g.start" "$out; MASTER with $vip again"
    else
        fw_fail "$g.start" "$(tr '\n' ';' <<<"$out")"
    fi

    # Options: the site file on the flash, read through /etc/default/vigil.
    fw_cmd "$g" 10 "printf 'VIGIL_ARGS=\"-D\"\nCONTROL=/run/vigil-alt.sock\n' >/etc/vigil/default" >/dev/null
    out=$(fw_cmd "$g" 30 "$S restart && sleep 1 && tr '\\0' ' ' </proc/\$(cat /var/run/vigil.pid)/cmdline && echo && $S status")
    if [ $? -eq 0 ] && [[ "$out" == *"run -n -f /etc/vigil/vigil.conf --control /run/vigil-alt.sock -D"* ]] &&
        [[ "$out" == *"is running"* ]] && fw_cmd "$g" 10 '[ -S /run/vigil-alt.sock ] && [ ! -e /run/vigil.sock ]' >/dev/null; then
        fw_ok "$g.options" "restart took VIGIL_ARGS=-D and CONTROL=/run/vigil-alt.sock; status asked that socket"
    else
        fw_fail "$g.options" "$(tr '\n' ';' <<<"$out")"
    fi
    fw_cmd "$g" 30 "rm /etc/vigil/default && $S restart" >/dev/null

    # Reload: the user edits the text, compiles it onto the flash, reloads.
    fw_until_state "$g" MASTER 30
    pid=$(fw_cmd "$g" 10 'cat /var/run/vigil.pid')
    out=$(fw_cmd "$g" 20 "vigil show /etc/vigil/vigil.conf | sed -E 's/(priority[[:space:]]+)100/\\1150/' >/tmp/new.conf && vigil compile /tmp/new.conf -o /etc/vigil/vigil.conf && $S reload && sleep 1 && vigil status --json")
    if [ $? -eq 0 ] && grep -Eq '"base_priority": ?150' <<<"$out" && [ "$(fw_cmd "$g" 10 'cat /var/run/vigil.pid')" = "$pid" ] &&
        fw_until_state "$g" MASTER 5; then
        fw_ok "$g.reload" "priority 150 applied by SIGHUP, same pid $pid, still MASTER"
    else
        fw_fail "$g.reload" "$(tr '\n' ';' <<<"$out" | cut -c 1-300)"
    fi
    out=$(fw_cmd "$g" 20 "cp /etc/vigil/vigil.conf /tmp/good && echo 'vrrp_instance VI_1 {' >/etc/vigil/vigil.conf && $S reload")
    local rc=$?
    if [ $rc -ne 0 ] && [[ "$out" == *"still running the previous config"* ]] &&
        [ "$(fw_cmd "$g" 10 'cat /var/run/vigil.pid')" = "$pid" ] && fw_until_state "$g" MASTER 5 && fw_has_vip "$g" "$vip" &&
        fw_cmd "$g" 10 "vigil status --json | grep -Eq '\"base_priority\": ?150'" >/dev/null; then
        fw_ok "$g.reload-broken" "exit $rc, '$out'; same pid, MASTER with $vip, priority 150 kept"
    else
        fw_fail "$g.reload-broken" "exit $rc: $(tr '\n' ';' <<<"$out")"
    fi
    out=$(fw_cmd "$g" 30 "$S restart")
    rc=$?
    if [ $rc -ne 0 ] && [ "$(fw_cmd "$g" 10 'cat /var/run/vigil.pid')" = "$pid" ] && fw_has_vip "$g" "$vip"; then
        fw_ok "$g.restart-broken" "exit $rc, '$(tr '\n' ' ' <<<"$out")'; the running daemon kept"
    else
        fw_fail "$g.restart-broken" "exit $rc: $(tr '\n' ';' <<<"$out")"
    fi
    fw_cmd "$g" 10 'cp /tmp/good /etc/vigil/vigil.conf && sync' >/dev/null

    # Persistence: a clean reboot (rcK stops vigil, unmounts the flash).
    fw_type "$g" reboot
    fw_reap "$g"
    fw_start "$g" "$arch" "$disk" 192.168.1.1/24 "$mac" "$port"
    if fw_login "$g" 60 && fw_until_state "$g" MASTER 30 &&
        fw_cmd "$g" 10 "vigil status --json | grep -Eq '\"base_priority\": ?150'" >/dev/null; then
        fw_ok "$g.persist" "after reboot the compiled priority-150 config from the flash runs (MASTER at $FW_SINCE s)"
    else
        fw_fail "$g.persist" "priority 150 not running after reboot (state ${FW_STATE:-none})"
    fi

    # A corrupt binary: one body byte flipped, so the CRC no longer matches.
    fw_cmd "$g" 10 "printf '\\377' | dd of=/etc/vigil/vigil.conf bs=1 seek=24 conv=notrunc 2>/dev/null; sync; vigil check -f /etc/vigil/vigil.conf" >"$FW_RUN/$g/corrupt-check.txt"
    fw_type "$g" reboot
    fw_reap "$g"
    local off
    off=$(fw_size "$g")
    fw_start "$g" "$arch" "$disk" 192.168.1.1/24 "$mac" "$port"
    if fw_login "$g" 60 && fw_wait "$g" "$off" 1 '^vigil: /etc/vigil/vigil.conf refused .*starting with the default' &&
        out=$FW_LINE && fw_until_state "$g" MASTER 30 && fw_has_vip "$g" "$vip" &&
        fw_cmd "$g" 10 "$S status" | grep -q 'config /usr/share/vigil/vigil.conf'; then
        fw_ok "$g.corrupt" "console: '$out'; MASTER with $vip on the default"
    else
        fw_fail "$g.corrupt" "no refusal on the console or no fallback ($(cat "$FW_RUN/$g/corrupt-check.txt"))"
    fi
    fw_shutdown "$g" 20
    fw_cleanup
}
