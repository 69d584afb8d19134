//! The Noark 5 v5.0 extract, streamed case by case.

use crate::format::{pronom, safe_file_name};
use crate::xml::Xml;
use crate::{ArchiveError, SCHEMAS};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use torg_domain::MessageKind;
use torg_domain::archive::{Screening, case_title};
use torg_domain::{InquiryId, TenantId, UnitId, UserId};
use torg_store::{ArchiveCase, Message, Municipality, Store};

const ARKIVSTRUKTUR_NS: &str = "http://www.arkivverket.no/standarder/noark5/arkivstruktur";
const LOEPENDE_NS: &str = "http://www.arkivverket.no/standarder/noark5/loependeJournal";
const OFFENTLIG_NS: &str = "http://www.arkivverket.no/standarder/noark5/offentligJournal";
const ENDRINGSLOGG_NS: &str = "http://www.arkivverket.no/standarder/noark5/endringslogg";
const ADDML_NS: &str = "http://www.arkivverket.no/standarder/addml";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// Who made the extract and the records nobody signed.
const SYSTEM: &str = "Torg";

/// What to export.
pub struct ExtractSpec {
    pub municipality: Municipality,
    /// The period, both days included, in the municipality's time zone.
    pub from: Date,
    pub to: Date,
    /// Unit names (administrativEnhet) and staff names (saksansvarlig, arkivertAv) by id.
    pub units: HashMap<UnitId, String>,
    pub users: HashMap<UserId, String>,
    pub now: Timestamp,
    /// Cases read from the store at a time.
    pub page: u32,
}

impl ExtractSpec {
    /// The inquiry's unit (administrativEnhet) and who answers for it (saksansvarlig): the
    /// assignee, else the unit.
    pub(crate) fn unit_and_officer(&self, i: &torg_store::Inquiry) -> (&str, &str) {
        let unit = self
            .units
            .get(&i.unit_id)
            .map(String::as_str)
            .unwrap_or("Ukjent enhet");
        let officer = i
            .assignee_id
            .and_then(|u| self.users.get(&u))
            .map(String::as_str)
            .unwrap_or(unit);
        (unit, officer)
    }
}

/// How far the export has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Started { cases: u64 },
    Case { done: u64 },
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exported {
    pub cases: u64,
    /// Archive-worthy inquiries of the period still open: a case is exported once closed.
    pub skipped_open: u64,
    pub journal_posts: u64,
    pub documents: u64,
    pub document_bytes: u64,
    pub changes: u64,
    pub screened_cases: u64,
}

/// A writer that hashes (SHA-256) and counts what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Hashing<W> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The hex SHA-256 and the size, after flushing.
    fn finish(mut self) -> std::io::Result<(String, u64)> {
        self.inner.flush()?;
        Ok((torg_domain::hex(&self.hasher.finalize()), self.bytes))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

type FileOut = Hashing<BufWriter<File>>;

fn create(path: &Path) -> std::io::Result<FileOut> {
    Ok(Hashing::new(BufWriter::with_capacity(
        64 * 1024,
        File::create(path)?,
    )))
}

/// Stable systemIDs: UUID v5 of the municipality and the object, so a record keeps its id
/// from one extract (or Fiks message) to the next.
pub(crate) struct Ids {
    namespace: uuid::Uuid,
}

impl Ids {
    pub(crate) fn new(municipality: &str) -> Ids {
        Ids {
            namespace: uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_URL,
                format!("urn:torg:{municipality}").as_bytes(),
            ),
        }
    }
    pub(crate) fn of(&self, kind: &str, id: impl std::fmt::Display) -> String {
        uuid::Uuid::new_v5(&self.namespace, format!("{kind}:{id}").as_bytes()).to_string()
    }
}

#[derive(Clone)]
pub(crate) struct Clock {
    zone: TimeZone,
}

impl Clock {
    pub(crate) fn new(zone: &str) -> Result<Clock, ArchiveError> {
        Ok(Clock {
            zone: TimeZone::get(zone).map_err(|_| ArchiveError::TimeZone(zone.to_string()))?,
        })
    }
    /// xs:dateTime with the offset, whole seconds.
    pub(crate) fn date_time(&self, at: Timestamp) -> String {
        at.to_zoned(self.zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }
    pub(crate) fn date(&self, at: Timestamp) -> Date {
        at.to_zoned(self.zone.clone()).date()
    }
    /// The instants a period of days (both included) starts and ends.
    pub(crate) fn period(
        &self,
        from: Date,
        to: Date,
    ) -> Result<(Timestamp, Timestamp), ArchiveError> {
        Ok((
            self.start_of(from)?,
            self.start_of(to.tomorrow().unwrap_or(to))?,
        ))
    }
    fn start_of(&self, day: Date) -> Result<Timestamp, ArchiveError> {
        day.to_zoned(self.zone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| ArchiveError::TimeZone(e.to_string()))
    }
}

/// The archive-worthy cases of an extract's period, a page at a time, into an empty folder:
/// what the Noark 5 extract and the Fiks Arkiv messages both walk through.
pub(crate) struct CasePages<'a> {
    store: &'a dyn Store,
    tenant: TenantId,
    from: Timestamp,
    to: Timestamp,
    page: u32,
    after: InquiryId,
    /// How many cases the period holds.
    pub(crate) total: u64,
    pub(crate) clock: Clock,
}

impl<'a> CasePages<'a> {
    /// Refuses a folder that is not empty, then counts the period's cases.
    pub(crate) async fn start(
        store: &'a dyn Store,
        spec: &ExtractSpec,
        dir: &Path,
    ) -> Result<CasePages<'a>, ArchiveError> {
        if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
            return Err(ArchiveError::NotEmpty(dir.display().to_string()));
        }
        let clock = Clock::new(&spec.municipality.time_zone)?;
        let tenant = spec.municipality.id;
        let (from, to) = clock.period(spec.from, spec.to)?;
        let total = store.count_archive_cases(tenant, from, to).await? as u64;
        Ok(CasePages {
            store,
            tenant,
            from,
            to,
            page: spec.page.max(1),
            after: InquiryId(0),
            total,
            clock,
        })
    }

    /// The next page; empty when all are read.
    pub(crate) async fn next(&mut self) -> Result<Vec<ArchiveCase>, ArchiveError> {
        let page = self
            .store
            .archive_cases(self.tenant, self.from, self.to, self.after, self.page)
            .await?;
        if let Some(last) = page.last() {
            self.after = last.inquiry.id;
        }
        Ok(page)
    }
}

/// One journal post as the journals list it.
struct JournalLine<'a> {
    system_id: String,
    registration_id: String,
    year: i16,
    sequence: u64,
    number: usize,
    case_year: i16,
    case_number: i64,
    title: &'a str,
    public_title: &'a str,
    journal_date: Date,
    unit: &'a str,
    case_officer: &'a str,
    handler: &'a str,
    kind: &'static str,
    party: &'a str,
    public_party: &'a str,
    attachments: usize,
    screening: &'a Screening,
}

/// "Inngående dokument" or "Utgående dokument", and the party's role.
fn direction(kind: MessageKind) -> (&'static str, &'static str) {
    match kind {
        MessageKind::Inbound => ("Inngående dokument", "Avsender"),
        _ => ("Utgående dokument", "Mottaker"),
    }
}

/// The access code of a screening: 13 (duty of confidentiality) or 14 (internal document).
fn restriction(s: &Screening) -> Option<(&'static str, &'static str)> {
    s.basis.map(|b| (b.access_code(), b.citation()))
}

struct Writers {
    arkivstruktur: Xml<FileOut>,
    loepende: Xml<BufWriter<File>>,
    offentlig: Xml<BufWriter<File>>,
    endringslogg: Xml<FileOut>,
    documents: BufWriter<File>,
    files: FileWriter,
    /// Document folders made so far.
    folders: std::collections::HashSet<String>,
}

/// Document files are written by a thread of their own, so the file system's work (creating
/// hundreds of thousands of files) runs beside the XML instead of between its elements.
struct FileWriter {
    jobs: Option<std::sync::mpsc::SyncSender<FileJob>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

enum FileJob {
    Folder(std::path::PathBuf),
    File(std::path::PathBuf, Vec<u8>),
}

impl FileWriter {
    fn start() -> FileWriter {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<FileJob>(1024);
        let thread = std::thread::spawn(move || {
            for job in queue {
                match job {
                    FileJob::Folder(path) => std::fs::create_dir_all(path)?,
                    FileJob::File(path, bytes) => std::fs::write(path, bytes)?,
                }
            }
            Ok(())
        });
        FileWriter {
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    fn send(&mut self, job: FileJob) -> std::io::Result<()> {
        let sent = self.jobs.as_ref().map(|j| j.send(job).is_ok());
        if sent == Some(true) {
            Ok(())
        } else {
            // The thread stopped: its error says why.
            self.finish()
                .and(Err(std::io::Error::other("the document writer stopped")))
        }
    }

    /// Waits until every file is written; the first error, if any.
    fn finish(&mut self) -> std::io::Result<()> {
        self.jobs.take();
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other("the document writer panicked")),
            None => Ok(()),
        }
    }
}

/// Writes the extract of `spec` into `dir` (which must be empty or not exist).
pub async fn export(
    store: &dyn Store,
    spec: &ExtractSpec,
    dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Exported, ArchiveError> {
    let mut pages = CasePages::start(store, spec, dir).await?;
    let (total, clock) = (pages.total, pages.clock.clone());
    let empty = || ArchiveError::Empty {
        from: spec.from.to_string(),
        to: spec.to.to_string(),
    };
    if total == 0 {
        return Err(empty());
    }
    progress(Progress::Started { cases: total });
    std::fs::create_dir_all(dir.join("dokumenter"))?;
    let ids = Ids::new(&spec.municipality.slug);
    let now = clock.date_time(spec.now);
    let mut w = Writers {
        arkivstruktur: Xml::new(create(&dir.join("arkivstruktur.xml"))?)?,
        loepende: Xml::fragment(BufWriter::new(File::create(
            dir.join("loependeJournal.part"),
        )?)),
        offentlig: Xml::fragment(BufWriter::new(File::create(
            dir.join("offentligJournal.part"),
        )?)),
        endringslogg: Xml::new(create(&dir.join("endringslogg.xml"))?)?,
        documents: BufWriter::new(File::create(dir.join("dokumenter.part"))?),
        files: FileWriter::start(),
        folders: Default::default(),
    };
    let arkivdel_id = ids.of("arkivdel", format!("{}:{}", spec.from, spec.to));
    open_arkivstruktur(&mut w.arkivstruktur, spec, &ids, &arkivdel_id, &now)?;
    let e = &mut w.endringslogg;
    e.open_with(
        "endringslogg",
        &[
            ("xmlns", ENDRINGSLOGG_NS),
            ("xmlns:xsi", XSI_NS),
            (
                "xsi:schemaLocation",
                &format!("{ENDRINGSLOGG_NS} endringslogg.xsd"),
            ),
        ],
    )?;
    let mut out = Exported::default();
    change(
        e,
        &arkivdel_id,
        "arkivdelstatus",
        &now,
        SYSTEM,
        "Aktiv periode",
        "Avsluttet periode",
    )?;
    out.changes += 1;

    let mut done = 0u64;
    loop {
        let page = pages.next().await?;
        if page.is_empty() {
            break;
        }
        // Journal sequence numbers are given the first time a message is extracted, then kept.
        let wanted: Vec<(i64, i16)> = page
            .iter()
            .filter(|c| c.inquiry.closed_at.is_some())
            .flat_map(|c| c.messages.iter())
            .map(|m| (m.id, clock.date(m.created_at).year()))
            .collect();
        let numbers = store.journal_numbers(spec.municipality.id, &wanted).await?;
        for case in &page {
            done += 1;
            if case.inquiry.closed_at.is_none() {
                out.skipped_open += 1;
                continue;
            }
            write_case(
                &mut w, spec, &ids, &clock, store, case, &numbers, &mut out, dir,
            )
            .await?;
        }
        progress(Progress::Case { done });
    }
    if out.cases == 0 {
        w.files.finish()?;
        drop(w);
        std::fs::remove_dir_all(dir)?;
        return Err(empty());
    }

    // Close the structure and the change log, then put the journals together behind their
    // headers (which carry the counts).
    let a = &mut w.arkivstruktur;
    a.close("arkivdel")?;
    a.close("arkiv")?;
    let arkivstruktur = w.arkivstruktur.into_inner().finish()?;
    w.endringslogg.close("endringslogg")?;
    let endringslogg = w.endringslogg.into_inner().finish()?;
    w.loepende.into_inner().flush()?;
    w.offentlig.into_inner().flush()?;
    w.documents.flush()?;
    drop(w.documents);
    w.files.finish()?;
    let loepende = journal(dir, "loependeJournal", LOEPENDE_NS, spec, &out)?;
    let offentlig = journal(dir, "offentligJournal", OFFENTLIG_NS, spec, &out)?;
    for (name, bytes) in SCHEMAS {
        std::fs::write(dir.join(name), bytes)?;
    }
    addml(
        dir,
        spec,
        &out,
        &[
            ("arkivstruktur", arkivstruktur),
            ("endringslogg", endringslogg),
            ("loependeJournal", loepende),
            ("offentligJournal", offentlig),
        ],
    )?;
    std::fs::remove_file(dir.join("dokumenter.part"))?;
    Ok(out)
}

fn open_arkivstruktur(
    a: &mut Xml<FileOut>,
    spec: &ExtractSpec,
    ids: &Ids,
    arkivdel_id: &str,
    now: &str,
) -> std::io::Result<()> {
    let m = &spec.municipality;
    a.open_with(
        "arkiv",
        &[
            ("xmlns", ARKIVSTRUKTUR_NS),
            ("xmlns:xsi", XSI_NS),
            (
                "xsi:schemaLocation",
                &format!("{ARKIVSTRUKTUR_NS} arkivstruktur.xsd"),
            ),
        ],
    )?;
    a.leaf("systemID", &ids.of("arkiv", &m.slug))?;
    a.leaf(
        "tittel",
        &format!("{}: henvendelser fra innbyggerne", m.name),
    )?;
    a.leaf(
        "beskrivelse",
        "Henvendelser til kommunen på alle kanaler, vurdert som arkivverdige, fra Torg.",
    )?;
    a.leaf("arkivstatus", "Avsluttet")?;
    a.leaf("dokumentmedium", "Elektronisk arkiv")?;
    a.leaf("opprettetDato", now)?;
    a.leaf("opprettetAv", SYSTEM)?;
    a.leaf("avsluttetDato", now)?;
    a.leaf("avsluttetAv", SYSTEM)?;
    a.open("arkivskaper")?;
    a.leaf("arkivskaperID", &m.slug)?;
    a.leaf("arkivskaperNavn", &m.name)?;
    a.close("arkivskaper")?;
    a.open("arkivdel")?;
    a.leaf("systemID", arkivdel_id)?;
    a.leaf(
        "tittel",
        &format!("Henvendelser {} – {}", spec.from, spec.to),
    )?;
    a.leaf("arkivdelstatus", "Avsluttet periode")?;
    a.leaf("dokumentmedium", "Elektronisk arkiv")?;
    a.leaf("opprettetDato", now)?;
    a.leaf("opprettetAv", SYSTEM)?;
    a.leaf("avsluttetDato", now)?;
    a.leaf("avsluttetAv", SYSTEM)?;
    a.leaf("arkivperiodeStartDato", &spec.from.to_string())?;
    a.leaf("arkivperiodeSluttDato", &spec.to.to_string())
}

fn change(
    e: &mut Xml<FileOut>,
    object: &str,
    field: &str,
    at: &str,
    by: &str,
    before: &str,
    after: &str,
) -> std::io::Result<()> {
    e.open("endring")?;
    e.leaf("referanseArkivenhet", object)?;
    e.leaf("referanseMetadata", field)?;
    e.leaf("endretDato", at)?;
    e.leaf("endretAv", by)?;
    e.leaf("tidligereVerdi", before)?;
    e.leaf("nyVerdi", after)?;
    e.close("endring")
}

/// A document file written under `dokumenter/`, listed for ADDML: its path, SHA-256 and size.
fn write_document(
    dir: &Path,
    w: &mut Writers,
    relative: &str,
    bytes: Vec<u8>,
) -> std::io::Result<(String, u64)> {
    let (sum, size) = (
        torg_domain::hex(&Sha256::digest(&bytes)),
        bytes.len() as u64,
    );
    writeln!(w.documents, "{relative}\t{sum}\t{size}")?;
    w.files.send(FileJob::File(dir.join(relative), bytes))?;
    Ok((sum, size))
}

#[allow(clippy::too_many_arguments)]
fn dokumentbeskrivelse(
    a: &mut Xml<FileOut>,
    ids: &Ids,
    key: &str,
    title: &str,
    created: &str,
    by: &str,
    role: &str,
    number: usize,
    file: (&str, &str, Option<&str>, &str, u64),
) -> std::io::Result<()> {
    let (path, mime, format, sum, size) = file;
    a.open("dokumentbeskrivelse")?;
    a.leaf("systemID", &ids.of("dokumentbeskrivelse", key))?;
    a.leaf("dokumenttype", "Brev")?;
    a.leaf("dokumentstatus", "Dokumentet er ferdigstilt")?;
    a.leaf("tittel", title)?;
    a.leaf("opprettetDato", created)?;
    a.leaf("opprettetAv", by)?;
    a.leaf("tilknyttetRegistreringSom", role)?;
    a.leaf("dokumentnummer", &number.to_string())?;
    a.leaf("tilknyttetDato", created)?;
    a.leaf("tilknyttetAv", SYSTEM)?;
    a.open("dokumentobjekt")?;
    a.leaf("systemID", &ids.of("dokumentobjekt", key))?;
    a.leaf("versjonsnummer", "1")?;
    a.leaf("variantformat", "Arkivformat")?;
    a.leaf("format", format.unwrap_or("UNKNOWN"))?;
    a.leaf("formatDetaljer", mime)?;
    a.leaf("opprettetDato", created)?;
    a.leaf("opprettetAv", by)?;
    a.leaf("referanseDokumentfil", path)?;
    a.leaf("sjekksum", sum)?;
    a.leaf("sjekksumAlgoritme", "SHA256")?;
    a.leaf("filstoerrelse", &size.to_string())?;
    a.close("dokumentobjekt")?;
    a.close("dokumentbeskrivelse")
}

fn skjerming(x: &mut Xml<FileOut>, s: &Screening) -> std::io::Result<()> {
    let Some((code, citation)) = restriction(s) else {
        return Ok(());
    };
    x.open("skjerming")?;
    x.leaf("tilgangsrestriksjon", code)?;
    x.leaf("skjermingshjemmel", citation)?;
    x.leaf("skjermingMetadata", "tittel")?;
    if s.names {
        x.leaf("skjermingMetadata", "korrespondansepartNavn")?;
    }
    x.close("skjerming")
}

#[allow(clippy::too_many_arguments)]
async fn write_case(
    w: &mut Writers,
    spec: &ExtractSpec,
    ids: &Ids,
    clock: &Clock,
    store: &dyn Store,
    case: &ArchiveCase,
    numbers: &HashMap<i64, u64>,
    out: &mut Exported,
    dir: &Path,
) -> Result<(), ArchiveError> {
    let i = &case.inquiry;
    let Some(closed_at) = i.closed_at else {
        return Ok(());
    };
    let r = i.reference;
    let screening = &case.record.screening;
    let title = case_title(i.subject.as_deref(), &i.preview);
    let public_title = screening.public_title(&title);
    let (unit, officer) = spec.unit_and_officer(i);
    let archivist = case
        .record
        .decided_by
        .and_then(|u| spec.users.get(&u))
        .map(String::as_str)
        .unwrap_or(SYSTEM);
    let case_id = ids.of("saksmappe", i.id);
    let received = clock.date_time(i.received_at);
    let closed = clock.date_time(closed_at);
    let archived = clock.date_time(case.record.decided_at);
    out.cases += 1;
    if screening.basis.is_some() || screening.names || screening.public_title.is_some() {
        out.screened_cases += 1;
    }

    let a = &mut w.arkivstruktur;
    a.open_with("mappe", &[("xsi:type", "saksmappe")])?;
    a.leaf("systemID", &case_id)?;
    a.leaf("mappeID", &r.to_string())?;
    a.leaf("tittel", &title)?;
    a.leaf("offentligTittel", &public_title)?;
    a.leaf(
        "beskrivelse",
        &format!(
            "Henvendelse via {} ({})",
            i.channel.as_str(),
            case.record.reasons
        ),
    )?;
    a.leaf("opprettetDato", &received)?;
    a.leaf("opprettetAv", SYSTEM)?;
    a.leaf("avsluttetDato", &closed)?;
    a.leaf("avsluttetAv", officer)?;
    skjerming(a, screening)?;

    // A folder per year and thousand cases: folders of a few thousand files each.
    let folder = document_folder(r);
    if !w.folders.contains(&folder) {
        w.files.send(FileJob::Folder(dir.join(&folder)))?;
        w.folders.insert(folder);
    }
    for (n, m) in case.messages.iter().enumerate() {
        let number = n + 1;
        let (kind_text, role) = direction(m.kind);
        let journal_year = clock.date(m.created_at).year();
        let seq = numbers.get(&m.id).copied().ok_or_else(|| {
            ArchiveError::Store(torg_store::StoreError::Database(format!(
                "message {} got no journal number",
                m.id
            )))
        })?;
        let created = clock.date_time(m.created_at);
        let post_title = match m.kind {
            MessageKind::Inbound => title.clone(),
            _ => format!("Svar: {title}"),
        };
        let public_post_title = match m.kind {
            MessageKind::Inbound => public_title.clone(),
            _ => format!("Svar: {public_title}"),
        };
        let author = match m.kind {
            MessageKind::Inbound => i.citizen_name.as_str(),
            _ => m.author_name.as_str(),
        };
        let a = &mut w.arkivstruktur;
        a.open_with("registrering", &[("xsi:type", "journalpost")])?;
        a.leaf("systemID", &ids.of("journalpost", m.id))?;
        a.leaf("opprettetDato", &created)?;
        a.leaf("opprettetAv", author)?;
        a.leaf("arkivertDato", &archived)?;
        a.leaf("arkivertAv", archivist)?;
        skjerming(a, screening)?;
        write_message_documents(
            w,
            ids,
            dir,
            r,
            m,
            &post_title,
            &created,
            author,
            out,
            store,
            i.tenant_id,
        )
        .await?;
        let a = &mut w.arkivstruktur;
        let registration_id = format!("{r}-{number}");
        a.leaf("registreringsID", &registration_id)?;
        a.leaf("tittel", &post_title)?;
        a.leaf("offentligTittel", &public_post_title)?;
        a.open("korrespondansepart")?;
        a.leaf("korrespondanseparttype", role)?;
        a.leaf("korrespondansepartNavn", &i.citizen_name)?;
        if let Some(email) = &i.contact_email {
            a.leaf("epostadresse", email)?;
        }
        if let Some(phone) = &i.contact_phone {
            a.leaf("telefonnummer", phone)?;
        }
        a.leaf("administrativEnhet", unit)?;
        a.leaf("saksbehandler", officer)?;
        a.close("korrespondansepart")?;
        a.leaf("journalaar", &journal_year.to_string())?;
        a.leaf("journalsekvensnummer", &seq.to_string())?;
        a.leaf("journalpostnummer", &number.to_string())?;
        a.leaf("journalposttype", kind_text)?;
        a.leaf("journalstatus", "Arkivert")?;
        a.leaf("journaldato", &clock.date(m.created_at).to_string())?;
        match m.kind {
            MessageKind::Inbound => a.leaf("mottattDato", &created)?,
            _ => a.leaf("sendtDato", &created)?,
        }
        a.leaf("antallVedlegg", &m.attachments.len().to_string())?;
        a.close("registrering")?;
        out.journal_posts += 1;

        let line = JournalLine {
            system_id: ids.of("journalpost", m.id),
            registration_id,
            year: journal_year,
            sequence: seq,
            number,
            case_year: r.year,
            case_number: r.number,
            title: &post_title,
            public_title: &public_post_title,
            journal_date: clock.date(m.created_at),
            unit,
            case_officer: officer,
            handler: officer,
            kind: role,
            party: &i.citizen_name,
            public_party: screening.name(&i.citizen_name),
            attachments: m.attachments.len(),
            screening,
        };
        write_journal_line(&mut w.loepende, &line, false)?;
        write_journal_line(&mut w.offentlig, &line, true)?;
    }
    let a = &mut w.arkivstruktur;
    a.leaf("saksaar", &r.year.to_string())?;
    a.leaf("sakssekvensnummer", &r.number.to_string())?;
    a.leaf("saksdato", &clock.date(i.received_at).to_string())?;
    a.leaf("administrativEnhet", unit)?;
    a.leaf("saksansvarlig", officer)?;
    a.leaf("saksstatus", "Avsluttet")?;
    a.close("mappe")?;

    let e = &mut w.endringslogg;
    change(
        e,
        &case_id,
        "saksstatus",
        &closed,
        officer,
        "Under behandling",
        "Avsluttet",
    )?;
    out.changes += 1;
    if let Some((_, citation)) = restriction(screening) {
        change(
            e,
            &case_id,
            "skjermingshjemmel",
            &archived,
            archivist,
            "Ingen skjerming",
            citation,
        )?;
        out.changes += 1;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn write_message_documents(
    w: &mut Writers,
    ids: &Ids,
    dir: &Path,
    r: torg_domain::Reference,
    m: &Message,
    title: &str,
    created: &str,
    author: &str,
    out: &mut Exported,
    store: &dyn Store,
    tenant: TenantId,
) -> Result<(), ArchiveError> {
    let folder = document_folder(r);
    let relative = format!("{folder}/{}-{}.txt", r.number, m.id);
    let (sum, size) = write_document(dir, w, &relative, m.body.as_bytes().to_vec())?;
    out.documents += 1;
    out.document_bytes += size;
    dokumentbeskrivelse(
        &mut w.arkivstruktur,
        ids,
        &format!("message:{}", m.id),
        title,
        created,
        author,
        "Hoveddokument",
        1,
        (
            &relative,
            "text/plain; charset=UTF-8",
            Some("x-fmt/111"),
            &sum,
            size,
        ),
    )?;
    for (k, meta) in m.attachments.iter().enumerate() {
        let Some((meta, data)) = store.attachment_data(tenant, meta.id).await? else {
            continue;
        };
        let relative = format!(
            "{folder}/{}-{}-{}-{}",
            r.number,
            m.id,
            meta.id,
            safe_file_name(&meta.filename)
        );
        let (sum, size) = write_document(dir, w, &relative, data.clone())?;
        out.documents += 1;
        out.document_bytes += size;
        dokumentbeskrivelse(
            &mut w.arkivstruktur,
            ids,
            &format!("attachment:{}", meta.id),
            &meta.filename,
            created,
            author,
            "Vedlegg",
            k + 2,
            (
                &relative,
                &meta.content_type,
                pronom(&meta.content_type, &data[..data.len().min(16)]),
                &sum,
                size,
            ),
        )?;
    }
    Ok(())
}

/// Where a case's documents go: `dokumenter/2026/012/` for cases 2026-012000 … 2026-012999.
fn document_folder(r: torg_domain::Reference) -> String {
    format!("dokumenter/{}/{:03}", r.year, r.number / 1000)
}

/// One `journalregistrering` of the running (`public == false`) or public journal.
fn write_journal_line(
    x: &mut Xml<BufWriter<File>>,
    l: &JournalLine<'_>,
    public: bool,
) -> std::io::Result<()> {
    let restriction = restriction(l.screening);
    x.open("journalregistrering")?;
    x.open("saksmappe")?;
    x.leaf(
        "mappeID",
        &torg_domain::Reference {
            year: l.case_year,
            number: l.case_number,
        }
        .to_string(),
    )?;
    x.leaf("saksaar", &l.case_year.to_string())?;
    x.leaf("sakssekvensnummer", &l.case_number.to_string())?;
    if !public {
        x.leaf("tittel", l.title)?;
    }
    x.leaf("offentligTittel", l.public_title)?;
    x.leaf("administrativEnhet", l.unit)?;
    x.leaf("saksansvarlig", l.case_officer)?;
    if public && let Some((code, citation)) = restriction {
        x.leaf("tilgangsrestriksjon", code)?;
        x.leaf("skjermingshjemmel", citation)?;
    }
    x.close("saksmappe")?;
    x.open("journalpost")?;
    x.leaf("systemID", &l.system_id)?;
    x.leaf("registreringsID", &l.registration_id)?;
    x.leaf("journalaar", &l.year.to_string())?;
    x.leaf("journalsekvensnummer", &l.sequence.to_string())?;
    x.leaf("journalpostnummer", &l.number.to_string())?;
    if !public {
        x.leaf("tittel", l.title)?;
    }
    x.leaf("offentligTittel", l.public_title)?;
    if restriction.is_some() {
        x.leaf("skjermingMetadata", "tittel")?;
    }
    x.leaf("journaldato", &l.journal_date.to_string())?;
    if !public {
        x.leaf("antallVedlegg", &l.attachments.to_string())?;
    }
    x.leaf("administrativEnhet", l.unit)?;
    x.leaf("saksbehandler", l.handler)?;
    if let Some((code, citation)) = restriction {
        x.leaf("tilgangsrestriksjon", code)?;
        x.leaf("skjermingshjemmel", citation)?;
    }
    x.open("korrespondansepart")?;
    x.leaf("korrespondanseparttype", l.kind)?;
    x.leaf(
        "korrespondansepartNavn",
        if public { l.public_party } else { l.party },
    )?;
    if !public && l.screening.names {
        x.leaf("skjermingMetadata", "korrespondansepartNavn")?;
    }
    x.close("korrespondansepart")?;
    x.close("journalpost")?;
    x.close("journalregistrering")
}

/// A journal file: the header with the period and count, then the lines written apart.
fn journal(
    dir: &Path,
    root: &str,
    namespace: &str,
    spec: &ExtractSpec,
    out: &Exported,
) -> Result<(String, u64), ArchiveError> {
    let part = dir.join(format!("{root}.part"));
    let mut x = Xml::new(create(&dir.join(format!("{root}.xml")))?)?;
    x.open_with(
        root,
        &[
            ("xmlns", namespace),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", &format!("{namespace} {root}.xsd")),
        ],
    )?;
    x.open("journalhode")?;
    x.leaf("journalStartDato", &spec.from.to_string())?;
    x.leaf("journalSluttDato", &spec.to.to_string())?;
    x.leaf("antallJournalposter", &out.journal_posts.to_string())?;
    x.open("arkivskaper")?;
    x.leaf("arkivskaperID", &spec.municipality.slug)?;
    x.leaf("arkivskaperNavn", &spec.municipality.name)?;
    x.close("arkivskaper")?;
    x.close("journalhode")?;
    let mut inner = x.into_inner();
    std::io::copy(&mut File::open(&part)?, &mut inner)?;
    let mut x = Xml::fragment(inner);
    x.close(root)?;
    std::fs::remove_file(part)?;
    Ok(x.into_inner().finish()?)
}

fn prop_value(x: &mut Xml<FileOut>, name: &str, value: &str) -> std::io::Result<()> {
    x.open_with("property", &[("name", name)])?;
    x.leaf("value", value)?;
    x.close("property")
}

fn prop_typed(x: &mut Xml<FileOut>, name: &str, kind: &str, value: &str) -> std::io::Result<()> {
    x.open_with("property", &[("dataType", kind), ("name", name)])?;
    x.leaf("value", value)?;
    x.close("property")
}

/// `<property name="file">` with the name, format and SHA-256 of a file.
fn file_property(
    x: &mut Xml<FileOut>,
    name: &str,
    format: Option<&str>,
    sum: &str,
) -> std::io::Result<()> {
    x.open_with("property", &[("name", "file")])?;
    x.open("properties")?;
    prop_value(x, "name", name)?;
    if let Some(f) = format {
        x.open_with("property", &[("name", "format")])?;
        x.leaf("value", f)?;
        x.open("properties")?;
        prop_value(x, "version", "1.0")?;
        x.close("properties")?;
        x.close("property")?;
    }
    x.open_with("property", &[("name", "checksum")])?;
    x.open("properties")?;
    prop_value(x, "algorithm", "SHA-256")?;
    prop_value(x, "value", sum)?;
    x.close("properties")?;
    x.close("property")?;
    x.close("properties")?;
    x.close("property")
}

fn schema_property(x: &mut Xml<FileOut>, file: &str, main: bool) -> std::io::Result<()> {
    let bytes = SCHEMAS
        .iter()
        .find(|(n, _)| *n == file)
        .map(|(_, b)| *b)
        .unwrap_or_default();
    x.open_with("property", &[("name", "schema")])?;
    if main {
        x.leaf("value", "main")?;
    }
    x.open("properties")?;
    file_property(
        x,
        file,
        Some("XML"),
        &torg_domain::hex(&Sha256::digest(bytes)),
    )?;
    x.open_with("property", &[("name", "type")])?;
    x.leaf("value", "XML Schema")?;
    x.open("properties")?;
    prop_value(x, "version", "1.0")?;
    x.close("properties")?;
    x.close("property")?;
    x.close("properties")?;
    x.close("property")
}

fn occurrences(x: &mut Xml<FileOut>, element: &str, count: u64) -> std::io::Result<()> {
    x.open_with("property", &[("name", "numberOfOccurrences")])?;
    x.leaf("value", element)?;
    x.open("properties")?;
    prop_value(x, "elementPath", &format!("//{element}"))?;
    prop_typed(x, "value", "integer", &count.to_string())?;
    x.close("properties")?;
    x.close("property")
}

/// `arkivuttrekk.xml`: the package description (ADDML 8.3, after Arkivverket's template) with
/// every file of the extract and its SHA-256.
fn addml(
    dir: &Path,
    spec: &ExtractSpec,
    out: &Exported,
    files: &[(&str, (String, u64))],
) -> Result<(), ArchiveError> {
    let mut x = Xml::new(create(&dir.join("arkivuttrekk.xml"))?)?;
    x.open_with(
        "addml",
        &[
            ("xmlns", ADDML_NS),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", &format!("{ADDML_NS} addml.xsd")),
            ("name", "Noark 5-arkivuttrekk"),
        ],
    )?;
    x.open("dataset")?;
    x.leaf("description", "Noark 5-arkivuttrekk")?;
    x.open("reference")?;
    x.open("context")?;
    x.open("additionalElements")?;
    x.open_with("additionalElement", &[("name", "recordCreators")])?;
    x.open("additionalElements")?;
    x.open_with("additionalElement", &[("name", "recordCreator")])?;
    x.leaf("value", &spec.municipality.name)?;
    x.close("additionalElement")?;
    x.close("additionalElements")?;
    x.close("additionalElement")?;
    for (name, value) in [
        ("systemType", "Sakarkiv (Noark-5)"),
        ("systemName", SYSTEM),
        ("archive", spec.municipality.name.as_str()),
    ] {
        x.open_with("additionalElement", &[("name", name)])?;
        x.leaf("value", value)?;
        x.close("additionalElement")?;
    }
    x.close("additionalElements")?;
    x.close("context")?;
    x.open("content")?;
    x.open("additionalElements")?;
    x.open_with("additionalElement", &[("name", "archivalPeriod")])?;
    x.open("properties")?;
    prop_value(&mut x, "startDate", &spec.from.to_string())?;
    prop_value(&mut x, "endDate", &spec.to.to_string())?;
    x.close("properties")?;
    x.close("additionalElement")?;
    x.close("additionalElements")?;
    x.close("content")?;
    x.close("reference")?;
    x.open("dataObjects")?;
    x.open_with("dataObject", &[("name", "Noark 5-arkivuttrekk")])?;
    x.open("properties")?;
    x.open_with("property", &[("name", "info")])?;
    x.open("properties")?;
    x.open_with("property", &[("name", "type")])?;
    x.leaf("value", "Noark 5")?;
    x.open("properties")?;
    prop_value(&mut x, "version", "5.0")?;
    x.close("properties")?;
    x.close("property")?;
    x.open_with("property", &[("name", "additionalInfo")])?;
    x.open("properties")?;
    x.open_with("property", &[("name", "periode")])?;
    x.open("properties")?;
    prop_value(&mut x, "inngaaendeSkille", "skarpt")?;
    prop_value(&mut x, "utgaaendeSkille", "skarpt")?;
    x.close("properties")?;
    x.close("property")?;
    let yes_no = |b: bool| if b { "true" } else { "false" };
    prop_typed(
        &mut x,
        "inneholderSkjermetInformasjon",
        "boolean",
        yes_no(out.screened_cases > 0),
    )?;
    prop_typed(&mut x, "omfatterDokumenterSomErKassert", "boolean", "false")?;
    prop_typed(
        &mut x,
        "inneholderDokumenterSomSkalKasseres",
        "boolean",
        "false",
    )?;
    prop_typed(
        &mut x,
        "inneholderVirksomhetsspesifikkeMetadata",
        "boolean",
        "false",
    )?;
    prop_typed(
        &mut x,
        "antallDokumentfiler",
        "integer",
        &out.documents.to_string(),
    )?;
    x.close("properties")?;
    x.close("property")?;
    x.close("properties")?;
    x.close("property")?;
    x.close("properties")?;
    x.open("dataObjects")?;
    for (name, (sum, _)) in files {
        x.open_with("dataObject", &[("name", name)])?;
        x.open("properties")?;
        file_property(&mut x, &format!("{name}.xml"), Some("XML"), sum)?;
        schema_property(&mut x, &format!("{name}.xsd"), true)?;
        schema_property(&mut x, "metadatakatalog.xsd", false)?;
        x.open_with("property", &[("name", "info")])?;
        x.open("properties")?;
        match *name {
            "arkivstruktur" => {
                occurrences(&mut x, "mappe", out.cases)?;
                occurrences(&mut x, "registrering", out.journal_posts)?;
            }
            "endringslogg" => occurrences(&mut x, "endring", out.changes)?,
            _ => occurrences(&mut x, "journalregistrering", out.journal_posts)?,
        }
        x.close("properties")?;
        x.close("property")?;
        x.close("properties")?;
        x.close("dataObject")?;
    }
    // Every document file with its checksum, read back from the list written on the way.
    x.open_with("dataObject", &[("name", "dokumenter")])?;
    x.open("properties")?;
    let list = BufReader::new(File::open(dir.join("dokumenter.part"))?);
    for line in list.lines() {
        let line = line?;
        let mut parts = line.split('\t');
        let (Some(path), Some(sum)) = (parts.next(), parts.next()) else {
            continue;
        };
        file_property(&mut x, path, None, sum)?;
    }
    x.close("properties")?;
    x.close("dataObject")?;
    x.close("dataObjects")?;
    x.close("dataObject")?;
    x.close("dataObjects")?;
    x.close("dataset")?;
    x.close("addml")?;
    x.into_inner().finish()?;
    Ok(())
}

/// The files of an extract, for tests and tools: every XML file with its schema.
pub fn xml_files() -> [(&'static str, &'static str); 5] {
    [
        ("arkivstruktur.xml", "arkivstruktur.xsd"),
        ("loependeJournal.xml", "loependeJournal.xsd"),
        ("offentligJournal.xml", "offentligJournal.xsd"),
        ("endringslogg.xml", "endringslogg.xsd"),
        ("arkivuttrekk.xml", "addml.xsd"),
    ]
}
