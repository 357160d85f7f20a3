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
    // A file that cannot be read is an error of use.
    let out = corsair(&["validate", "/nonexistent/corsair.toml"]);
    assert_eq!(out.code, 2);
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

/// `validate --format json`, and the problems of a file.
fn validate_json(dir: &Path, text: &str) -> (i32, serde_json::Value) {
    let path = dir.join("c.toml");
    std::fs::write(&path, text).expect("write config");
    let out = corsair(&["validate", path.to_str().expect("utf-8 path"), "--format", "json"]);
    (out.code, out.json())
}

fn problem<'a>(json: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    json["problems"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["key"] == key))
        .unwrap_or_else(|| panic!("no problem under {key}: {json:#}"))
}

#[test]
fn every_unknown_key_at_once_with_did_you_mean_and_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "upstream = \"builtin:echo\"\nlisten_on = \"x\"\n[[policy]]\nname = \"api\"\n\
                allow_origin = [\"https://a.example\"]\nallow_methds = [\"GET\"]\n";
    let (code, stdout, stderr) = validate(dir.path(), "typos.toml", text);
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("3 problems"), "{stderr}");
    let file = dir.path().join("typos.toml").display().to_string();
    for want in [
        format!("{file}:2:1: error: listen_on: unknown key `listen_on` in the top level; did you mean `listen`?"),
        format!(
            "{file}:5:1: error: policy \"api\".allow_origin: unknown key `allow_origin` in a [[policy]] table; did you mean `allow_origins`?"
        ),
        format!("{file}:6:1: error: policy \"api\".allow_methds: unknown key `allow_methds`"),
    ] {
        assert!(stderr.contains(&want), "missing {want:?} in:\n{stderr}");
    }
    // `allow_origins` is then missing: that follows from the typo and is not reported twice.
    assert!(!stderr.contains("no origin listed"), "{stderr}");
}

#[test]
fn semantic_errors_name_the_policy_and_carry_a_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, json) = validate_json(
        dir.path(),
        "upstream = \"builtin:echo\"\n[[policy]]\nname = \"api\"\nallow_origins = [\"https://a.example\"]\n\
         allow_methods = [\"TRACE\"]\n[[policy]]\nallow_origins = [\"http://b.example\"]\n",
    );
    assert_eq!(code, 1);
    assert_eq!(json["valid"], false);
    assert_eq!(json["errors"], 2);
    let p = problem(&json, "policy \"api\".allow_methods[0]");
    assert_eq!((p["line"].as_u64(), p["column"].as_u64()), (Some(5), Some(18)));
    assert_eq!(p["severity"], "error");
    assert_eq!(p["code"], "forbidden_method");
    // Without a name, the index.
    let p = problem(&json, "policy[1].allow_origins[0]");
    assert_eq!(
        (p["line"].as_u64(), p["code"].as_str()),
        (Some(7), Some("insecure_origin"))
    );
    assert_eq!(json["config"], serde_json::Value::Null);
}

#[test]
fn warnings_are_printed_and_exit_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "upstream = \"builtin:echo\"\n[[policy]]\nname = \"api\"\nallow_origins = [\"https://a.example\"]\n\
                allow_methods = [\"GET\", \"Patch\"]\nallow_private_network = true\n";
    let (code, stdout, stderr) = validate(dir.path(), "warn.toml", text);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ok (2 warnings, printed above)"), "{stdout}");
    assert!(stderr.contains("2 problems (0 errors, 2 warnings)"), "{stderr}");
    assert!(
        stderr.contains(":5:25: warning: policy \"api\".allow_methods[1]: \"Patch\""),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `PATCH`?"), "{stderr}");
    assert!(
        stderr.contains(":6:25: warning: policy \"api\".allow_private_network"),
        "{stderr}"
    );
    assert!(stderr.contains("Local Network Access"), "{stderr}");
    let (code, json) = validate_json(dir.path(), text);
    assert_eq!(code, 0);
    assert_eq!(
        (
            json["valid"].as_bool(),
            json["errors"].as_u64(),
            json["warnings"].as_u64()
        ),
        (Some(true), Some(0), Some(2))
    );
    let p = problem(&json, "policy \"api\".allow_methods[1]");
    assert_eq!(
        (p["severity"].as_str(), p["code"].as_str(), p["suggestion"].as_str()),
        (Some("warning"), Some("method_case"), Some("PATCH"))
    );
    assert_eq!(json["config"]["policies"][0]["name"], "api");
    assert_eq!(
        json["config"]["policies"][0]["allow_methods"],
        serde_json::json!(["GET", "Patch"])
    );
    assert_eq!(json["config"]["upstream"], "builtin:echo");
}

#[test]
fn json_shape_of_an_unreadable_file() {
    let out = corsair(&["validate", "/nonexistent/corsair.toml", "--format", "json"]);
    assert_eq!(out.code, 2);
    let json = out.json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["problems"][0]["code"], "cannot_read");
    assert_eq!(json["problems"][0]["key"], "");
    assert_eq!(json["problems"][0]["line"], serde_json::Value::Null);
}
