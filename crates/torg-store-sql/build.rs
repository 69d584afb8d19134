// The migrations are embedded by `sqlx::migrate!`; a new file must rebuild the crate (as sqlx
// advises for stable Rust).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
