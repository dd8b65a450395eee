//! Benchmark: vigil and keepalived side by side in the namespace lab (filled in
//! with the daemon; see the README).
fn main() {
    eprintln!("vigil-bench: not yet available");
    std::process::exit(2);
}
