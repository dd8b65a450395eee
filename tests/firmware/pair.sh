# Two routers on one QEMU hub, each booted from its own disk image (sourced by
# tests/firmware/run).
#
# fw_pair LABEL PORT ARCH_M CONF_M ARCH_B CONF_B VIP: powers both on together, as
# after a power failure. Checks, in order:
#   elect     the master (CONF_M) reaches MASTER with the VIP, the backup is BACKUP
#             without it; TIME boot-to-MASTER = the master's uptime at the transition
#             (from kernel start: /proc/uptime starts with the kernel);
#   failover  the master's plug is pulled; the backup is MASTER with the VIP within
#             3 x advert + skew + 1 s, skew = (256 - backup priority) / 256;
#   preempt   the master boots again from the same disk (its config partition kept)
#             and takes the VIP back; the backup returns to BACKUP and drops it.
fw_pair() {
    local label=$1 port=$2 am=$3 cm=$4 ab=$5 cb=$6 vip=$7
    local m="$label-m" b="$label-b" bm tk fo adv prio limit
    fw_disk "$am" "$cm" "$FW_RUN/$m.img" || { fw_fail "$label.image" "scripts/image failed"; return; }
    fw_disk "$ab" "$cb" "$FW_RUN/$b.img" || { fw_fail "$label.image" "scripts/image failed"; return; }
    # Both LAN addresses and MACs differ per guest and per test port.
    fw_start "$m" "$am" "$FW_RUN/$m.img" 192.168.67.100/24 "52:54:00:$(printf '%02x' $((port % 256))):00:01" "$port"
    fw_start "$b" "$ab" "$FW_RUN/$b.img" 192.168.67.200/24 "52:54:00:$(printf '%02x' $((port % 256))):00:02" "$port"
    if ! fw_login "$m" 60 || ! fw_login "$b" 60; then
        fw_fail "$label.boot" "no console shell within 60 s (see $FW_RUN/$m/console.log, $FW_RUN/$b/console.log)"
        fw_cleanup
        return
    fi
    fw_time "$label $am master: console shell at $FW_BOOT_S s"
    if fw_until_state "$m" MASTER 30; then
        bm=$(fw_boot_figure "$m")
        if fw_has_vip "$m" "$vip" && fw_until_state "$b" BACKUP 5 && ! fw_has_vip "$b" "$vip"; then
            fw_ok "$label.elect" "$am MASTER with $vip, $ab BACKUP without it"
            fw_time "$label $am boot-to-MASTER $bm"
        else
            fw_fail "$label.elect" "master VIP / backup state wrong (backup $FW_STATE)"
        fi
    else
        fw_fail "$label.elect" "$am master not MASTER within 30 s (state ${FW_STATE:-none})"
    fi

    # Master_Down_Interval of the backup from its own config.
    adv=$(awk '$1 == "advert_int" { print $2; exit }' "$cb")
    prio=$(awk '$1 == "priority" { print $2; exit }' "$cb")
    limit=$(fw_calc "3 * $adv + (256 - $prio) / 256 * $adv + 1")
    fw_clock "$b" || fw_fail "$label.failover" "backup console does not answer"
    tk=$(fw_poweroff "$m")
    if fw_until_state "$b" MASTER 15 && fw_has_vip "$b" "$vip"; then
        fo=$(fw_calc "$FW_SINCE - ($tk + $FW_OFFSET)")
        if fw_le "$fo" "$limit"; then
            fw_ok "$label.failover" "$ab MASTER with $vip $fo s after the power cut (limit $limit s)"
        else
            fw_fail "$label.failover" "$ab took $fo s (limit $limit s)"
        fi
        fw_time "$label $ab failover $fo s (limit $limit s)"
    else
        fw_fail "$label.failover" "$ab not MASTER with $vip within 15 s of the power cut"
    fi

    fw_start "$m" "$am" "$FW_RUN/$m.img" 192.168.67.100/24 "52:54:00:$(printf '%02x' $((port % 256))):00:01" "$port"
    if fw_login "$m" 60 && fw_until_state "$m" MASTER 30; then
        bm=$(fw_boot_figure "$m")
        if fw_has_vip "$m" "$vip" && fw_until_state "$b" BACKUP 5 && ! fw_has_vip "$b" "$vip"; then
            fw_ok "$label.preempt" "$am rebooted from its disk, MASTER again ($bm); $ab BACKUP, VIP released"
            fw_time "$label $am boot-to-MASTER after reboot $bm"
        else
            fw_fail "$label.preempt" "$am MASTER but VIP/backup wrong (backup $FW_STATE)"
        fi
    else
        fw_fail "$label.preempt" "$am not MASTER within 30 s of its reboot (state ${FW_STATE:-none})"
    fi
    fw_shutdown "$m" 20
    fw_shutdown "$b" 20
    fw_cleanup
}
