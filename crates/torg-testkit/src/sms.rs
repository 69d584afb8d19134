//! A throwaway Kannel for tests and benchmarks: bearerbox with a fake SMSC and smsbox with its
//! sendsms interface, on free loopback ports with a configuration in a temporary directory.
//! The test itself plays the mobile network: it connects to the fake SMSC's port, writes what
//! citizens send ("from to text message" lines) and reads what Torg sent them.
//!
//! Needs Debian's `kannel` package. Without it [`Kannel::start`] returns `None`, unless
//! `TORG_TEST_SMS` is set (as `.ci/run` does), when it panics: CI never skips silently.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

pub const USERNAME: &str = "torg";
pub const PASSWORD: &str = "hemmelig-sms";
/// The municipality's short number in the tests.
pub const SENDER: &str = "2222";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_for(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing listens on port {port}");
}

/// A running Kannel; stopped when dropped.
pub struct Kannel {
    dir: tempfile::TempDir,
    bearerbox: Child,
    smsbox: Child,
    smsc_port: u16,
    sendsms_port: u16,
}

/// The mobile network's side of the fake SMSC.
pub struct Network {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Kannel {
    /// Starts bearerbox and smsbox; citizens' messages are passed to `get_url` (Kannel's
    /// escapes %p, %a, %I are appended as `from`, `text`, `id`).
    pub fn start(get_url: &str) -> Option<Kannel> {
        let present = Path::new("/usr/sbin/bearerbox").exists();
        if !present {
            assert!(
                std::env::var_os("TORG_TEST_SMS").is_none(),
                "Kannel is needed: apt-get install kannel"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().display();
        let (admin, boxes, smsc, sendsms) = (free_port(), free_port(), free_port(), free_port());
        let sep = if get_url.contains('?') { '&' } else { '?' };
        std::fs::write(
            dir.path().join("kannel.conf"),
            format!(
                "group = core\nadmin-port = {admin}\nadmin-password = x\nsmsbox-port = {boxes}\n\
                 box-allow-ip = \"127.0.0.1\"\nlog-file = \"{d}/bearerbox.log\"\nlog-level = 1\n\
                 dlr-storage = internal\n\n\
                 group = smsc\nsmsc = fake\nsmsc-id = FAKE\nhost = 127.0.0.1\nport = {smsc}\n\
                 connect-allow-ip = \"127.0.0.1\"\n\n\
                 group = smsbox\nbearerbox-host = 127.0.0.1\nbearerbox-port = {boxes}\n\
                 sendsms-port = {sendsms}\nglobal-sender = {SENDER}\nlog-file = \"{d}/smsbox.log\"\n\
                 log-level = 1\n\n\
                 group = sendsms-user\nusername = {USERNAME}\npassword = {PASSWORD}\nmax-messages = 10\n\
                 concatenation = true\n\n\
                 group = sms-service\nkeyword = default\n\
                 get-url = \"{get_url}{sep}from=%p&text=%a&id=%I\"\nmax-messages = 0\ncatch-all = true\n"
            ),
        )
        .expect("kannel.conf");
        let spawn = |program: &str, log: &str| {
            Command::new(program)
                .arg(dir.path().join("kannel.conf"))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.path().join(log)).expect("log"))
                .spawn()
                .expect("start Kannel")
        };
        let bearerbox = spawn("/usr/sbin/bearerbox", "bearerbox.out");
        wait_for(boxes);
        let smsbox = spawn("/usr/sbin/smsbox", "smsbox.out");
        wait_for(sendsms);
        wait_for(smsc);
        Some(Kannel {
            dir,
            bearerbox,
            smsbox,
            smsc_port: smsc,
            sendsms_port: sendsms,
        })
    }

    /// The sendsms address Torg's gateway setting points at.
    pub fn sendsms_url(&self) -> String {
        format!("http://127.0.0.1:{}/cgi-bin/sendsms", self.sendsms_port)
    }

    /// Connects as the mobile network (the fake SMSC's one client).
    pub async fn network(&self) -> Network {
        let mut last = None;
        for _ in 0..50 {
            match TcpStream::connect(("127.0.0.1", self.smsc_port)).await {
                Ok(s) => {
                    let (r, w) = s.into_split();
                    return Network {
                        reader: BufReader::new(r),
                        writer: w,
                    };
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot reach the fake SMSC: {last:?}");
    }

    /// The directory with Kannel's logs.
    pub fn log_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Kannel {
    fn drop(&mut self) {
        let _ = self.smsbox.kill();
        let _ = self.bearerbox.kill();
        let _ = self.smsbox.wait();
        let _ = self.bearerbox.wait();
    }
}

/// One message on the network: (from, to, text).
pub type Sms = (String, String, String);

/// Undoes the fake SMSC's URL encoding.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Text from a payload: UCS-2 (big-endian) when it looks like it (the high bytes of Latin
/// text are zero), else UTF-8, else Latin-1 — the fake SMSC does not say which.
fn payload_text(bytes: &[u8]) -> String {
    let zeros = bytes.iter().step_by(2).filter(|b| **b == 0).count();
    if bytes.len().is_multiple_of(2) && !bytes.is_empty() && zeros * 3 >= bytes.len() / 2 {
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => bytes.iter().map(|b| char::from(*b)).collect(),
    }
}

impl Network {
    /// A citizen at `from` sends `text` to `to`.
    pub async fn send(&mut self, from: &str, to: &str, text: &str) {
        let line = format!("{from} {to} text {text}\n");
        self.writer.write_all(line.as_bytes()).await.expect("send");
    }

    /// The next message Torg sent, within `wait`, its segments put back together.
    pub async fn receive(&mut self, wait: Duration) -> Option<Sms> {
        // Concatenated segments by reference: (total, parts by sequence number).
        let mut pending: std::collections::HashMap<u8, (u8, Vec<(u8, String)>)> =
            std::collections::HashMap::new();
        loop {
            let mut line = String::new();
            match tokio::time::timeout(wait, self.reader.read_line(&mut line)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return None,
            }
            let fields: Vec<&str> = line.trim_end().split(' ').collect();
            match fields.as_slice() {
                [from, to, "text" | "data", text @ ..] => {
                    let text = payload_text(&unescape(&text.join(" ")));
                    return Some((from.to_string(), to.to_string(), text));
                }
                [from, to, "udh", udh, _, text @ ..] => {
                    let udh = unescape(udh);
                    let text = payload_text(&unescape(&text.join(" ")));
                    // 05 00 03 <ref> <total> <seq>: one segment of a longer message.
                    if udh.len() >= 6 && udh[1] == 0 {
                        let (reference, total, seq) = (udh[3], udh[4], udh[5]);
                        let entry = pending.entry(reference).or_insert((total, vec![]));
                        entry.1.push((seq, text));
                        if entry.1.len() == usize::from(entry.0) {
                            let (_, mut parts) = pending.remove(&reference).unwrap_or_default();
                            parts.sort_by_key(|p| p.0);
                            let whole: String = parts.into_iter().map(|p| p.1).collect();
                            return Some((from.to_string(), to.to_string(), whole));
                        }
                    } else {
                        return Some((from.to_string(), to.to_string(), text));
                    }
                }
                // Delivery reports and the like.
                _ => {}
            }
        }
    }
}
