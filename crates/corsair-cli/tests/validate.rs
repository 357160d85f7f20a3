//! `corsair validate` and `corsair config default`, run as a user would.

use std::path::Path;

use corsair_testkit::cli::{self, Run};

fn corsair(args: &[&str]) -> Run {
    cli::run(env!("CARGO_BIN_EXE_corsair"), args)
}

fn validate(dir: &Path, name: &str, text: &str) -> (i32, String, String) {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write config");
    let out = corsair(&["validate", path.to_str().expect("utf-8 path")]);
    (out.code, out.stdout, out.stderr)
}

#[test]
fn the_embedded_default_validates() {
    let out = corsair(&["config", "default"]);
    assert_eq!(out.code, 0);
    let text = out.stdout;
    assert!(text.contains("builtin:echo"));
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = validate(dir.path(), "default.toml", &text);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ok"), "{stdout}");
    assert!(stdout.contains("local-development"), "{stdout}");
}

#[test]
fn sound_configs_are_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = validate(
        dir.path(),
        "ok.toml",
        r#"
listen = "0.0.0.0:8443"
upstream = "http://127.0.0.1:3000"
[admin]
listen = "127.0.0.1:9090"
[[policy]]
name = "api"
hosts = ["api.example.com"]
path_prefix = "/v1"
allow_origins = ["https://app.example.com", "https://*.preview.example.com", "http://localhost:*"]
allow_methods = ["GET", "put", "PATCH", "DELETE"]
allow_headers = ["Content-Type", "Authorization", "X-Request-Id"]
expose_headers = ["X-Request-Id", "ETag"]
allow_credentials = true
max_age = 7200
[[policy]]
name = "public-assets"
path_prefix = "/assets"
allow_origins = ["*"]
allow_headers = ["*"]
expose_headers = ["*"]
max_age = 0
"#,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"api\""), "{stdout}");
    assert!(stdout.contains("\"public-assets\""), "{stdout}");
}

/// Each insecure or malformed setting is refused with the file, the key and
/// the reason, exit code 1, and no panic.
#[test]
fn insecure_and_malformed_configs_are_refused_by_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = "upstream = \"http://127.0.0.1:3000\"\n[[policy]]\n";
    for (body, key, reason) in [
        (
            "allow_origins = [\"*\"]\nallow_credentials = true\n",
            "policy[0].allow_origins[0]",
            "credentials",
        ),
        (
            "allow_origins = [\"https://example.com/\"]\n",
            "policy[0].allow_origins[0]",
            "trailing slash",
        ),
        (
            "allow_origins = [\"https://Example.com\"]\n",
            "policy[0].allow_origins[0]",
            "lowercase",
        ),
        (
            "allow_origins = [\"https://example.com:443\"]\n",
            "policy[0].allow_origins[0]",
            "default port",
        ),
        (
            "allow_origins = [\"https://foo*.example.com\"]\n",
            "policy[0].allow_origins[0]",
            "part of a label",
        ),
        (
            "allow_origins = [\"https://*.github.io\"]\n",
            "policy[0].allow_origins[0]",
            "public suffix",
        ),
        ("allow_origins = [\"null\"]\n", "policy[0].allow_origins[0]", "null"),
        ("allow_origins = [\"file://\"]\n", "policy[0].allow_origins[0]", "file"),
        (
            "allow_origins = [\"http://example.com\"]\n",
            "policy[0].allow_origins[0]",
            "allow_insecure_origins",
        ),
        (
            "allow_origins = [\"https://127.1\"]\n",
            "policy[0].allow_origins[0]",
            "IPv4",
        ),
        (
            "allow_origins = [\"https://bücher.de\"]\n",
            "policy[0].allow_origins[0]",
            "punycode",
        ),
        ("allow_origins = []\n", "policy[0].allow_origins", "no origin"),
        (
            "allow_origins = [\"https://a.com\"]\nallow_methods = [\"TRACE\"]\n",
            "policy[0].allow_methods[0]",
            "TRACE",
        ),
        (
            "allow_origins = [\"https://a.com\"]\nallow_headers = [\"cookie\"]\n",
            "policy[0].allow_headers[0]",
            "forbidden",
        ),
        (
            "allow_origins = [\"https://a.com\"]\nallow_credentials = true\nallow_headers = [\"*\"]\n",
            "policy[0].allow_headers[0]",
            "literally",
        ),
        (
            "allow_origins = [\"https://a.com\"]\nallow_credentials = true\nexpose_headers = [\"*\"]\n",
            "policy[0].expose_headers[0]",
            "literally",
        ),
        (
            "allow_origins = [\"https://a.com\"]\nmax_age = 86401\n",
            "policy[0].max_age",
            "86400",
        ),
        (
            "allow_origins = [\"https://a.com\"]\nmax_age = -1\n",
            "policy[0].max_age",
            "86400",
        ),
        (
            "allow_origins = [\"https://a.com\"]\nallow_origin = [\"x\"]\n",
            "",
            "allow_origin",
        ),
        ("allow_origins = \"https://a.com\"\n", "", "allow_origins"),
    ] {
        let text = format!("{base}{body}");
        let (code, _, stderr) = validate(dir.path(), "bad.toml", &text);
        assert_eq!(code, 1, "{body}: {stderr}");
        assert!(stderr.contains("bad.toml"), "{body}: names the file: {stderr}");
        assert!(stderr.contains(key), "{body}: names the key {key}: {stderr}");
        assert!(stderr.contains(reason), "{body}: says why ({reason}): {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn all_problems_are_listed_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = validate(
        dir.path(),
        "many.toml",
        "listen = \"x\"\nupstream = \"ftp://a\"\n[[policy]]\nallow_origins = [\"*\", \"https://a.com/\"]\nallow_credentials = true\n",
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("4 problems"), "{stderr}");
    for key in [
        "listen",
        "upstream",
        "policy[0].allow_origins[0]",
        "policy[0].allow_origins[1]",
    ] {
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
}

#[test]
fn unreadable_and_garbage_files_are_errors_not_panics() {
    let out = corsair(&["validate", "/nonexistent/corsair.toml"]);
    assert_eq!(out.code, 1);
    let stderr = &out.stderr;
    assert!(
        stderr.contains("/nonexistent/corsair.toml") && stderr.contains("cannot read"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    for garbage in ["\u{0}\u{1}\u{2}", "[[policy]\n", "listen = [1, 2", "= = ="] {
        let (code, _, stderr) = validate(dir.path(), "garbage.toml", garbage);
        assert_eq!(code, 1, "{garbage:?}");
        assert!(stderr.contains("garbage.toml"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
