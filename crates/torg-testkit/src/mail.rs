//! Throwaway mail servers for tests and benchmarks: Dovecot (IMAP, and LMTP for delivery) and
//! OpenSMTPD (SMTP) from Debian's packages, on free loopback ports with configurations in a
//! temporary directory, stopped by process id when dropped. OpenSMTPD needs root.

use lettre::AsyncTransport;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use torg_store::{MailAccount, MailServer};

/// The password of every mailbox.
pub const PASSWORD: &str = "hemmelig";

/// Running Dovecot and OpenSMTPD.
pub struct MailServers {
    dir: tempfile::TempDir,
    pub imap_port: u16,
    pub smtp_port: u16,
    dovecot: Child,
    smtpd: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn id_of(flag: &str, user: &str) -> String {
    let out = Command::new("id").args([flag, user]).output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn wait_for(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("nothing answers on port {port}");
}

impl MailServers {
    /// Starts both; `None` when they are not installed (and TORG_TEST_MAIL is not set).
    pub fn start() -> Option<MailServers> {
        let have = |bin: &str| Path::new(bin).exists();
        if !have("/usr/sbin/dovecot") || !have("/usr/sbin/smtpd") {
            assert!(
                std::env::var("TORG_TEST_MAIL").is_err(),
                "TORG_TEST_MAIL is set but dovecot or OpenSMTPD is missing"
            );
            eprintln!(
                "dovecot or OpenSMTPD missing: skipping the mail server tests (.ci/run installs them)"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_path_buf();
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(d.join(sub)).expect("dir");
        }
        let (uid, gid) = (id_of("-u", "dovecot"), id_of("-g", "dovecot"));
        let chown = Command::new("chown")
            .arg("-R")
            .arg(format!("{uid}:{gid}"))
            .arg(d.join("mail"))
            .status()
            .expect("chown");
        assert!(chown.success());
        // Dovecot's processes must be able to reach the directory.
        let _ = Command::new("chmod").arg("755").arg(&d).status();
        std::fs::write(
            d.join("users"),
            format!("postmottak:{{PLAIN}}{PASSWORD}\nola:{{PLAIN}}{PASSWORD}\nkari:{{PLAIN}}{PASSWORD}\n"),
        )
        .expect("users");
        let (imap_port, lmtp_port, smtp_port) = (free_port(), free_port(), free_port());
        let d_s = d.display();
        std::fs::write(
            d.join("dovecot.conf"),
            format!(
                "base_dir = {d_s}/run\nstate_dir = {d_s}/state\nlog_path = {d_s}/dovecot.log\n\
                 protocols = imap lmtp\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n\
                 auth_mechanisms = plain login\nmail_location = maildir:{d_s}/mail/%n\n\
                 first_valid_uid = {uid}\ndefault_internal_user = dovecot\ndefault_login_user = dovenull\n\
                 passdb {{\n driver = passwd-file\n args = scheme=PLAIN username_format=%n {d_s}/users\n}}\n\
                 userdb {{\n driver = static\n args = uid={uid} gid={gid} home={d_s}/mail/%n allow_all_users=yes\n}}\n\
                 service imap-login {{\n inet_listener imap {{\n  address = 127.0.0.1\n  port = {imap_port}\n }}\n inet_listener imaps {{\n  port = 0\n }}\n}}\n\
                 service lmtp {{\n inet_listener lmtp {{\n  address = 127.0.0.1\n  port = {lmtp_port}\n }}\n}}\n\
                 protocol lmtp {{\n auth_username_format = %n\n}}\n\
                 mailbox_idle_check_interval = 1 secs\n"
            ),
        )
        .expect("dovecot.conf");
        std::fs::write(
            d.join("smtpd.conf"),
            format!(
                "table vusers {{ \"@\" = \"dovecot\" }}\nlisten on 127.0.0.1 port {smtp_port}\n\
                 action \"deliver\" lmtp \"127.0.0.1:{lmtp_port}\" rcpt-to virtual <vusers>\n\
                 match from local for any action \"deliver\"\n"
            ),
        )
        .expect("smtpd.conf");
        let _ = Command::new("chmod")
            .arg("600")
            .arg(d.join("smtpd.conf"))
            .status();
        let dovecot = Command::new("/usr/sbin/dovecot")
            .arg("-F")
            .arg("-c")
            .arg(d.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot");
        wait_for(imap_port);
        let mut servers = MailServers {
            dir,
            imap_port,
            smtp_port,
            dovecot,
            smtpd: None,
        };
        servers.start_smtpd();
        Some(servers)
    }

    pub fn start_smtpd(&mut self) {
        // OpenSMTPD has one spool per machine (/var/spool/smtpd). Mail left there by an earlier
        // run would be retried towards servers that are gone and hold up this one, so the
        // harness starts from an empty spool: do not run it where OpenSMTPD carries real mail.
        for sub in ["queue"] {
            let dir = Path::new("/var/spool/smtpd").join(sub);
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    let _ = std::fs::remove_dir_all(e.path())
                        .or_else(|_| std::fs::remove_file(e.path()));
                }
            }
        }
        // Its log (with -d on standard error) is kept beside its configuration.
        let log = std::fs::File::create(self.dir.path().join("smtpd.log")).expect("smtpd.log");
        let child = Command::new("/usr/sbin/smtpd")
            .arg("-d")
            .arg("-f")
            .arg(self.dir.path().join("smtpd.conf"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("smtpd");
        self.smtpd = Some(child);
        wait_for(self.smtp_port);
    }

    pub fn stop_smtpd(&mut self) {
        if let Some(mut c) = self.smtpd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Its helper processes go with the parent; wait until the port is closed.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.smtp_port)).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Holds OpenSMTPD's local deliveries (into Dovecot) while messages are accepted and
    /// queued, or lets them go again: `smtpctl pause mda` / `resume mda`.
    pub fn hold_deliveries(&self, hold: bool) {
        let verb = if hold { "pause" } else { "resume" };
        let ok = Command::new("/usr/sbin/smtpctl")
            .args([verb, "mda"])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "smtpctl {verb} mda failed");
    }

    /// Messages delivered into every mailbox but `except`'s (maildir new and cur).
    pub fn delivered_except(&self, except: &str) -> usize {
        let Ok(users) = std::fs::read_dir(self.dir.path().join("mail")) else {
            return 0;
        };
        users
            .flatten()
            .filter(|u| u.file_name() != except)
            .flat_map(|u| ["new", "cur"].map(|d| u.path().join(d)))
            .filter_map(|d| std::fs::read_dir(d).ok())
            .map(|entries| entries.count())
            .sum()
    }

    /// The account of postmottak@nordby.kommune.no on these servers.
    pub fn account(&self) -> MailAccount {
        let server = |port| MailServer {
            host: "127.0.0.1".into(),
            port,
            security: "plain".into(),
            user: "postmottak".into(),
            password: PASSWORD.into(),
        };
        MailAccount {
            address: "postmottak@nordby.kommune.no".into(),
            display_name: "Nordby kommune".into(),
            imap: server(self.imap_port),
            imap_folder: "INBOX".into(),
            smtp: MailServer {
                user: String::new(),
                ..server(self.smtp_port)
            },
            max_message_bytes: 200_000,
            blocked_extensions: torg_domain::email::extension_list(
                torg_domain::email::DEFAULT_BLOCKED_EXTENSIONS,
            ),
        }
    }

    /// Delivers raw mail through the SMTP server, as a citizen's mail program would.
    pub async fn deliver(&self, from: &str, to: &str, raw: &str) {
        let t =
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous("127.0.0.1")
                .port(self.smtp_port)
                .build();
        let envelope = lettre::address::Envelope::new(
            Some(from.parse().expect("from")),
            vec![to.parse().expect("to")],
        )
        .expect("envelope");
        t.send_raw(&envelope, raw.as_bytes())
            .await
            .expect("delivered");
    }

    /// The messages in a user's inbox, parsed: (subject, in-reply-to, body).
    pub async fn inbox_of(&self, user: &str, expect: usize) -> Vec<(String, String, String)> {
        for _ in 0..50 {
            let found = self.read_inbox(user).await;
            if found.len() >= expect {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.read_inbox(user).await
    }

    pub async fn read_inbox(&self, user: &str) -> Vec<(String, String, String)> {
        self.raw_inbox(user)
            .await
            .iter()
            .filter_map(|raw| mail_parser::MessageParser::default().parse(raw))
            .map(|m| {
                (
                    m.subject().unwrap_or("").to_string(),
                    m.in_reply_to().as_text().unwrap_or("").to_string(),
                    m.body_text(0).unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// The messages in a user's inbox as they arrived, headers and all.
    pub async fn raw_inbox(&self, user: &str) -> Vec<Vec<u8>> {
        use futures_util::TryStreamExt;
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port))
            .await
            .expect("connect");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting");
        let mut session = client
            .login(user, PASSWORD)
            .await
            .map_err(|e| e.0)
            .expect("login");
        let mailbox = session.select("INBOX").await.expect("select");
        if mailbox.exists == 0 {
            return vec![];
        }
        let fetched: Vec<_> = session
            .fetch("1:*", "BODY.PEEK[]")
            .await
            .expect("fetch")
            .try_collect()
            .await
            .expect("fetch");
        fetched
            .iter()
            .filter_map(|f| f.body())
            .map(<[u8]>::to_vec)
            .collect()
    }
}

impl MailServers {
    /// Puts a message straight into a user's mailbox (Maildir), as delivery would: for
    /// filling a mailbox quickly.
    pub fn put_in_mailbox(&self, user: &str, n: usize, raw: &[u8]) -> std::io::Result<()> {
        let dir = self.dir.path().join("mail").join(user).join("new");
        std::fs::create_dir_all(&dir)?;
        for sub in ["cur", "tmp"] {
            std::fs::create_dir_all(dir.with_file_name(sub))?;
        }
        std::fs::write(dir.join(format!("{n}.torg.{}", std::process::id())), raw)
    }

    /// Hands the mailbox files written with [`Self::put_in_mailbox`] to Dovecot's user.
    pub fn settle_mailboxes(&self) {
        let (uid, gid) = (id_of("-u", "dovecot"), id_of("-g", "dovecot"));
        let _ = Command::new("chown")
            .arg("-R")
            .arg(format!("{uid}:{gid}"))
            .arg(self.dir.path().join("mail"))
            .status();
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        self.stop_smtpd();
        let _ = self.dovecot.kill();
        let _ = self.dovecot.wait();
    }
}
