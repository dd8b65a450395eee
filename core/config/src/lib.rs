//! (filled by the config work)
