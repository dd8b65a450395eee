//! Linux system interfaces (filled by the os work).
