//! A TCP relay between a Kindred instance and its `redis-server`, for the tests that
//! must lose what Redis pushes to one instance, deterministically: an instance given
//! [`Relay::url`] reaches Redis through it, and the test can make it swallow every byte
//! Redis sends on the instance's subscription connection (the one that has sent
//! `SUBSCRIBE`), wait until a given piece of a push was swallowed, and then cut that
//! connection so the instance reconnects, subscribes again and reads the room's log.
//! The command connection is relayed untouched throughout.
//!
//! This is the failure Redis pub/sub allows (a push is at most once): nothing is
//! mocked, the instance and Redis are real, only the bytes in between are lost.
//!
//! It can also run a command twice ([`Relay::repeat_commands_with`]): what a client
//! does when it resends a command after a dropped connection (the cluster client
//! retries), so the same script reaches Redis twice. The copy goes on a connection of
//! the relay's own; the instance sees only the first run's reply.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{AbortHandle, JoinHandle};

use crate::WAIT;
use crate::sealed::opened;

/// A relay on a free loopback port to a Redis on `127.0.0.1:target`.
pub struct Relay {
    port: u16,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

#[derive(Default)]
struct Shared {
    /// Redis's bytes to subscription connections are swallowed, not passed on.
    swallowing: AtomicBool,
    /// What was swallowed, in order.
    swallowed: Mutex<Vec<u8>>,
    more_swallowed: Notify,
    /// Commands from the instance containing this (once opened) are sent to Redis a
    /// second time.
    repeating: Mutex<Option<String>>,
    /// Redis's replies to the second runs, in order.
    repeated: Mutex<Vec<Vec<u8>>>,
    more_repeated: Notify,
    /// Every relayed connection.
    links: Mutex<Vec<Link>>,
}

/// One relayed connection: whether it has subscribed, and its two relaying tasks.
struct Link {
    subscriber: Arc<AtomicBool>,
    up: AbortHandle,
    down: AbortHandle,
}

impl Relay {
    pub async fn start(target: u16) -> Relay {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("the relay binds a free port");
        let port = listener.local_addr().expect("a local address").port();
        let shared = Arc::new(Shared::default());
        let accept = tokio::spawn(accept(listener, target, shared.clone()));
        Relay {
            port,
            shared,
            accept,
        }
    }

    /// `redis://127.0.0.1:PORT`, the relay's own port.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// From now on, whatever Redis sends on a subscription connection is swallowed.
    pub fn swallow_pushes(&self) {
        self.shared.swallowing.store(true, Ordering::SeqCst);
    }

    /// Wait (within [`WAIT`]) until the swallowed bytes contain `needle`, once what is
    /// sealed in them is opened: the push that carries it is lost for certain.
    pub async fn swallowed(&self, needle: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let more = self.shared.more_swallowed.notified();
            let found = {
                let bytes = self.shared.swallowed.lock().expect("not poisoned");
                // Entries and frames travel sealed: looked for as they open.
                opened(&[], &bytes).contains(needle)
            };
            if found {
                return;
            }
            tokio::time::timeout_at(deadline, more)
                .await
                .unwrap_or_else(|_| panic!("the relay swallows a push with {needle:?}"));
        }
    }

    /// From now on (until [`Relay::stop_repeating`]), every write from the instance
    /// that contains `needle` (once what is sealed in it is opened) reaches Redis
    /// twice: as relayed, and once more on a connection of the relay's own.
    pub fn repeat_commands_with(&self, needle: &str) {
        *self.shared.repeating.lock().expect("not poisoned") = Some(needle.to_owned());
    }

    pub fn stop_repeating(&self) {
        *self.shared.repeating.lock().expect("not poisoned") = None;
    }

    /// Wait (within [`WAIT`]) until `count` commands were run a second time and Redis
    /// answered them; its replies.
    pub async fn repeated(&self, count: usize) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let more = self.shared.more_repeated.notified();
            {
                let replies = self.shared.repeated.lock().expect("not poisoned");
                if replies.len() >= count {
                    return replies
                        .iter()
                        .map(|r| String::from_utf8_lossy(r).into_owned())
                        .collect();
                }
            }
            tokio::time::timeout_at(deadline, more)
                .await
                .unwrap_or_else(|_| panic!("the relay runs {count} command(s) a second time"));
        }
    }

    /// Stop swallowing and cut every subscription connection: the instance sees its
    /// connection lost, connects again through the relay and subscribes again.
    pub fn cut_subscriptions(&self) {
        self.shared.swallowing.store(false, Ordering::SeqCst);
        self.shared
            .links
            .lock()
            .expect("not poisoned")
            .retain(|link| {
                let subscriber = link.subscriber.load(Ordering::SeqCst);
                if subscriber {
                    link.up.abort();
                    link.down.abort();
                }
                !subscriber
            });
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        for link in self.shared.links.lock().expect("not poisoned").drain(..) {
            link.up.abort();
            link.down.abort();
        }
    }
}

async fn accept(listener: TcpListener, target: u16, shared: Arc<Shared>) {
    while let Ok((client, _)) = listener.accept().await {
        let Ok(server) = TcpStream::connect((Ipv4Addr::LOCALHOST, target)).await else {
            continue;
        };
        let (mut client_read, mut client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();
        let subscriber = Arc::new(AtomicBool::new(false));
        let (to_redis, from_redis) = (subscriber.clone(), subscriber.clone());
        let up_shared = shared.clone();
        // The instance to Redis: passed on whole; a SUBSCRIBE marks the connection.
        let up = tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            let mut registered = false;
            loop {
                let n = match client_read.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let chunk = &buf[..n];
                if !registered
                    && chunk
                        .windows(9)
                        .any(|w| w.eq_ignore_ascii_case(b"SUBSCRIBE"))
                {
                    registered = true;
                    to_redis.store(true, Ordering::SeqCst);
                }
                if server_write.write_all(chunk).await.is_err() {
                    return;
                }
                let repeat = up_shared
                    .repeating
                    .lock()
                    .expect("not poisoned")
                    .as_deref()
                    .is_some_and(|needle| opened(&[], chunk).contains(needle));
                if repeat {
                    tokio::spawn(run_again(target, chunk.to_vec(), up_shared.clone()));
                }
            }
        });
        let down_shared = shared.clone();
        // Redis to the instance: swallowed on a subscription connection while asked.
        let down = tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let n = match server_read.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let chunk = &buf[..n];
                if from_redis.load(Ordering::SeqCst)
                    && down_shared.swallowing.load(Ordering::SeqCst)
                {
                    down_shared
                        .swallowed
                        .lock()
                        .expect("not poisoned")
                        .extend_from_slice(chunk);
                    down_shared.more_swallowed.notify_waiters();
                    continue;
                }
                if client_write.write_all(chunk).await.is_err() {
                    return;
                }
            }
        });
        // Kept so a cut can find it once it has subscribed.
        let link = Link {
            subscriber,
            up: up.abort_handle(),
            down: down.abort_handle(),
        };
        shared.links.lock().expect("not poisoned").push(link);
    }
}

/// Send a command the instance sent once more, on a connection of the relay's own,
/// and keep Redis's reply.
async fn run_again(target: u16, command: Vec<u8>, shared: Arc<Shared>) {
    let Ok(mut redis) = TcpStream::connect((Ipv4Addr::LOCALHOST, target)).await else {
        return;
    };
    if redis.write_all(&command).await.is_err() {
        return;
    }
    let mut reply = vec![0u8; 16 * 1024];
    let n = match tokio::time::timeout(WAIT, redis.read(&mut reply)).await {
        Ok(Ok(n)) => n,
        _ => return,
    };
    reply.truncate(n);
    shared.repeated.lock().expect("not poisoned").push(reply);
    shared.more_repeated.notify_waiters();
}
