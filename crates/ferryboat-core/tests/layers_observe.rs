//! Observe: spans and metrics name the provider, the operation and the outcome.

use std::io::Write;
use std::sync::{Arc, Mutex};

use ferryboat_core::layers::{HookStore, Observe};
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);
impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn requests_are_traced_and_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let logs = Buffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    metrics::with_local_recorder(&recorder, || {
        tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(async {
                let store = HookStore::new(Arc::new(MemoryStore::new()), Observe);
                let key = ObjectPath::parse("docs/report.pdf").unwrap();
                store.put(&key, "12345".into()).await.unwrap();
                store.get(&key).await.unwrap().bytes().await.unwrap();
                assert!(store.head(&ObjectPath::parse("missing").unwrap()).await.is_err());
            })
        })
    });

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("ferry.request") && text.contains("op=\"put\"") && text.contains("docs/report.pdf"),
        "{text}"
    );
    assert!(text.contains("status=\"NotFound\""), "{text}");

    let metrics: Vec<(String, Vec<String>, DebugValue)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let labels = key.key().labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
            (key.key().name().to_string(), labels, value)
        })
        .collect();
    let count = |name: &str, label: &str| {
        metrics
            .iter()
            .filter(|(n, labels, _)| n == name && labels.iter().any(|l| l == label))
            .map(|(_, _, v)| match v {
                DebugValue::Counter(c) => *c,
                _ => 0,
            })
            .sum::<u64>()
    };
    assert_eq!(count("ferry_requests_total", "op=put"), 1, "{metrics:?}");
    assert_eq!(count("ferry_requests_total", "status=NotFound"), 1, "{metrics:?}");
    assert_eq!(count("ferry_bytes_sent_total", "provider=memory"), 5, "{metrics:?}");
    assert_eq!(count("ferry_bytes_received_total", "provider=memory"), 5, "{metrics:?}");
}
