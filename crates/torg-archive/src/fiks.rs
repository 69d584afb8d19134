//! Fiks Arkiv (KS): the same records pushed one by one as `arkivmelding` messages of type
//! `no.ks.fiks.arkiv.v1.arkivering.arkivmelding.opprett`. Each case gives one message that
//! creates its saksmappe and one per message in or out that creates a journalpost in that
//! mappe (referred to by its systemID), with the documents as files beside the payload.
//!
//! The transport here is a folder per message (`arkivmelding.xml` and its files), the shape of
//! a Fiks IO message's content; sending them through Fiks IO is the next step.

use crate::noark::{CasePages, Clock, ExtractSpec, Ids};
use crate::xml::Xml;
use crate::{ArchiveError, Progress};
use std::path::Path;
use torg_domain::MessageKind;
use torg_domain::archive::case_title;
use torg_store::{ArchiveCase, Store};

/// The message type every payload here is.
pub const MESSAGE_TYPE: &str = "no.ks.fiks.arkiv.v1.arkivering.arkivmelding.opprett";
const NS: &str =
    "https://ks-no.github.io/standarder/fiks-protokoll/fiks-arkiv/arkivmelding/opprett/v1";
const MDK_NS: &str =
    "https://ks-no.github.io/standarder/fiks-protokoll/fiks-arkiv/metadatakatalog/v1";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One message: its payload and the files that go with it.
pub struct FiksMessage {
    /// A name for the message's folder: `2026-000123-0` for the mappe, `…-1` for the first
    /// journalpost.
    pub name: String,
    pub payload: Vec<u8>,
    pub files: Vec<(String, Vec<u8>)>,
}

fn kode(x: &mut Xml<Vec<u8>>, name: &str, code: &str, text: &str) -> std::io::Result<()> {
    x.open(name)?;
    x.leaf("n5mdk:kode", code)?;
    x.leaf("n5mdk:beskrivelse", text)?;
    x.close(name)
}

fn named(x: &mut Xml<Vec<u8>>, name: &str, who: &str) -> std::io::Result<()> {
    x.open(name)?;
    x.leaf("n5mdk:navn", who)?;
    x.close(name)
}

fn start(x: &mut Xml<Vec<u8>>, files: usize) -> std::io::Result<()> {
    x.open_with(
        "arkivmelding",
        &[
            ("xmlns", NS),
            ("xmlns:n5mdk", MDK_NS),
            ("xmlns:xsi", XSI_NS),
        ],
    )?;
    x.leaf("system", "Torg")?;
    x.leaf("antallFiler", &files.to_string())
}

fn skjerming(x: &mut Xml<Vec<u8>>, case: &ArchiveCase) -> std::io::Result<()> {
    let Some(basis) = case.record.screening.basis else {
        return Ok(());
    };
    x.open("skjerming")?;
    kode(
        x,
        "tilgangsrestriksjon",
        basis.access_code(),
        basis.citation(),
    )?;
    x.leaf("skjermingshjemmel", basis.citation())?;
    x.close("skjerming")
}

/// The messages of one case: the mappe first, then a journalpost per message in or out.
pub fn case_messages(
    case: &ArchiveCase,
    spec: &ExtractSpec,
    documents: &dyn Fn(i64) -> Option<Vec<u8>>,
) -> Result<Vec<FiksMessage>, ArchiveError> {
    let ids = Ids::new(&spec.municipality.slug);
    let clock = Clock::new(&spec.municipality.time_zone)?;
    let i = &case.inquiry;
    let r = i.reference;
    let title = case_title(i.subject.as_deref(), &i.preview);
    let public_title = case.record.screening.public_title(&title);
    let (unit, officer) = spec.unit_and_officer(i);
    let case_id = ids.of("saksmappe", i.id);
    let mut out = Vec::new();

    let mut x = Xml::new(Vec::new())?;
    start(&mut x, 0)?;
    x.open_with("mappe", &[("xsi:type", "saksmappe")])?;
    x.leaf("systemID", &case_id)?;
    x.leaf("mappeID", &r.to_string())?;
    x.leaf("tittel", &title)?;
    x.leaf("offentligTittel", &public_title)?;
    x.leaf("opprettetDato", &clock.date_time(i.received_at))?;
    x.leaf("opprettetAv", "Torg")?;
    if let Some(closed) = i.closed_at {
        x.leaf("avsluttetDato", &clock.date_time(closed))?;
        x.leaf("avsluttetAv", officer)?;
    }
    skjerming(&mut x, case)?;
    x.leaf("saksaar", &r.year.to_string())?;
    x.leaf("sakssekvensnummer", &r.number.to_string())?;
    x.leaf("saksdato", &clock.date(i.received_at).to_string())?;
    named(&mut x, "administrativEnhet", unit)?;
    named(&mut x, "saksansvarlig", officer)?;
    if i.closed_at.is_some() {
        kode(&mut x, "saksstatus", "A", "Avsluttet")?;
    } else {
        kode(&mut x, "saksstatus", "B", "Under behandling")?;
    }
    x.close("mappe")?;
    x.close("arkivmelding")?;
    out.push(FiksMessage {
        name: format!("{r}-0"),
        payload: x.into_inner(),
        files: Vec::new(),
    });

    for (n, m) in case.messages.iter().enumerate() {
        let number = n + 1;
        let incoming = m.kind == MessageKind::Inbound;
        let mut files = vec![(format!("{}-{}.txt", r, m.id), m.body.as_bytes().to_vec())];
        for a in &m.attachments {
            if let Some(data) = documents(a.id) {
                files.push((
                    format!(
                        "{}-{}-{}",
                        r,
                        a.id,
                        crate::format::safe_file_name(&a.filename)
                    ),
                    data,
                ));
            }
        }
        let created = clock.date_time(m.created_at);
        let post_title = if incoming {
            title.clone()
        } else {
            format!("Svar: {title}")
        };
        let mut x = Xml::new(Vec::new())?;
        start(&mut x, files.len())?;
        x.open_with("registrering", &[("xsi:type", "journalpost")])?;
        x.leaf("systemID", &ids.of("journalpost", m.id))?;
        x.leaf("opprettetDato", &created)?;
        x.leaf(
            "opprettetAv",
            if incoming {
                &i.citizen_name
            } else {
                &m.author_name
            },
        )?;
        x.open("referanseForelderMappe")?;
        x.leaf("n5mdk:systemID", &case_id)?;
        x.close("referanseForelderMappe")?;
        skjerming(&mut x, case)?;
        for (k, (file, bytes)) in files.iter().enumerate() {
            let (mime, format) = if k == 0 {
                ("text/plain", Some("x-fmt/111"))
            } else {
                let meta = &m.attachments[k - 1];
                (
                    meta.content_type.as_str(),
                    crate::format::pronom(&meta.content_type, &bytes[..bytes.len().min(16)]),
                )
            };
            x.open("dokumentbeskrivelse")?;
            x.leaf("systemID", &ids.of("dokumentbeskrivelse", file))?;
            kode(&mut x, "dokumenttype", "B", "Brev")?;
            kode(&mut x, "dokumentstatus", "F", "Dokumentet er ferdigstilt")?;
            x.leaf("tittel", if k == 0 { &post_title } else { file })?;
            if k == 0 {
                kode(&mut x, "tilknyttetRegistreringSom", "H", "Hoveddokument")?;
            } else {
                kode(&mut x, "tilknyttetRegistreringSom", "V", "Vedlegg")?;
            }
            x.leaf("dokumentnummer", &(k + 1).to_string())?;
            x.open("dokumentobjekt")?;
            x.leaf("versjonsnummer", "1")?;
            kode(&mut x, "variantformat", "A", "Arkivformat")?;
            if let Some(f) = format {
                kode(&mut x, "format", f, mime)?;
            }
            x.leaf("mimeType", mime)?;
            x.leaf("filnavn", file)?;
            x.leaf("referanseDokumentfil", file)?;
            x.leaf(
                "sjekksum",
                &torg_domain::hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes)),
            )?;
            x.leaf("sjekksumAlgoritme", "SHA256")?;
            x.leaf("filstoerrelse", &bytes.len().to_string())?;
            x.close("dokumentobjekt")?;
            x.close("dokumentbeskrivelse")?;
        }
        x.leaf("registreringsID", &format!("{r}-{number}"))?;
        x.leaf("tittel", &post_title)?;
        x.open("korrespondansepart")?;
        if incoming {
            kode(&mut x, "korrespondanseparttype", "EA", "Avsender")?;
        } else {
            kode(&mut x, "korrespondanseparttype", "EM", "Mottaker")?;
        }
        x.leaf("korrespondansepartNavn", &i.citizen_name)?;
        if let Some(email) = &i.contact_email {
            x.leaf("epostadresse", email)?;
        }
        x.close("korrespondansepart")?;
        if incoming {
            kode(&mut x, "journalposttype", "I", "Inngående dokument")?;
        } else {
            kode(&mut x, "journalposttype", "U", "Utgående dokument")?;
        }
        kode(&mut x, "journalstatus", "J", "Journalført")?;
        x.leaf("journaldato", &clock.date(m.created_at).to_string())?;
        if incoming {
            x.leaf("mottattDato", &created)?;
        } else {
            x.leaf("sendtDato", &created)?;
        }
        x.leaf("antallVedlegg", &m.attachments.len().to_string())?;
        x.close("registrering")?;
        x.close("arkivmelding")?;
        out.push(FiksMessage {
            name: format!("{r}-{number}"),
            payload: x.into_inner(),
            files,
        });
    }
    Ok(out)
}

/// Writes the messages of every kept inquiry of the period into `dir`, a folder per message
/// (`arkivmelding.xml` and its files). Returns how many messages were written.
pub async fn write_messages(
    store: &dyn Store,
    spec: &ExtractSpec,
    dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<u64, ArchiveError> {
    let mut pages = CasePages::start(store, spec, dir).await?;
    let tenant = spec.municipality.id;
    progress(Progress::Started { cases: pages.total });
    std::fs::create_dir_all(dir)?;
    let (mut done, mut written) = (0u64, 0u64);
    loop {
        let page = pages.next().await?;
        if page.is_empty() {
            break;
        }
        for case in &page {
            let mut attachments = std::collections::HashMap::new();
            for m in &case.messages {
                for a in &m.attachments {
                    if let Some((_, data)) = store.attachment_data(tenant, a.id).await? {
                        attachments.insert(a.id, data);
                    }
                }
            }
            for message in case_messages(case, spec, &|id| attachments.get(&id).cloned())? {
                let folder = dir.join(&message.name);
                std::fs::create_dir_all(&folder)?;
                std::fs::write(folder.join("arkivmelding.xml"), &message.payload)?;
                for (name, bytes) in &message.files {
                    std::fs::write(folder.join(name), bytes)?;
                }
                written += 1;
            }
            done += 1;
        }
        progress(Progress::Case { done });
    }
    Ok(written)
}
