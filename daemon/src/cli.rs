//! Command line (filled by the config work).
