//! The Noark 5 extract end to end: a SQLite store with inquiries the archivist kept (and some
//! not), exported, every XML file validated by xmllint against Arkivverket's schemas, every
//! checksum checked against the files.

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use torg_archive::{ArchiveError, ExtractSpec, Progress, export, xml_files};
use torg_domain::archive::{ArchiveDecision, Screening, ScreeningBasis};
use torg_domain::{Channel, InquiryStatus, MessageKind, Priority};
use torg_store::*;

fn t(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn schemas() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn xmllint(file: &Path, schema: &str) {
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schemas().join(schema))
        .arg(file)
        .output()
        .expect("xmllint must be installed (Debian package libxml2-utils; .ci/run installs it)");
    assert!(
        out.status.success(),
        "{} is not valid against {schema}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Setup {
    store: Arc<dyn Store>,
    municipality: Municipality,
    unit: Unit,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = torg_store_sql::open(dir.path().join("torg.db").to_str().expect("path"))
        .await
        .expect("open");
    let municipality = store
        .create_municipality(NewMunicipality {
            slug: "demo".into(),
            name: "Demo kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await
        .expect("municipality");
    let unit = store
        .create_unit(municipality.id, "Servicetorget", true, false, None)
        .await
        .expect("unit");
    Setup {
        store,
        municipality,
        unit,
        _dir: dir,
    }
}

async fn inquiry(s: &Setup, n: i64, body: &str, attachments: Vec<NewAttachment>) -> Inquiry {
    let at = t("2026-03-02T08:00:00Z") + SignedDuration::from_hours(n);
    s.store
        .create_inquiry(NewInquiry {
            tenant_id: s.municipality.id,
            channel: Channel::Email,
            topic: None,
            subject: Some(format!("Søknad nr. {n}")),
            citizen_name: "Kari Nordmann".into(),
            contact_email: Some("kari@example.no".into()),
            contact_phone: None,
            language: "nb".into(),
            unit_id: s.unit.id,
            priority: Priority::Normal,
            follow_token_hash: format!("token-{n}"),
            body: body.into(),
            attachments,
            received_at: at,
            reference_year: 2026,
            deadline_at: at + SignedDuration::from_hours(48),
            external_id: None,
            thread_key: None,
            acknowledgement: None,
            origin: Origin {
                actor: "citizen".into(),
                source: "test".into(),
            },
        })
        .await
        .expect("create")
        .inquiry
}

async fn answer_and_close(s: &Setup, i: &Inquiry, body: &str) {
    let at = i.received_at + SignedDuration::from_hours(2);
    s.store
        .add_message(
            s.municipality.id,
            i.id,
            NewMessage {
                kind: MessageKind::Outbound,
                author_user_id: None,
                author_name: "Per Saksbehandler".into(),
                body: body.into(),
                attachments: vec![],
                created_at: at,
                external_id: None,
                outgoing: None,
            },
            None,
        )
        .await
        .expect("answer");
    s.store
        .set_status(s.municipality.id, i.id, InquiryStatus::Closed, at, None)
        .await
        .expect("close");
}

async fn keep(s: &Setup, i: &Inquiry, screening: Screening) {
    s.store
        .set_archive_record(
            s.municipality.id,
            &ArchiveRecord {
                inquiry_id: i.id,
                decision: ArchiveDecision::Archive,
                reasons: "application".into(),
                decided_by: None,
                decided_at: i.received_at + SignedDuration::from_hours(3),
                screening,
            },
            None,
        )
        .await
        .expect("keep");
}

fn spec(s: &Setup) -> ExtractSpec {
    ExtractSpec {
        municipality: s.municipality.clone(),
        from: "2026-01-01".parse().expect("date"),
        to: "2026-12-31".parse().expect("date"),
        units: HashMap::from([(s.unit.id, s.unit.name.clone())]),
        users: HashMap::new(),
        now: t("2026-11-22T12:00:00Z"),
        page: 2,
    }
}

#[tokio::test]
async fn the_extract_is_valid_and_complete() {
    let s = setup().await;
    let first = inquiry(
        &s,
        1,
        "Jeg søker om <b>skjenkebevilling</b> & legger ved tegning.",
        vec![NewAttachment {
            filename: "../tegning fra Åse.pdf".into(),
            content_type: "application/pdf".into(),
            data: b"%PDF-1.4 tegning".to_vec(),
        }],
    )
    .await;
    answer_and_close(&s, &first, "Vedtak: søknaden er innvilget.").await;
    keep(&s, &first, Screening::default()).await;
    let screened = inquiry(
        &s,
        2,
        "Søknad om støtte etter sykdom. Fnr 01017000027",
        vec![],
    )
    .await;
    answer_and_close(&s, &screened, "Vedtak: innvilget.").await;
    keep(
        &s,
        &screened,
        Screening {
            basis: Some(ScreeningBasis::PersonalCircumstances),
            names: true,
            public_title: Some("Søknad om støtte".into()),
        },
    )
    .await;
    let third = inquiry(&s, 3, "Klage på brøyting \u{0007}", vec![]).await;
    answer_and_close(&s, &third, "Svar").await;
    keep(&s, &third, Screening::default()).await;
    // Kept but still open: not in the extract yet. Not kept: never.
    let open = inquiry(&s, 4, "Søknad, ikke ferdig", vec![]).await;
    keep(&s, &open, Screening::default()).await;
    let not_kept = inquiry(&s, 5, "Når tømmes søpla?", vec![]).await;
    answer_and_close(&s, &not_kept, "På tirsdag").await;

    let out_dir = s._dir.path().join("uttrekk");
    let mut seen = Vec::new();
    let out = export(&*s.store, &spec(&s), &out_dir, &mut |p| seen.push(p))
        .await
        .expect("export");
    assert_eq!(out.cases, 3);
    assert_eq!(out.skipped_open, 1);
    assert_eq!(out.journal_posts, 6);
    assert_eq!(out.documents, 7, "six messages and one attachment");
    assert_eq!(out.screened_cases, 1);
    assert_eq!(seen.first(), Some(&Progress::Started { cases: 4 }));
    assert_eq!(seen.last(), Some(&Progress::Case { done: 4 }));

    for (file, schema) in xml_files() {
        xmllint(&out_dir.join(file), schema);
    }
    let read = |f: &str| std::fs::read_to_string(out_dir.join(f)).expect("read");
    let structure = read("arkivstruktur.xml");
    assert_eq!(structure.matches("xsi:type=\"saksmappe\"").count(), 3);
    assert_eq!(structure.matches("xsi:type=\"journalpost\"").count(), 6);
    // Documents go as received: the citizen's text unchanged in its file, never as markup.
    let texts: Vec<String> = walk(&out_dir.join("dokumenter"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".txt"))
        .map(|p| std::fs::read_to_string(p).expect("doc"))
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Jeg søker om <b>skjenkebevilling</b>"))
    );
    assert!(!structure.contains("<b>"));
    assert!(structure.contains("<journalposttype>Inngående dokument</journalposttype>"));
    assert!(structure.contains("<tilknyttetRegistreringSom>Vedlegg</tilknyttetRegistreringSom>"));
    assert!(structure.contains("<format>fmt/18</format>"));
    assert!(!structure.contains("Søpla") && !structure.contains("søpla"));
    assert!(!structure.contains("ikke ferdig"));

    // The public journal shows the screened title and hides the name; the running journal
    // keeps both.
    let public = read("offentligJournal.xml");
    assert!(public.contains("<offentligTittel>Søknad om støtte</offentligTittel>"));
    assert!(!public.contains("01017000027"));
    assert!(public.contains("<korrespondansepartNavn>*****</korrespondansepartNavn>"));
    assert!(public.contains(
        "<skjermingshjemmel>Offl. § 13 jf. fvl. § 13 første ledd nr. 1</skjermingshjemmel>"
    ));
    assert_eq!(
        public
            .matches("<korrespondansepartNavn>Kari Nordmann")
            .count(),
        4
    );
    let running = read("loependeJournal.xml");
    assert!(running.contains("<antallJournalposter>6</antallJournalposter>"));
    assert!(running.contains("Søknad nr. 2"));
    let changes = read("endringslogg.xml");
    assert!(changes.contains("<nyVerdi>Avsluttet periode</nyVerdi>"));
    assert_eq!(changes.matches("<referanseMetadata>saksstatus").count(), 3);

    // Every file in ADDML with its SHA-256, and every document's checksum in the structure.
    let addml = read("arkivuttrekk.xml");
    let mut files = 0;
    for entry in walk(&out_dir.join("dokumenter")) {
        let bytes = std::fs::read(&entry).expect("doc");
        let sum = torg_domain::hex(&Sha256::digest(&bytes));
        let rel = entry
            .strip_prefix(&out_dir)
            .expect("inside")
            .to_string_lossy()
            .to_string();
        assert!(addml.contains(&rel), "{rel} listed");
        assert!(addml.contains(&sum), "{rel}'s checksum listed");
        assert!(structure.contains(&format!(
            "<referanseDokumentfil>{rel}</referanseDokumentfil>"
        )));
        assert!(structure.contains(&sum));
        files += 1;
    }
    assert_eq!(files, 7);
    for f in [
        "arkivstruktur.xml",
        "loependeJournal.xml",
        "offentligJournal.xml",
        "endringslogg.xml",
        "arkivstruktur.xsd",
    ] {
        let sum = torg_domain::hex(&Sha256::digest(
            std::fs::read(out_dir.join(f)).expect("file"),
        ));
        assert!(addml.contains(&sum), "{f}'s checksum listed");
    }
    assert!(addml.contains("<value>7</value>"), "antallDokumentfiler");
    let leftovers: Vec<_> = std::fs::read_dir(&out_dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The same records again get the same systemIDs.
    let again = s._dir.path().join("igjen");
    export(&*s.store, &spec(&s), &again, &mut |_| {})
        .await
        .expect("again");
    assert_eq!(
        std::fs::read_to_string(again.join("arkivstruktur.xml")).expect("read"),
        structure
    );

    // A case of June kept after those extracts: an extract of June alone numbers its posts
    // after the year's earlier ones (given by the first extract), and a whole-year extract
    // keeps every number.
    let later = inquiry(&s, 2200, "Søknad om gravetillatelse", vec![]).await;
    answer_and_close(&s, &later, "Innvilget.").await;
    keep(&s, &later, Screening::default()).await;
    let mut june = spec(&s);
    june.from = "2026-06-01".parse().expect("date");
    june.to = "2026-06-30".parse().expect("date");
    let june_dir = s._dir.path().join("juni");
    export(&*s.store, &june, &june_dir, &mut |_| {})
        .await
        .expect("june");
    let later_dir = s._dir.path().join("senere");
    export(&*s.store, &spec(&s), &later_dir, &mut |_| {})
        .await
        .expect("later");
    let numbers = |xml: &str| -> Vec<String> {
        xml.split("<journalsekvensnummer>")
            .skip(1)
            .filter_map(|p| p.split('<').next())
            .map(str::to_string)
            .collect()
    };
    let later_structure =
        std::fs::read_to_string(later_dir.join("arkivstruktur.xml")).expect("read");
    assert_eq!(numbers(&structure), ["1", "2", "3", "4", "5", "6"]);
    let june_structure = std::fs::read_to_string(june_dir.join("arkivstruktur.xml")).expect("read");
    assert_eq!(numbers(&june_structure), ["7", "8"]);
    assert_eq!(
        numbers(&later_structure),
        ["1", "2", "3", "4", "5", "6", "7", "8"]
    );

    // A used directory is refused; a period without records says what to do.
    assert!(matches!(
        export(&*s.store, &spec(&s), &out_dir, &mut |_| {}).await,
        Err(ArchiveError::NotEmpty(_))
    ));
    let mut empty = spec(&s);
    empty.from = "2025-01-01".parse().expect("date");
    empty.to = "2025-12-31".parse().expect("date");
    let err = export(&*s.store, &empty, &s._dir.path().join("tom"), &mut |_| {})
        .await
        .expect_err("empty");
    assert!(err.to_string().contains("archive-worthy"), "{err}");
}

/// The Swedish export: the same cases as E-ARK CITS ERMS v3, valid against the DILCIS
/// Board's schema by xmllint, with the diarienummer, directions, counterparts, secrecy citing
/// offentlighets- och sekretesslagen, and the attachments written beside it.
#[tokio::test]
async fn the_erms_export_is_valid_and_complete() {
    let s = setup().await;
    let first = inquiry(
        &s,
        1,
        "Jag ansöker om <b>serveringstillstånd</b> & bifogar ritning.",
        vec![NewAttachment {
            filename: "../ritning från Åsa.pdf".into(),
            content_type: "application/pdf".into(),
            data: b"%PDF-1.4 ritning".to_vec(),
        }],
    )
    .await;
    answer_and_close(&s, &first, "Beslut: ansökan beviljas.").await;
    keep(&s, &first, Screening::default()).await;
    let secret = inquiry(&s, 2, "Ansökan om stöd efter sjukdom.", vec![]).await;
    answer_and_close(&s, &secret, "Beslut: beviljas.").await;
    keep(
        &s,
        &secret,
        Screening {
            basis: Some(ScreeningBasis::Health),
            names: true,
            public_title: Some("Ansökan om stöd".into()),
        },
    )
    .await;
    let open = inquiry(&s, 3, "Ansökan, inte klar", vec![]).await;
    keep(&s, &open, Screening::default()).await;

    let out_dir = s._dir.path().join("erms");
    let out = torg_archive::export_erms(&*s.store, &spec(&s), &out_dir, &mut |_| {})
        .await
        .expect("export");
    assert_eq!(out.cases, 2);
    assert_eq!(out.skipped_open, 1);
    assert_eq!(out.journal_posts, 4);
    assert_eq!(out.documents, 1);
    let file = out_dir.join("erms.xml");
    xmllint(&file, "ERMS_v3.xsd");
    assert!(
        out_dir.join("ERMS_v3.xsd").exists(),
        "the schema travels with it"
    );
    let xml = std::fs::read_to_string(&file).expect("read");
    assert!(xml.contains(&format!("<objectId>{}</objectId>", first.reference)));
    assert!(xml.contains("aggregationType=\"caseFile\""));
    assert!(xml.contains("directionDefinition=\"incoming\""));
    assert!(xml.contains("directionDefinition=\"outgoing\""));
    assert!(
        xml.contains("&lt;b&gt;serveringstillstånd&lt;/b&gt; &amp;"),
        "text escaped"
    );
    assert!(xml.contains("25 kap. 1 § offentlighets- och sekretesslagen"));
    assert!(!xml.contains("Offl."), "Swedish law only");
    let attachment = between(&xml, " path=\"", "\"");
    assert!(!attachment.contains(".."), "a safe file name: {attachment}");
    assert_eq!(
        std::fs::read(out_dir.join(attachment)).expect("attachment"),
        b"%PDF-1.4 ritning"
    );
    // A folder that is not empty is refused; a period with nothing closed says so.
    let again = torg_archive::export_erms(&*s.store, &spec(&s), &out_dir, &mut |_| {}).await;
    assert!(matches!(
        again,
        Err(torg_archive::ArchiveError::NotEmpty(_))
    ));
}

#[tokio::test]
async fn fiks_arkivmelding_messages_are_valid() {
    let s = setup().await;
    let first = inquiry(
        &s,
        1,
        "Jeg søker om <b>skjenkebevilling</b>.",
        vec![NewAttachment {
            filename: "tegning.pdf".into(),
            content_type: "application/pdf".into(),
            data: b"%PDF-1.7 tegning".to_vec(),
        }],
    )
    .await;
    answer_and_close(&s, &first, "Vedtak: innvilget.").await;
    keep(
        &s,
        &first,
        Screening {
            basis: Some(ScreeningBasis::BusinessSecrets),
            names: false,
            public_title: None,
        },
    )
    .await;
    let dir = s._dir.path().join("fiks");
    let written = torg_archive::fiks::write_messages(&*s.store, &spec(&s), &dir, &mut |_| {})
        .await
        .expect("messages");
    assert_eq!(written, 3, "the mappe and two journalposts");
    let schema = schemas().join("fiks/no.ks.fiks.arkiv.v1.arkivering.arkivmelding.opprett.xsd");
    let mut folders: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    folders.sort();
    for folder in &folders {
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(folder.join("arkivmelding.xml"))
            .output()
            .expect("xmllint");
        assert!(
            out.status.success(),
            "{}: {}",
            folder.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mappe = std::fs::read_to_string(folders[0].join("arkivmelding.xml")).expect("read");
    assert!(
        mappe.contains("xsi:type=\"saksmappe\"") && mappe.contains("<antallFiler>0</antallFiler>")
    );
    let post = std::fs::read_to_string(folders[1].join("arkivmelding.xml")).expect("read");
    assert!(post.contains("<antallFiler>2</antallFiler>"));
    assert!(post.contains("<n5mdk:kode>I</n5mdk:kode>"));
    assert!(post.contains("<tittel>Søknad nr. 1</tittel>"));
    assert!(
        post.contains("<n5mdk:kode>fmt/276</n5mdk:kode>"),
        "PDF 1.7 by its header"
    );
    let files: Vec<_> = std::fs::read_dir(&folders[1]).expect("dir").collect();
    assert_eq!(files.len(), 3, "payload, message text and the attachment");
    // The same systemID as in the Noark 5 extract.
    let out = s._dir.path().join("uttrekk");
    export(&*s.store, &spec(&s), &out, &mut |_| {})
        .await
        .expect("export");
    let structure = std::fs::read_to_string(out.join("arkivstruktur.xml")).expect("read");
    let id = between(&mappe, "<systemID>", "</systemID>");
    assert!(structure.contains(&format!("<systemID>{id}</systemID>")));
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).expect("start") + start.len();
    let to = text[from..].find(end).expect("end") + from;
    &text[from..to]
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_schemas_carried_are_arkivverkets() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/standards");
    if !shared.exists() {
        return;
    }
    for (name, bytes) in torg_archive::SCHEMAS {
        let folder = if name == "addml.xsd" {
            "addml-8.3"
        } else {
            "noark5-v5.0"
        };
        let theirs = std::fs::read(shared.join(folder).join(name)).expect("shared schema");
        assert_eq!(theirs, bytes, "{name} differs from ../shared/standards");
    }
}
