//! A real nginx (Debian's `/usr/sbin/nginx`) in front of Kindred instances, for the
//! tests of the deployment: [`Nginx::start_proxy`] takes the repository's site
//! configuration (`deploy/nginx/kindred.conf`), points its `upstream kindred` at the
//! test servers' addresses, makes it listen on a free loopback port instead of port
//! 80, and runs it as a single foreground process in a temporary prefix directory
//! (killed and removed on drop). `tests/run.sh` installs nginx; a missing binary is
//! a panic, never a skipped test.

use std::fs::{self, File};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::TcpStream;

/// How long nginx may take to accept connections after it was spawned.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Spawns tried before giving up (a free port may be taken before nginx binds it).
const SPAWN_ATTEMPTS: usize = 5;
/// Where Debian installs nginx (often not on a normal user's `PATH`).
const NGINX: &str = "/usr/sbin/nginx";

/// An nginx reverse proxy on a free loopback port.
pub struct Nginx {
    addr: SocketAddr,
    prefix: PathBuf,
    child: Option<Child>,
}

impl Nginx {
    /// Run nginx with the site configuration `site_conf` (an `http`-level include with
    /// an `upstream kindred { ... }` block and a `server { listen 80; ... }` block),
    /// rewritten by [`rewrite_site`] to proxy to `upstreams` and to listen on a free
    /// loopback port, and wait until that port accepts connections.
    pub async fn start_proxy(upstreams: &[SocketAddr], site_conf: &str) -> Nginx {
        let bin = nginx_binary();
        let prefix = temp_prefix();
        let log_path = prefix.join("nginx.log");
        let mut last_error = String::new();
        for _ in 0..SPAWN_ATTEMPTS {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
            let conf = nginx_conf(&prefix, &rewrite_site(site_conf, upstreams, addr));
            let conf_path = prefix.join("nginx.conf");
            fs::write(&conf_path, conf)
                .unwrap_or_else(|e| panic!("could not write {}: {e}", conf_path.display()));
            let log = File::create(&log_path)
                .unwrap_or_else(|e| panic!("could not create {}: {e}", log_path.display()));
            let stdout = log.try_clone().expect("clone the nginx log file handle");
            let child = Command::new(&bin)
                .arg("-p")
                .arg(&prefix)
                .arg("-c")
                .arg(&conf_path)
                .args(["-e", "stderr", "-g", "daemon off;"])
                .stdin(Stdio::null())
                .stdout(stdout)
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("could not run {}: {e}", bin.display()));
            let mut nginx = Nginx {
                addr,
                prefix: prefix.clone(),
                child: Some(child),
            };
            match nginx.wait_ready().await {
                Ok(()) => return nginx,
                Err(why) => {
                    let conf = fs::read_to_string(&conf_path).unwrap_or_default();
                    let numbered: Vec<String> = conf
                        .lines()
                        .enumerate()
                        .map(|(i, line)| format!("{:4} {line}", i + 1))
                        .collect();
                    last_error = format!(
                        "{why}\n--- nginx output:\n{}\n--- nginx.conf:\n{}",
                        nginx.log(),
                        numbered.join("\n")
                    );
                    nginx.kill();
                    // Keep the prefix for the next attempt; only the last Nginx removes it.
                    nginx.prefix = PathBuf::new();
                    if !why.starts_with("exited") {
                        break;
                    }
                }
            }
        }
        let _ = fs::remove_dir_all(&prefix);
        panic!("nginx did not start as a proxy to {upstreams:?}: {last_error}");
    }

    /// The address nginx listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What nginx has printed so far (its error log), to explain a failing test.
    pub fn log(&self) -> String {
        fs::read_to_string(self.prefix.join("nginx.log")).unwrap_or_default()
    }

    /// Kill nginx (`SIGKILL`; it runs as one process, so nothing is left behind).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let Some(child) = &mut self.child else {
            return Err("not running".into());
        };
        loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("exited with {status}"));
            }
            if TcpStream::connect(self.addr).await.is_ok() {
                // Something accepts on the port; make sure it is this nginx and not
                // another process that took the port while nginx fails to bind it.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return match child.try_wait().map_err(|e| e.to_string())? {
                    Some(status) => Err(format!("exited with {status}")),
                    None => Ok(()),
                };
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} does not accept connections after {START_TIMEOUT:?}",
                    self.addr
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.kill();
        if !self.prefix.as_os_str().is_empty() {
            let _ = fs::remove_dir_all(&self.prefix);
        }
    }
}

/// `nginx -t` on a site configuration inside the wrapper of [`nginx_conf`], in a
/// temporary prefix: `Ok` with nginx's output when nginx accepts it, `Err` with the
/// output and the numbered configuration when it does not. Nothing is bound or started.
pub fn check_config(site: &str) -> Result<String, String> {
    let prefix = temp_prefix();
    let conf_path = prefix.join("nginx.conf");
    let conf = nginx_conf(&prefix, site);
    fs::write(&conf_path, &conf)
        .unwrap_or_else(|e| panic!("could not write {}: {e}", conf_path.display()));
    let output = Command::new(nginx_binary())
        .arg("-t")
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(&conf_path)
        .args(["-e", "stderr"])
        .stdin(Stdio::null())
        .output()
        .expect("nginx -t runs");
    let _ = fs::remove_dir_all(&prefix);
    let printed = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        Ok(printed)
    } else {
        let numbered: Vec<String> = conf
            .lines()
            .enumerate()
            .map(|(i, line)| format!("{:4} {line}", i + 1))
            .collect();
        Err(format!(
            "{printed}\n--- nginx.conf:\n{}",
            numbered.join("\n")
        ))
    }
}

/// The full `nginx.conf` around a site configuration: one foreground process
/// (`master_process off`, so killing it leaves no orphaned worker), its pid file and
/// temporary files under `prefix`, errors to stderr, no access log.
pub fn nginx_conf(prefix: &Path, site: &str) -> String {
    let p = prefix.display();
    format!(
        "master_process off;\n\
         worker_processes 1;\n\
         pid {p}/nginx.pid;\n\
         error_log stderr;\n\
         events {{\n    worker_connections 1024;\n}}\n\
         http {{\n\
         access_log off;\n\
         client_body_temp_path {p}/client_body;\n\
         proxy_temp_path {p}/proxy;\n\
         fastcgi_temp_path {p}/fastcgi;\n\
         uwsgi_temp_path {p}/uwsgi;\n\
         scgi_temp_path {p}/scgi;\n\
         # ---- site configuration ----\n\
         {site}\n\
         }}\n"
    )
}

/// Rewrite a site configuration for a test: the `server` lines of its
/// `upstream kindred { ... }` block become one `server ADDR;` per upstream (its other
/// directives, such as `least_conn`, stay), every `listen 80 ...;` becomes
/// `listen LISTEN;`, and every `listen [::]:80 ...;` is removed.
///
/// Panics if there is no `upstream kindred` block, no `listen 80` directive, or no
/// upstream address.
pub fn rewrite_site(site_conf: &str, upstreams: &[SocketAddr], listen: SocketAddr) -> String {
    assert!(
        !upstreams.is_empty(),
        "nginx needs at least one upstream address"
    );
    let text = rewrite_upstream(site_conf, upstreams);
    rewrite_listen(&text, listen)
}

fn rewrite_upstream(text: &str, upstreams: &[SocketAddr]) -> String {
    let Some((start, open)) = directives(text).find(|&(at, end)| {
        text.as_bytes()[end] == b'{' && text[at..end].split_whitespace().eq(["upstream", "kindred"])
    }) else {
        panic!("the nginx site configuration has no `upstream kindred {{ ... }}` block:\n{text}");
    };
    let Some(close) = find_outside_comments(text, open + 1, '}') else {
        panic!(
            "the `upstream kindred` block of the nginx site configuration is not closed:\n{text}"
        );
    };
    let mut block = String::from("upstream kindred {\n");
    // The parameters of each `server` line (`max_fails=1 fail_timeout=10s`) stay with
    // the test server that takes its place (the last line's for any beyond).
    let mut parameters = Vec::new();
    for statement in statements(&text[open + 1..close]) {
        let mut words = statement.split_whitespace();
        if words.next() == Some("server") {
            parameters.push(words.skip(1).map(|w| format!(" {w}")).collect::<String>());
        } else {
            block.push_str(&format!("    {statement};\n"));
        }
    }
    for (i, addr) in upstreams.iter().enumerate() {
        let kept = parameters
            .get(i)
            .or(parameters.last())
            .map_or("", String::as_str);
        block.push_str(&format!("    server {addr}{kept};\n"));
    }
    block.push('}');
    format!("{}{block}{}", &text[..start], &text[close + 1..])
}

fn rewrite_listen(text: &str, listen: SocketAddr) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut replaced = 0;
    for (at, end) in directives(text) {
        let mut words = text[at..end].split_whitespace();
        if words.next() != Some("listen") {
            continue;
        }
        let address = words.next().unwrap_or("");
        let port_80 = address == "80" || address.ends_with(":80");
        if !port_80 {
            continue;
        }
        out.push_str(&text[copied..at]);
        copied = end + 1;
        if address.starts_with('[') {
            // An IPv6 listen goes, with its line if it had one of its own.
            let kept = out.trim_end_matches([' ', '\t']).len();
            if kept == 0 || out[..kept].ends_with('\n') {
                out.truncate(kept);
                if text[copied..].starts_with('\n') {
                    copied += 1;
                }
            }
        } else {
            out.push_str(&format!("listen {listen};"));
            replaced += 1;
        }
    }
    out.push_str(&text[copied..]);
    assert!(
        replaced > 0,
        "the nginx site configuration has no `listen 80;` directive:\n{text}"
    );
    out
}

/// The directives of `text` outside comments, as (start, index of the `;` or `{`
/// that ends it). Nested blocks are walked into; `}` ends nothing.
fn directives(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        loop {
            // Skip whitespace, comments and block ends to the start of a directive.
            while i < bytes.len() {
                match bytes[i] {
                    b'#' => i = text[i..].find('\n').map_or(bytes.len(), |n| i + n),
                    b'}' | b';' => i += 1,
                    c if c.is_ascii_whitespace() => i += 1,
                    _ => break,
                }
            }
            if i >= bytes.len() {
                return None;
            }
            let start = i;
            let end = find_outside_comments(text, start, ';')
                .into_iter()
                .chain(find_outside_comments(text, start, '{'))
                .min()?;
            i = end + 1;
            if end > start {
                return Some((start, end));
            }
        }
    })
}

/// The `;`-terminated statements of a block body, trimmed, comments removed.
fn statements(body: &str) -> Vec<String> {
    let without_comments: String = body
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

/// The index of the first `wanted` at or after `from` that is in neither a comment
/// (`#` at the start of a word, to the end of the line) nor a quoted string.
fn find_outside_comments(text: &str, from: usize, wanted: char) -> Option<usize> {
    let mut in_comment = false;
    let mut quote = None;
    let mut escaped = false;
    let mut word_start = true;
    for (offset, c) in text[from..].char_indices() {
        if in_comment {
            in_comment = c != '\n';
        } else if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
        } else if c == '#' && word_start {
            in_comment = true;
        } else if (c == '"' || c == '\'') && word_start {
            quote = Some(c);
        } else if c == wanted {
            return Some(from + offset);
        }
        word_start = c.is_whitespace() || matches!(c, ';' | '{' | '}');
    }
    None
}

/// Debian's nginx, or a panic telling how to install it.
fn nginx_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("nginx"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    [PathBuf::from(NGINX)]
        .into_iter()
        .chain(on_path)
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("nginx is not installed ({NGINX}): run tests/run.sh, which installs it")
        })
}

/// A new, empty prefix directory under the system's temporary directory.
fn temp_prefix() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("kindred-nginx-{}-{n}-{nanos}", std::process::id()));
        match fs::create_dir(&path) {
            Ok(()) => return path,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("could not create {}: {e}", path.display()),
        }
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = "\
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}

upstream kindred {
    least_conn;
    # two instances behind one name
    server kindred1:8080 max_fails=3;
    server kindred2:8080;
    keepalive 16;
}

server {
    listen 80 default_server;
    listen [::]:80 default_server;
    server_name _;
    # listen 80; in a comment stays as it is

    location /ws {
        proxy_pass http://kindred;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
    }
}
";

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn rewrite_points_the_upstream_at_the_test_servers_and_listens_on_loopback() {
        let upstreams = [addr("127.0.0.1:40001"), addr("127.0.0.1:40002")];
        let out = rewrite_site(SITE, &upstreams, addr("127.0.0.1:45000"));
        let expected_upstream = "\
upstream kindred {
    least_conn;
    keepalive 16;
    server 127.0.0.1:40001 max_fails=3;
    server 127.0.0.1:40002;
}";
        assert!(out.contains(expected_upstream), "{out}");
        assert!(!out.contains("kindred1"), "{out}");
        assert!(!out.contains("kindred2"), "{out}");
        assert!(out.contains("    listen 127.0.0.1:45000;\n"), "{out}");
        assert!(!out.contains("[::]"), "{out}");
        assert_eq!(
            out.matches("listen").count(),
            2,
            "one rewritten, one in the comment: {out}"
        );
        assert!(
            out.contains("# listen 80; in a comment stays as it is"),
            "{out}"
        );
        // Everything else is kept as written.
        assert!(out.contains("    ''      close;\n"), "{out}");
        assert!(out.contains("proxy_pass http://kindred;"), "{out}");
        assert!(
            out.contains("proxy_set_header Connection $connection_upgrade;"),
            "{out}"
        );
    }

    #[test]
    fn rewrite_handles_a_one_line_upstream_and_a_plain_listen() {
        let site = "upstream kindred{server a:1;server b:2;}\nserver { listen 80; location / { proxy_pass http://kindred; } }\n";
        let out = rewrite_site(site, &[addr("127.0.0.1:1234")], addr("127.0.0.1:5678"));
        assert_eq!(
            out,
            "upstream kindred {\n    server 127.0.0.1:1234;\n}\n\
             server { listen 127.0.0.1:5678; location / { proxy_pass http://kindred; } }\n"
        );
    }

    #[test]
    fn rewrite_is_not_fooled_by_quotes() {
        let site = "upstream kindred { server a:1; }\n\
                    server {\n\
                    \x20   location = /up { return 200 '{\"ok\": \"#1;\"}'; }\n\
                    \x20   add_header X-Note \"# listen 80; is no directive\";\n\
                    \x20   listen 80;\n\
                    }\n";
        let out = rewrite_site(site, &[addr("127.0.0.1:1")], addr("127.0.0.1:2"));
        assert!(out.contains("    listen 127.0.0.1:2;\n"), "{out}");
        assert!(out.contains("return 200 '{\"ok\": \"#1;\"}';"), "{out}");
        assert!(out.contains("\"# listen 80; is no directive\""), "{out}");
    }

    #[test]
    #[should_panic(expected = "no `upstream kindred")]
    fn rewrite_refuses_a_site_without_the_upstream() {
        rewrite_site(
            "server { listen 80; }",
            &[addr("127.0.0.1:1")],
            addr("127.0.0.1:2"),
        );
    }

    #[test]
    #[should_panic(expected = "no `listen 80;`")]
    fn rewrite_refuses_a_site_without_listen_80() {
        rewrite_site(
            "upstream kindred { server a:1; }\nserver { listen 8080; }",
            &[addr("127.0.0.1:1")],
            addr("127.0.0.1:2"),
        );
    }

    #[test]
    fn the_wrapper_keeps_every_path_under_the_prefix() {
        let conf = nginx_conf(
            Path::new("/tmp/p"),
            "upstream kindred { server 127.0.0.1:1; }",
        );
        for directive in [
            "pid /tmp/p/nginx.pid;",
            "client_body_temp_path /tmp/p/client_body;",
            "proxy_temp_path /tmp/p/proxy;",
            "fastcgi_temp_path /tmp/p/fastcgi;",
            "uwsgi_temp_path /tmp/p/uwsgi;",
            "scgi_temp_path /tmp/p/scgi;",
            "master_process off;",
        ] {
            assert!(
                conf.contains(directive),
                "{directive} missing from:\n{conf}"
            );
        }
        assert!(
            conf.trim_end()
                .ends_with("upstream kindred { server 127.0.0.1:1; }\n}"),
            "{conf}"
        );
    }
}
