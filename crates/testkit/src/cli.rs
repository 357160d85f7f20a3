//! The built `corsair` binary: one run with its output ([`run`]), and
//! `corsair serve` as a child process ([`ServeProcess`]) for what only a
//! process shows (signals, exit codes, the command line).
//!
//! A test passes the binary's path, `env!("CARGO_BIN_EXE_corsair")`, which
//! Cargo gives only to the CLI crate's own tests.
//!
//! [`ServeProcess`] binds 127.0.0.1:0 itself and hands the listening socket
//! to the child by socket activation (`LISTEN_FDS=1`, the socket as file
//! descriptor 3, as systemd does): the gateway is reachable the moment the
//! child is spawned, and its address is known without reading its log.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The output of one `corsair` run.
#[derive(Debug)]
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON (panics with the output when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

/// How long one [`run`] may take before it is killed and the test fails
/// (a command that should exit at once but serves instead).
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Runs the binary at `bin` with `args` (no `RUST_LOG`) and collects its
/// output; panics if it has not exited within [`RUN_LIMIT`].
pub fn run(bin: &str, args: &[&str]) -> Run {
    run_with_stdin(bin, args, None)
}

/// [`run`], with `stdin` written to the child's standard input.
pub fn run_with_stdin(bin: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().expect("run corsair");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write as _;
        let _ = pipe.write_all(text.as_bytes());
    }
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for corsair") {
            break Some(st);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let run = Run {
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    assert!(
        status.is_some(),
        "corsair {args:?} did not exit within {RUN_LIMIT:?}; killed.\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    run
}

/// Reads `pipe` to its end on a thread of its own.
fn read_all<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    })
}

/// Makes `listener` file descriptor 3 of the child that `cmd` spawns, the
/// place socket activation puts an inherited socket (systemd's
/// `LISTEN_FDS=1`; nginx's `NGINX="3;"`). `listener` must stay open until
/// the child is spawned; the child then has its own copy, and the caller's
/// can be dropped. Every other descriptor of this process is close-on-exec
/// (Rust's default), so the child inherits this one socket only.
pub fn pass_listener_as_fd3(cmd: &mut Command, listener: &std::net::TcpListener) {
    let fd = listener.as_raw_fd();
    // SAFETY: between fork and exec only async-signal-safe calls (dup2,
    // fcntl) on descriptors this process owns.
    unsafe {
        cmd.pre_exec(move || {
            if fd == 3 {
                let flags = libc::fcntl(3, libc::F_GETFD);
                if flags < 0 || libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// `corsair serve` as a child process on a socket the test bound (see the
/// module docs), killed when dropped.
pub struct ServeProcess {
    child: Child,
    /// The gateway's address.
    pub addr: SocketAddr,
    config: Option<PathBuf>,
    logs: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl ServeProcess {
    /// `corsair serve --log-format json --config FILE [extra…]`, `config`
    /// written to a temporary file.
    pub fn start(bin: &str, config: &str, extra: &[&str]) -> ServeProcess {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("corsair.toml");
        std::fs::write(&path, config).expect("write config");
        let p = path.to_str().expect("utf-8 path").to_owned();
        let mut args = vec!["serve", "--log-format", "json", "--config", p.as_str()];
        args.extend_from_slice(extra);
        Self::spawn(bin, &args, Some(path.clone()), dir)
    }

    /// `corsair` with these arguments only (for example `serve` on the
    /// embedded default).
    pub fn start_args(bin: &str, args: &[&str]) -> ServeProcess {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::spawn(bin, args, None, dir)
    }

    fn spawn(bin: &str, args: &[&str], config: Option<PathBuf>, dir: tempfile::TempDir) -> ServeProcess {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("RUST_LOG", "info")
            .env("LISTEN_FDS", "1")
            .env_remove("LISTEN_PID")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        pass_listener_as_fd3(&mut cmd, &listener);
        let mut child = cmd.spawn().expect("spawn corsair");
        // The child has its own copy; ours can go.
        drop(listener);
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap_or_else(PoisonError::into_inner).push(line);
            }
        });
        ServeProcess {
            child,
            addr,
            config,
            logs,
            _dir: dir,
        }
    }

    /// `http://addr{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The config file, when started with one.
    pub fn config_path(&self) -> Option<&Path> {
        self.config.as_deref()
    }

    /// Replaces the config file atomically (write + rename), as editors and
    /// config management do.
    pub fn rewrite_config(&self, text: &str) {
        let path = self.config.as_deref().expect("started with a config file");
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, path).expect("rename");
    }

    /// Sends a signal (`TERM`, `HUP`, `INT`).
    pub fn signal(&self, sig: &str) {
        let pid = self.child.id();
        let ok = Command::new("kill")
            .args(["-s", sig, &pid.to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -s {sig} {pid} failed");
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return Some(st);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap_or_else(PoisonError::into_inner).join("\n")
    }

    /// Log lines whose message is `message` (JSON logs).
    pub fn logs_with(&self, message: &str) -> Vec<Value> {
        self.logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["message"] == message)
            .collect()
    }

    /// Waits until a line with `message` appears `n` times (the log is read
    /// from the child's stderr by another thread) and returns them.
    pub async fn wait_log(&self, message: &str, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let lines = self.logs_with(message);
            if lines.len() >= n {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "no {message:?} ×{n} in the log:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
