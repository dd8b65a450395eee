//! (filled by the vrrp work)
