//! Write and read an object through `ferryboat::open`: the same code works for every URL.
//!
//! `cargo run --example quickstart [URL]` (default: a directory under the system temp dir).

use ferryboat::{ObjectPath, ObjectStoreExt};

#[tokio::main]
async fn main() -> ferryboat::Result<()> {
    let default = std::env::temp_dir().join("ferry-quickstart");
    let url = std::env::args().nth(1).unwrap_or_else(|| default.display().to_string());
    let store = ferryboat::open(&url).await?;

    let key = ObjectPath::parse("hello/world.txt")?;
    store.put(&key, "bonjour".into()).await?;
    let body = store.get(&key).await?.bytes().await?;
    println!("read back {:?} from {url}", String::from_utf8_lossy(&body));

    let info = store.info();
    println!("provider: {} ({}), jurisdiction: {}", info.provider_name, info.provider, info.jurisdiction);
    Ok(())
}
