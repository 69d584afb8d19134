//! Torg's archive output: the Noark 5 v5.0 extract (arkivuttrekk) of a municipality's
//! archive-worthy inquiries, written to a directory, and Fiks Arkiv `arkivmelding` messages
//! for pushing records one by one.
//!
//! The extract is streamed: the store is read a page of cases at a time and every XML file is
//! written as it goes, so memory stays flat however many inquiries there are. Files:
//! `arkivstruktur.xml` (arkiv → arkivdel → saksmappe per inquiry → journalpost per message in
//! or out → dokumentbeskrivelse → dokumentobjekt), `loependeJournal.xml`,
//! `offentligJournal.xml` (screened as the archivist marked), `endringslogg.xml`,
//! `arkivuttrekk.xml` (ADDML: every file with its SHA-256), the schemas, and the documents
//! under `dokumenter/` (message text as UTF-8 plain text, attachments as received).
//!
//! For a Swedish municipality the same cases are written as E-ARK CITS ERMS v3 (`erms.xml`,
//! [`export_erms`]), the format of Riksarkivet's FGS Ärendehantering 2.0.

mod erms;
pub mod fiks;
mod format;
mod noark;
mod xml;

pub use erms::{ERMS_SCHEMA, export_erms};
pub use noark::{Exported, ExtractSpec, Progress, export, xml_files};

/// The schemas an extract carries and is validated against (Arkivverket's, unchanged).
pub const SCHEMAS: [(&str, &[u8]); 6] = [
    (
        "arkivstruktur.xsd",
        include_bytes!("../schemas/arkivstruktur.xsd"),
    ),
    (
        "metadatakatalog.xsd",
        include_bytes!("../schemas/metadatakatalog.xsd"),
    ),
    (
        "loependeJournal.xsd",
        include_bytes!("../schemas/loependeJournal.xsd"),
    ),
    (
        "offentligJournal.xsd",
        include_bytes!("../schemas/offentligJournal.xsd"),
    ),
    (
        "endringslogg.xsd",
        include_bytes!("../schemas/endringslogg.xsd"),
    ),
    ("addml.xsd", include_bytes!("../schemas/addml.xsd")),
];

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("could not write the extract: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not read from the database: {0}")]
    Store(#[from] torg_store::StoreError),
    #[error(
        "no closed, archive-worthy inquiries were received in {from} – {to}: nothing to export (an archivist marks inquiries as archive-worthy on the inquiry page)"
    )]
    Empty { from: String, to: String },
    #[error("{0} is not empty: choose a new directory for the extract")]
    NotEmpty(String),
    #[error("the time zone {0:?} is unknown")]
    TimeZone(String),
}
