//! The retry budget of a mirror copy, on the wire: moto as the source, moto behind a proxy
//! that answers 503 to every UploadPart as the destination. One streamed copy of a
//! two-part object sends each part at most the destination policy's attempts, though the
//! mirror retries objects, the upload helper retries parts and the SDK retries requests:
//! the innermost loop spends the budget and the others leave the spent error alone. Before,
//! they multiplied (4 object attempts x 10 part attempts x 3 SDK attempts).

#![cfg(all(feature = "mirror", feature = "s3"))]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use ferryboat::mirror::{Mirror, MirrorOptions};
use ferryboat::s3::{Credentials, S3Config, S3Store};
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip};
use ferryboat_testkit::proxy::FailingProxy;

const MIB: usize = 1024 * 1024;
const ATTEMPTS: u32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_copy_sends_each_part_at_most_the_policys_attempts() {
    let test = "a_mirror_copy_sends_each_part_at_most_the_policys_attempts";
    let Some(emu) = emulators::moto() else {
        return skip(test, "moto is not available");
    };
    let (_, src) = common::s3_bucket(&emu, "budget-src").await;
    let (dst_bucket, _) = common::s3_bucket(&emu, "budget-dst").await;
    let data: Bytes = (0..9 * MIB).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into();
    src.put(&ObjectPath::parse("big.bin").unwrap(), data).await.unwrap();

    let proxy = FailingProxy::start(&emu.endpoint, |r| r.method == "PUT" && r.has_param("partNumber")).await.unwrap();
    let dst = S3Store::new(
        S3Config::new(&dst_bucket)
            .with_endpoint(proxy.endpoint())
            .with_region(&emu.region)
            .with_path_style(true)
            .with_credentials(Credentials::new(&emu.access_key, &emu.secret_key))
            .with_max_attempts(ATTEMPTS),
    )
    .unwrap();
    let src: Arc<dyn ObjectStore> = src;
    let dst: Arc<dyn ObjectStore> = Arc::new(dst);
    let opts = MirrorOptions::default().server_side_copy(false).part_size(5 * MIB as u64);
    let report = Mirror::new(src, dst, opts).run().await.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");

    let mut per_part: BTreeMap<String, usize> = BTreeMap::new();
    for r in proxy.failed() {
        let number = r.target.split(['?', '&']).find_map(|p| p.strip_prefix("partNumber=")).unwrap_or("?").to_string();
        *per_part.entry(number).or_default() += 1;
    }
    eprintln!("{test}: UploadPart sends per part number: {per_part:?}; report {report:?}");
    assert!(!per_part.is_empty(), "the parts went through the proxy");
    for (part, sends) in &per_part {
        assert!(*sends <= ATTEMPTS as usize, "part {part} was sent {sends} times");
    }
}
