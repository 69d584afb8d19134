//! `torg-bench fuzz`: random and mutated input for every parser that reads what comes from
//! outside — MIME mail, Meta's webhook payloads, the SMS hook's parameters, multipart forms,
//! the JSON API's bodies, placeholders in canned replies — each for `cases` inputs, counting
//! that none panics and watching the process's peak memory. The inputs are the seeds (real
//! examples) mutated: bytes flipped, inserted, deleted, duplicated, spliced with other seeds,
//! cut; or random bytes. Deterministic for a seed.

use anyhow::{Result, bail};
use std::time::Instant;

/// A small, fast, deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that make parsers take their less travelled paths.
const TRICKY: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"--",
    b"=?utf-8?B?",
    b"=?iso-8859-1?Q?",
    b"?=",
    b"=\r\n",
    b"boundary=",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\\u0000",
    b"\\ud800",
    b"%",
    b"%ff",
    b"&",
    b"=",
    b"{navn}",
    b"{{",
    b"}}",
    b"\xff\xfe",
    b"\xc3\xa6\xc3\xb8\xc3\xa5",
    b"\xe2\x80\xae",
    b"\x00",
];

/// `seed` changed a few times over.
fn mutate(rng: &mut Rng, seeds: &[&[u8]]) -> Vec<u8> {
    if rng.below(20) == 0 {
        let n = rng.below(512);
        return (0..n).map(|_| rng.next() as u8).collect();
    }
    let mut data = seeds[rng.below(seeds.len())].to_vec();
    for _ in 0..1 + rng.below(8) {
        let len = data.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                data.insert(i, rng.next() as u8);
            }
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(64)).min(len);
                data.drain(a..b);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(64)).min(len);
                let chunk = data[a..b].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, chunk);
            }
            4 => {
                let t = TRICKY[rng.below(TRICKY.len())];
                let at = rng.below(len + 1);
                data.splice(at..at, t.iter().copied());
            }
            5 => {
                let other = seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + rng.below(128)).min(other.len());
                    let at = rng.below(len + 1);
                    data.splice(at..at, other[a..b].iter().copied());
                }
            }
            6 if len > 0 => data.truncate(rng.below(len)),
            _ => {
                let i = rng.below(len + 1);
                let n = rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| (rng.next() % 95 + 32) as u8).collect();
                data.splice(i..i, bytes);
            }
        }
    }
    // Keep inputs bounded: a fuzz case is about shape, not size.
    data.truncate(64 * 1024);
    data
}

const MAIL: &[u8] = b"From: =?utf-8?Q?Ola_Nordmann?= <ola@example.no>\r\nTo: postmottak@nordby.kommune.no\r\nSubject: =?utf-8?B?U3DDuHJzbcOlbA==?=\r\nMessage-ID: <a1@example.no>\r\nIn-Reply-To: <torg.x@nordby.kommune.no>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHei, n=E5r t=F8mmes s=F8pla?\r\n--b1\r\nContent-Type: application/pdf; name=\"kart.pdf\"\r\nContent-Disposition: attachment; filename=\"kart.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOfCg==\r\n--b1--\r\n";
const MAIL_AUTO: &[u8] = b"From: MAILER-DAEMON@example.no\r\nAuto-Submitted: auto-replied\r\nSubject: Undelivered\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Kunne <b>ikke</b> leveres</p>\r\n";

const MULTIPART: &[u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nOla\r\n--XyZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nHei \xc3\xa6\xc3\xb8\xc3\xa5\r\n--XyZ\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--XyZ--\r\n";

const CREATE: &[u8] = br#"{"citizen_name":"Ola","email":"ola@example.no","body":"Hei","channel":"phone","priority":"high","external_id":"x1","automatic":false}"#;
const WRITE: &[u8] =
    br#"{"body":"Svar","author_user_id":3,"privately":true,"confirm_personal_data":false}"#;

const SMS_QUERY: &[u8] = b"key=abc&from=%2B4791234567&text=VANN+lekker+i+Storgata&id=1234";

const CANNED: &[u8] = b"Hei {navn}! Vi ser p\xc3\xa5 sak {referanse}. {ukjent} {{ {signatur}";

/// What a parser does with one input (it must not panic).
type Parse = Box<dyn Fn(&[u8]) + Send + Sync>;

/// One parser under fuzz: its name, its seeds and what it does with an input.
struct Target {
    name: &'static str,
    seeds: Vec<&'static [u8]>,
    run: Parse,
}

fn targets(runtime: std::sync::Arc<tokio::runtime::Runtime>) -> Vec<Target> {
    let blocked = vec!["exe".to_string(), "js".to_string()];
    vec![
        Target {
            name: "mime mail",
            seeds: vec![MAIL, MAIL_AUTO],
            run: Box::new(move |raw| {
                let checks = torg_email::ingest::Checks {
                    max_message_bytes: 8 * 1024,
                    max_attachment_bytes: 1024,
                    blocked_extensions: &blocked,
                };
                let _ = torg_email::ingest::read(raw, Some(checks));
                let _ = torg_email::ingest::read(raw, None);
                let _ = torg_email::ingest::answers_something(raw);
            }),
        },
        Target {
            name: "meta webhook",
            seeds: vec![
                include_bytes!("../../torg-social/tests/payloads/facebook_feed_comment.json"),
                include_bytes!("../../torg-social/tests/payloads/instagram_comment.json"),
                include_bytes!("../../torg-social/tests/payloads/instagram_message.json"),
                include_bytes!("../../torg-social/tests/payloads/messenger_message.json"),
            ],
            run: Box::new(|body| {
                let _ = torg_social::meta::parse(body);
                let _ = torg_social::meta::accounts_in(body);
                let header = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
                let _ = torg_social::meta::signature_is_valid(b"app-secret", body, &header);
            }),
        },
        Target {
            name: "sms hook",
            seeds: vec![SMS_QUERY],
            run: Box::new(|query| {
                for (k, v) in form_urlencoded::parse(query) {
                    let _ = (k.len(), torg_domain::sms::first_word(&v));
                    let _ = torg_domain::sms::consent_word(&v);
                    let _ = torg_domain::sms::fold_keyword(&v);
                    let _ = torg_domain::sms::code_word(&v);
                    let friendly = torg_domain::sms::gsm_friendly(&v);
                    let _ = torg_domain::sms::segments(&friendly);
                }
            }),
        },
        Target {
            name: "multipart form",
            seeds: vec![MULTIPART],
            run: Box::new(move |body| {
                use axum::extract::FromRequest;
                let req = axum::http::Request::builder()
                    .method("POST")
                    .header("content-type", "multipart/form-data; boundary=XyZ")
                    .body(axum::body::Body::from(body.to_vec()));
                let Ok(req) = req else { return };
                runtime.block_on(async move {
                    if let Ok(mut form) = axum::extract::Multipart::from_request(req, &()).await {
                        while let Ok(Some(field)) = form.next_field().await {
                            let _ = (field.name().map(str::len), field.file_name().map(str::len));
                            if field.bytes().await.is_err() {
                                break;
                            }
                        }
                    }
                });
            }),
        },
        Target {
            name: "json api",
            seeds: vec![CREATE, WRITE],
            run: Box::new(|body| {
                let _ = serde_json::from_slice::<torg_http::api::CreateInquiry>(body);
                let _ = serde_json::from_slice::<torg_http::api::WriteMessage>(body);
                let _ = serde_json::from_slice::<torg_http::api::Assign>(body);
            }),
        },
        Target {
            name: "canned reply",
            seeds: vec![CANNED],
            run: Box::new(|template| {
                let template = String::from_utf8_lossy(template);
                let p = torg_domain::reply::Placeholders {
                    citizen_name: "Ola {referanse}",
                    reference: "2026-0042",
                    signer: "Kari",
                };
                let _ = torg_domain::reply::fill_canned_reply(&template, &p);
                let _ = torg_domain::reply::fill_acknowledgement(
                    &template,
                    &[("referanse", "2026-0042"), ("lenke", "https://x/f/1")],
                );
            }),
        },
    ]
}

/// The process's peak resident memory, in MiB (Linux).
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

/// Runs `cases` inputs through every parser; fails if one panicked.
pub fn run(cases: u64, seed: u64) -> Result<()> {
    let runtime = std::sync::Arc::new(tokio::runtime::Builder::new_current_thread().build()?);
    let mut failed = vec![];
    println!("parser           cases      time     cases/s   peak memory");
    for target in targets(runtime) {
        let mut rng = Rng(seed.max(1) ^ target.name.len() as u64);
        let bar = indicatif::ProgressBar::new(cases);
        bar.set_message(target.name);
        let started = Instant::now();
        let mut panics = 0u64;
        for i in 0..cases {
            let input = mutate(&mut rng, &target.seeds);
            let run = &target.run;
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&input))).is_err() {
                panics += 1;
                if panics == 1 {
                    eprintln!(
                        "{} panicked on case {i}: {:?}",
                        target.name,
                        String::from_utf8_lossy(&input)
                    );
                }
            }
            if i % 4096 == 0 {
                bar.set_position(i);
            }
        }
        bar.finish_and_clear();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{:<16} {:>9} {:>7.1} s {:>10.0} {:>9.1} MiB{}",
            target.name,
            cases,
            secs,
            cases as f64 / secs.max(1e-9),
            peak_mib(),
            if panics > 0 {
                format!("  {panics} PANICS")
            } else {
                String::new()
            }
        );
        if panics > 0 {
            failed.push(target.name);
        }
    }
    if !failed.is_empty() {
        bail!("these parsers panicked: {}", failed.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_parser_survives_a_few_thousand_cases() {
        super::run(2_000, 7).expect("no panic");
    }
}
