//! The TLS site (`deploy/nginx/kindred-tls.conf`) running in front of a real server,
//! with a certificate made here in place of Let's Encrypt's: port 80 serves certbot's
//! webroot challenges and sends everything else to HTTPS; HTTPS reaches Kindred and
//! tells the browser to stay on HTTPS (HSTS). openssl is the HTTPS client.

use std::io::Write;
use std::process::{Command, Stdio};

use kindred_tests::TestServer;
use kindred_tests::nginx::Nginx;

use super::files::{TempDir, self_signed_certificate};

const TLS_SITE: &str = include_str!("../../../../deploy/nginx/kindred-tls.conf");

/// An HTTPS request to `addr` written by hand and sent with `openssl s_client`: what
/// came back, headers and body.
fn https_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut child = Command::new("openssl")
        .args(["s_client", "-quiet", "-connect", &addr.to_string()])
        .args(["-servername", "chat.example.org"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl runs");
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: chat.example.org\r\nConnection: close\r\n\r\n");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(request.as_bytes())
        .expect("the request is written");
    let out = child.wait_with_output().expect("openssl finishes");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn the_tls_site_serves_acme_challenges_redirects_to_https_and_sends_hsts() {
    let server = TestServer::start().await;
    let dir = TempDir::new("tls-live");
    let (cert, key) = self_signed_certificate(&dir.0);
    let webroot = dir.0.join("acme");
    let challenges = webroot.join(".well-known/acme-challenge");
    std::fs::create_dir_all(&challenges).expect("the webroot");
    std::fs::write(challenges.join("t0k3n"), "t0k3n.thumbprint").expect("a challenge");
    let tls_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let site = TLS_SITE
        .replace(
            "/etc/letsencrypt/live/chat.example.org/fullchain.pem",
            &cert.display().to_string(),
        )
        .replace(
            "/etc/letsencrypt/live/chat.example.org/privkey.pem",
            &key.display().to_string(),
        )
        .replace("/var/www/acme", &webroot.display().to_string())
        .replace("listen 443 ssl;", &format!("listen {tls_addr} ssl;"))
        .replace("    listen [::]:443 ssl;\n", "");
    let proxy = Nginx::start_proxy(&[server.running.addr], &site).await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");

    let challenge = plain
        .get(format!("{}/.well-known/acme-challenge/t0k3n", proxy.base()))
        .send()
        .await
        .expect("port 80 answers");
    assert_eq!(challenge.status().as_u16(), 200);
    assert_eq!(challenge.text().await.expect("a body"), "t0k3n.thumbprint");

    let page = plain
        .get(format!("{}/api/rooms?x=1", proxy.base()))
        .send()
        .await
        .expect("port 80 answers");
    assert_eq!(page.status().as_u16(), 301);
    let location = page.headers()["location"].to_str().expect("a location");
    assert_eq!(location, "https://127.0.0.1/api/rooms?x=1");

    let answer = tokio::task::spawn_blocking(move || https_get(tls_addr, "/healthz"))
        .await
        .expect("the HTTPS request completes");
    let lower = answer.to_ascii_lowercase();
    assert!(
        lower.starts_with("http/1.1 200"),
        "{answer}\n{}",
        proxy.log()
    );
    assert!(
        lower.contains("strict-transport-security: max-age=31536000\r\n"),
        "{answer}"
    );
    assert!(
        answer.trim_end().ends_with("ok"),
        "Kindred answered: {answer}"
    );
    drop(proxy);
    server.stop().await;
}
