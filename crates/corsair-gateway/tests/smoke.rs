use corsair_testkit::client::get;
use corsair_testkit::gateway::TestGateway;
use corsair_testkit::upstream::Upstream;

#[tokio::test]
async fn smoke() {
    let up = Upstream::start();
    let gw = TestGateway::start(&format!(
        "listen = \"127.0.0.1:0\"\nupstream = \"{}\"\n[admin]\nlisten = \"127.0.0.1:0\"\n[[policy]]\nallow_origins = [\"https://a.example\"]\n",
        up.url()
    ));
    let r = get(&gw.url("/x"), &[("origin", "https://a.example")]).await;
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://a.example")
    );
    assert_eq!(up.seen().len(), 1);
    assert!(gw.metrics().await.contains("corsair_requests_total"));
    assert_eq!(gw.logs_with("corsair gateway listening").len(), 1);
}
