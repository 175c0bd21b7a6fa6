//! The deployment files as their own tools read them: nginx's sites through `nginx -t`
//! (the TLS site with a certificate made here), the systemd unit through
//! `systemd-analyze verify`, and docker-compose.yml and deploy/prometheus.yml as YAML,
//! Prometheus scraping every instance's metrics listener.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use kindred_tests::nginx::{check_config, rewrite_site};
use serde_yaml_ng::Value;

const SITE: &str = include_str!("../../../../deploy/nginx/kindred.conf");
const TLS_SITE: &str = include_str!("../../../../deploy/nginx/kindred-tls.conf");
const ADMIN_SITE: &str = include_str!("../../../../deploy/nginx/kindred-admin.conf");
const UNIT: &str = include_str!("../../../../deploy/systemd/kindred.service");
const COMPOSE: &str = include_str!("../../../../docker-compose.yml");
const PROMETHEUS: &str = include_str!("../../../../deploy/prometheus.yml");

const LETSENCRYPT_CERT: &str = "/etc/letsencrypt/live/chat.example.org/fullchain.pem";
const LETSENCRYPT_KEY: &str = "/etc/letsencrypt/live/chat.example.org/privkey.pem";

/// The compose host names (`kindred1:8080`) resolve only inside compose: point the
/// upstream at loopback addresses, as the proxy tests do.
fn with_loopback_upstreams(site: &str) -> String {
    let addr = |s: &str| s.parse::<SocketAddr>().expect("an address");
    rewrite_site(
        site,
        &[addr("127.0.0.1:18081"), addr("127.0.0.1:18082")],
        addr("127.0.0.1:18080"),
    )
}

fn assert_nginx_accepts(what: &str, site: &str) {
    if let Err(why) = check_config(site) {
        panic!("nginx -t refuses {what}:\n{why}");
    }
}

/// A fresh temporary directory, removed on drop.
pub(super) struct TempDir(pub(super) PathBuf);

impl TempDir {
    pub(super) fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "kindred-deploy-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A self-signed certificate and its key for `localhost`, made by openssl.
pub(super) fn self_signed_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl could not make a certificate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

#[test]
fn nginx_accepts_the_shipped_plain_and_admin_sites() {
    assert_nginx_accepts("deploy/nginx/kindred.conf", &with_loopback_upstreams(SITE));
    assert_nginx_accepts(
        "kindred.conf with kindred-admin.conf beside it",
        &with_loopback_upstreams(&format!("{SITE}\n{ADMIN_SITE}")),
    );
}

#[test]
fn nginx_accepts_the_tls_site_with_a_real_certificate() {
    let dir = TempDir::new("tls");
    let (cert, key) = self_signed_certificate(&dir.0);
    assert!(TLS_SITE.contains(LETSENCRYPT_CERT) && TLS_SITE.contains(LETSENCRYPT_KEY));
    let site = TLS_SITE
        .replace(LETSENCRYPT_CERT, &cert.display().to_string())
        .replace(LETSENCRYPT_KEY, &key.display().to_string());
    assert_nginx_accepts(
        "deploy/nginx/kindred-tls.conf",
        &with_loopback_upstreams(&site),
    );
    // The certificate is read: a missing one is refused (the check above is no formality).
    let missing = TLS_SITE.replace(LETSENCRYPT_CERT, "/nonexistent/fullchain.pem");
    assert!(check_config(&with_loopback_upstreams(&missing)).is_err());
    assert!(
        TLS_SITE.contains("add_header Strict-Transport-Security \"max-age=31536000\" always;"),
        "the TLS site sends HSTS"
    );
    assert!(TLS_SITE.contains("location /.well-known/acme-challenge/"));
    assert!(TLS_SITE.contains("return 301 https://$host$request_uri;"));
}

/// The text of `site` from the line that starts with `from` up to the line that starts
/// with `to` (or the end).
fn section<'a>(site: &'a str, from: &str, to: Option<&str>) -> &'a str {
    let start = site
        .find(from)
        .unwrap_or_else(|| panic!("`{from}` not found"));
    let end = to.map_or(site.len(), |to| {
        start
            + site[start..]
                .find(to)
                .unwrap_or_else(|| panic!("`{to}` not found"))
    });
    &site[start..end]
}

#[test]
fn the_tls_site_proxies_exactly_as_the_plain_site() {
    let networks = |site| section(site, "# The networks from which", Some("server {"));
    assert_eq!(
        networks(SITE),
        networks(TLS_SITE).trim_end_matches(|c| c != '}').to_owned() + "\n\n"
    );
    let proxying = |site| section(site, "    # Do not print the nginx version", None);
    assert_eq!(proxying(SITE), proxying(TLS_SITE));
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let dir = TempDir::new("systemd");
    let binary = kindred_tests::process::binary();
    let unit = UNIT
        .lines()
        .map(|line| match line.strip_prefix("ExecStart=") {
            Some(_) => format!("ExecStart={}", binary.display()),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(unit, UNIT, "the unit has an ExecStart line");
    let verify = |text: &str| {
        let path = dir.0.join("kindred.service");
        std::fs::write(&path, text).expect("write the unit");
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .expect("systemd-analyze runs (tests/run.sh installs systemd)");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, printed) = verify(&unit);
    assert!(
        ok && printed.trim().is_empty(),
        "systemd-analyze verify: {printed}"
    );
    // A wrong value is only a warning to systemd: the silence above is what counts.
    let (_, printed) = verify(&unit.replace("NoNewPrivileges=yes", "NoNewPrivileges=perhaps"));
    assert!(printed.contains("perhaps"), "{printed}");

    // The secrets come from the environment file, never the command line or the unit.
    for line in UNIT.lines().filter(|l| !l.starts_with('#')) {
        assert!(
            !line.contains("KINDRED_SECRET") && !line.contains("KINDRED_ADMIN_TOKEN"),
            "a secret in the unit: {line}"
        );
    }
    for directive in [
        "EnvironmentFile=/etc/kindred/kindred.env",
        "User=kindred",
        "StateDirectory=kindred",
        "Environment=KINDRED_CATALOG_FILE=%S/kindred/catalog.json",
        "LimitNOFILE=65536",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
    ] {
        assert!(UNIT.lines().any(|l| l == directive), "{directive} missing");
    }
}

fn yaml(text: &str) -> Value {
    let mut value: Value = serde_yaml_ng::from_str(text).expect("valid YAML");
    value.apply_merge().expect("merge keys resolve");
    value
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn prometheus_scrapes_every_instance_where_compose_serves_its_metrics() {
    let compose = yaml(COMPOSE);
    let services = compose["services"].as_mapping().expect("services");
    let mut metrics = BTreeSet::new();
    for (name, service) in services {
        let name = name.as_str().expect("a service name");
        let Some(bind) = service["environment"]["KINDRED_METRICS_BIND"].as_str() else {
            continue;
        };
        let bind: SocketAddr = bind.parse().expect("KINDRED_METRICS_BIND is an address");
        assert!(
            bind.ip().is_unspecified(),
            "{name}: metrics on the container's address, not its loopback: {bind}"
        );
        let port = bind.port().to_string();
        assert!(
            strings(&service["expose"]).contains(&port),
            "{name} exposes its metrics port on the compose network"
        );
        // Neither published to the host nor reached through the proxy.
        for published in strings(&service["ports"]) {
            assert_ne!(published.rsplit(':').next(), Some(port.as_str()), "{name}");
        }
        let target = format!("{name}:{port}");
        assert!(
            !SITE.contains(&target),
            "the proxy passes requests to {target}"
        );
        assert!(
            SITE.contains(&format!("server {name}:8080 ")),
            "the proxy balances over {name}"
        );
        metrics.insert(target);
    }
    assert!(
        metrics.len() >= 2,
        "every Kindred instance serves metrics: {metrics:?}"
    );

    let prometheus = yaml(PROMETHEUS);
    let jobs = prometheus["scrape_configs"]
        .as_sequence()
        .expect("scrape_configs");
    let kindred = jobs
        .iter()
        .find(|job| job["job_name"].as_str() == Some("kindred"))
        .expect("a kindred job");
    assert_eq!(kindred["metrics_path"].as_str(), Some("/metrics"));
    let targets: BTreeSet<String> = kindred["static_configs"]
        .as_sequence()
        .expect("static_configs")
        .iter()
        .flat_map(|c| strings(&c["targets"]))
        .collect();
    assert_eq!(targets, metrics);
}
