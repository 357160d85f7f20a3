//! Runs `examples/reasons.rs`'s app over a loopback socket, with the
//! example's own subscriber writing to a buffer, and checks that a refused
//! preflight's reason shows in both: the app's log and the response's
//! extensions.

use std::io::Write;
use std::sync::{Arc, Mutex};

#[path = "../examples/reasons.rs"]
#[allow(dead_code)]
mod example;

/// A `MakeWriter` appending to a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'w self) -> Buffer {
        self.clone()
    }
}

#[test]
fn a_refused_preflight_shows_its_reason_in_the_log_and_the_extensions() {
    let log = Buffer::default();
    // The subscriber is this thread's default, and the runtime runs every
    // task (server and client) on this thread.
    let _guard = tracing::subscriber::set_default(example::subscriber(log.clone()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let seen = example::Seen::default();
    rt.block_on(async {
        let addr = example::serve(example::app(seen.clone())).await;
        assert_eq!(example::preflight(addr, "https://app.example.com").await, 204);
        assert_eq!(example::preflight(addr, "https://evil.example").await, 403);
    });

    let seen = seen.lock().expect("seen").clone();
    assert_eq!(
        seen,
        [(
            "api".to_owned(),
            "origin_not_allowed",
            "origin `https://evil.example` is not in allow_origins".to_owned()
        )],
        "only the refused preflight carries a reason"
    );

    let log = String::from_utf8(log.0.lock().expect("log").clone()).expect("utf-8");
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("CORS request rejected")).collect();
    assert_eq!(lines.len(), 1, "{log}");
    let line = lines[0];
    for part in [
        " INFO corsair:",
        "policy=\"api\"",
        "origin=\"https://evil.example\"",
        "reason=\"origin_not_allowed\"",
        "detail=origin `https://evil.example` is not in allow_origins",
        "kind=\"preflight\"",
        "method=OPTIONS",
        "path=\"/items/1\"",
    ] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }
}
