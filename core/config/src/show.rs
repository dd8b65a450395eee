//! placeholder
pub fn show(_c: &vigil_model::Config) -> alloc::string::String {
    alloc::string::String::new()
}
