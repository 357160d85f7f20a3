//! The client against loopback servers: URLs, errors, repeated headers and body limits.

use super::*;

/// One request with a fresh [`Client`] (default timeout and body limit).
async fn send(method: &Method, url: &str, headers: &[(HeaderName, HeaderValue)]) -> Result<Response, ClientError> {
    Client::new()?.send(method, url, headers).await
}

#[test]
fn parse_url_accepts_http_and_https() {
    assert!(parse_url("http://127.0.0.1:8080/x?y=1").is_ok());
    assert!(parse_url("https://example.com").is_ok());
    assert_eq!(
        parse_url("HTTPS://Example.com/").unwrap().as_str(),
        "https://example.com/"
    );
    assert_eq!(
        parse_url(" http://0x7f.1:80/a b ").unwrap().as_str(),
        "http://127.0.0.1/a%20b"
    );
}

#[test]
fn parse_url_rejects_bad_urls() {
    for (bad, why) in [
        ("", "not an absolute URL"),
        ("example.com", "not an absolute URL"),
        ("/path", "not an absolute URL"),
        ("ftp://example.com/", "unsupported scheme `ftp`"),
        ("mailto:a@example.com", "unsupported scheme `mailto`"),
        ("http://", "empty host"),
        ("http://user@example.com/", "user information"),
        ("http://user:pw@example.com/", "user information"),
        ("http://exa mple.com/", "not a valid domain name"),
        ("http://example.com:65536/", "invalid port number"),
        ("https:example.com", "expected `//` after the scheme"),
        ("https:/example.com/", "expected `//` after the scheme"),
        ("https://example.com\\a", "backslash"),
        ("http://exa\tmple.com/", "tab or newline"),
        ("http://[::1/", "invalid IPv6 address"),
    ] {
        match parse_url(bad) {
            Err(ClientError::InvalidUrl { url, reason }) => {
                assert_eq!(url, bad);
                assert!(reason.contains(why), "{bad:?}: {reason}");
            }
            other => panic!("{bad:?} should be rejected, got {other:?}"),
        }
    }
}

#[test]
fn request_uri_drops_the_fragment_and_keeps_the_query() {
    let u = parse_url("https://example.com/a/b?x=1&y=%20#frag").unwrap();
    assert_eq!(request_uri(&u).unwrap(), "https://example.com/a/b?x=1&y=%20");
    let u = parse_url("https://example.com/a?q={x}|^`").unwrap();
    let uri = request_uri(&u).unwrap();
    assert_eq!(
        uri.path_and_query().unwrap().as_str(),
        u[url::Position::BeforePath..].to_owned()
    );
}

#[test]
fn authority_fills_default_ports() {
    assert_eq!(
        authority_of(&parse_url("https://example.com/").unwrap()),
        "example.com:443"
    );
    assert_eq!(
        authority_of(&parse_url("http://example.com:81/").unwrap()),
        "example.com:81"
    );
    assert_eq!(authority_of(&parse_url("http://[::1]/").unwrap()), "[::1]:80");
}

#[tokio::test]
async fn refused_connection_is_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = send(&Method::GET, &format!("http://127.0.0.1:{port}/"), &[])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ClientError::ConnectionRefused {
            authority: format!("127.0.0.1:{port}")
        }
    );
}

/// A self-signed certificate for `localhost` / `127.0.0.1` (100 years), not in any root store.
const SELF_SIGNED_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUZJW1Jpz+Zxa2mqWZ5/80aCy8ePkwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTEyMDIxNloYDzIxMjYxMTAx
MTIwMjE2WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATi8WJzDz5XJHqBVxAVsWltszBn438aBD6YK0rJPQHElLkX6Wvk5pvU
q4m6+fG6RrzWwoZLFrxdHTkR9Xe78aedo28wbTAdBgNVHQ4EFgQUKQCisj/krrAh
dBuRoKH66zbS8AUwHwYDVR0jBBgwFoAUKQCisj/krrAhdBuRoKH66zbS8AUwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDRwAwRAIgKV/ft4hEXQpbCiKdY2mqJYxC4ONEbNq0rPw4tuOPvbYCIHQG
eFQ/H5+cw6mv9IXpKzxcjDew5dWssr1oZFpnGDM0
-----END CERTIFICATE-----
";
const SELF_SIGNED_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPjf1vkKFyDPDgVA+
82KPZ/lW/DVVuIOV9MFL1ze6EHmhRANCAATi8WJzDz5XJHqBVxAVsWltszBn438a
BD6YK0rJPQHElLkX6Wvk5pvUq4m6+fG6RrzWwoZLFrxdHTkR9Xe78aed
-----END PRIVATE KEY-----
";

#[tokio::test]
async fn untrusted_certificate_is_a_tls_error() {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(SELF_SIGNED_CERT.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(SELF_SIGNED_KEY.as_bytes()).unwrap();
    let config =
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(s).await;
            });
        }
    });
    let err = send(&Method::GET, &format!("https://localhost:{port}/"), &[])
        .await
        .unwrap_err();
    match &err {
        ClientError::Tls { authority, reason } => {
            assert_eq!(authority, &format!("localhost:{port}"));
            assert!(reason.contains("certificate"), "{reason}");
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

/// Serve one raw HTTP/1.1 response per connection, after reading the request head.
async fn raw_server(response: Vec<u8>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = s.write_all(&response).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn keeps_repeated_headers_and_limits_the_body() {
    let mut response = b"HTTP/1.1 200 OK\r\n\
        Access-Control-Allow-Origin: https://a.example\r\n\
        Access-Control-Allow-Origin: https://b.example\r\n\
        Vary: Origin\r\nVary: Accept-Encoding\r\n\
        Content-Length: 100000\r\n\r\n"
        .to_vec();
    response.extend(std::iter::repeat_n(b'x', 100_000));
    let port = raw_server(response).await;
    let origin = (http::header::ORIGIN, HeaderValue::from_static("https://a.example"));
    let resp = send(&Method::GET, &format!("http://127.0.0.1:{port}/"), &[origin])
        .await
        .unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    let acao: Vec<_> = resp.headers.get_all("access-control-allow-origin").iter().collect();
    assert_eq!(acao, ["https://a.example", "https://b.example"]);
    assert_eq!(resp.headers.get_all("vary").iter().count(), 2);
    assert_eq!(resp.body.len(), MAX_BODY_BYTES);
    assert!(resp.body_truncated);
    assert_eq!(resp.body_error, None);
}

#[tokio::test]
async fn early_close_is_a_body_error_not_a_failure() {
    let response = b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n".to_vec();
    let port = raw_server(response).await;
    let resp = send(&Method::OPTIONS, &format!("http://127.0.0.1:{port}/"), &[])
        .await
        .unwrap();
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert!(resp.body.is_empty() && !resp.body_truncated);

    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec();
    let port = raw_server(response).await;
    // the server closes the connection after 3 of the 10 announced bytes
    let resp = send(&Method::GET, &format!("http://127.0.0.1:{port}/"), &[])
        .await
        .unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(&resp.body[..], b"abc");
    assert!(resp.body_error.is_some());
}

#[tokio::test]
async fn garbage_response_is_an_http_error() {
    let port = raw_server(b"this is not HTTP\r\n\r\n".to_vec()).await;
    let err = send(&Method::GET, &format!("http://127.0.0.1:{port}/"), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Http { .. }), "{err:?}");
}

#[tokio::test]
async fn timeout_is_reported() {
    // accepts the TCP connection but never answers
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let client = Client::new().unwrap().with_timeout(Duration::from_millis(200));
    let err = client
        .send(&Method::GET, &format!("http://127.0.0.1:{port}/"), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Timeout { .. }), "{err:?}");
}
