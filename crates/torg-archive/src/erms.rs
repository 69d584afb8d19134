//! The Swedish diary and archive export: the archive-worthy inquiries of a period as E-ARK CITS
//! ERMS v3 (`erms.xml`, the basis of Riksarkivet's FGS Ärendehantering 2.0), beside the
//! Noark 5 extract. One `aggregation` (`caseFile`, the ärende, its diarienummer the
//! reference) per closed inquiry with its responsible officer, dates and any secrecy
//! (`restriction` citing offentlighets- och sekretesslagen); one `record` (handling) per
//! message in or out with its direction, counterpart, text and attachments. The attachments
//! are written under `handlingar/`, named in each record's `additionalInformation`; the
//! schema is written beside the file (`ERMS_v3.xsd`, DILCIS Board, CC BY 4.0).

use crate::format::{pronom, safe_file_name};
use crate::noark::{CasePages, Clock, Ids};
use crate::xml::Xml;
use crate::{ArchiveError, Exported, ExtractSpec, Progress};
use std::io::{BufWriter, Write};
use std::path::Path;
use torg_domain::MessageKind;
use torg_domain::archive::case_title;
use torg_domain::calendar::Country;
use torg_store::{ArchiveCase, Store};

const ERMS_NS: &str = "https://DILCIS.eu/XML/ERMS";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The schema the export is valid against (E-ARK CITS ERMS 3.0.2, DILCIS Board, CC BY 4.0).
pub const ERMS_SCHEMA: &[u8] = include_bytes!("../schemas/ERMS_v3.xsd");

/// Writes `erms.xml`, the attachments and the schema of `spec` into `dir` (empty or new).
pub async fn export_erms(
    store: &dyn Store,
    spec: &ExtractSpec,
    dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Exported, ArchiveError> {
    let mut pages = CasePages::start(store, spec, dir).await?;
    let empty = || ArchiveError::Empty {
        from: spec.from.to_string(),
        to: spec.to.to_string(),
    };
    if pages.total == 0 {
        return Err(empty());
    }
    progress(Progress::Started { cases: pages.total });
    std::fs::create_dir_all(dir.join("handlingar"))?;
    std::fs::write(dir.join("ERMS_v3.xsd"), ERMS_SCHEMA)?;
    let clock = pages.clock.clone();
    let ids = Ids::new(&spec.municipality.slug);
    let mut x = Xml::new(BufWriter::new(std::fs::File::create(dir.join("erms.xml"))?))?;
    x.open_with(
        "erms",
        &[
            ("xmlns", ERMS_NS),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", &format!("{ERMS_NS} ERMS_v3.xsd")),
        ],
    )?;
    control(&mut x, spec, &clock)?;
    x.open("aggregations")?;
    let mut out = Exported::default();
    let mut done = 0;
    loop {
        let page = pages.next().await?;
        if page.is_empty() {
            break;
        }
        for case in &page {
            done += 1;
            if case.inquiry.closed_at.is_none() {
                out.skipped_open += 1;
                continue;
            }
            write_case(&mut x, spec, &ids, &clock, store, case, dir, &mut out).await?;
        }
        progress(Progress::Case { done });
    }
    if out.cases == 0 {
        // Only open cases: nothing to hand over; the folder is left as it was found.
        drop(x);
        let _ = std::fs::remove_dir_all(dir);
        return Err(empty());
    }
    x.close("aggregations")?;
    x.close("erms")?;
    x.into_inner().flush()?;
    Ok(out)
}

/// The export's control section: who made it, for whom, when.
fn control<W: Write>(
    x: &mut Xml<W>,
    spec: &ExtractSpec,
    clock: &Clock,
) -> Result<(), ArchiveError> {
    x.open("control")?;
    x.leaf_with(
        "identification",
        &[("identificationType", "system")],
        "Torg",
    )?;
    x.leaf_with(
        "identification",
        &[("identificationType", "export_period")],
        &format!("{} – {}", spec.from, spec.to),
    )?;
    x.open("maintenanceInformation")?;
    x.empty_with("maintenanceStatus", &[("value", "new")])?;
    x.open("maintenanceAgency")?;
    x.leaf("agencyName", &spec.municipality.name)?;
    x.close("maintenanceAgency")?;
    x.open("maintenanceHistory")?;
    x.open("maintenanceEvent")?;
    x.empty_with("eventType", &[("value", "created")])?;
    x.leaf("eventDateTime", &clock.date_time(spec.now))?;
    agent(x, "creator", "Torg", None, None)?;
    x.close("maintenanceEvent")?;
    x.close("maintenanceHistory")?;
    x.close("maintenanceInformation")?;
    x.close("control")?;
    Ok(())
}

/// An `agent` element (or one named `name`, as a maintenance event has).
fn agent<W: Write>(
    x: &mut Xml<W>,
    kind: &str,
    name: &str,
    unit: Option<&str>,
    contact: Option<(&Option<String>, &Option<String>)>,
) -> Result<(), ArchiveError> {
    x.open_with("agent", &[("agentType", kind)])?;
    x.leaf("name", name)?;
    if let Some(unit) = unit {
        x.leaf("unitName", unit)?;
    }
    if let Some((email, phone)) = contact
        && (email.is_some() || phone.is_some())
    {
        x.open("addressContactInformation")?;
        if let Some(e) = email {
            x.leaf_with("contactLine", &[("contactType", "email")], e)?;
        }
        if let Some(p) = phone {
            x.leaf_with("contactLine", &[("contactType", "mobilenumber")], p)?;
        }
        x.close("addressContactInformation")?;
    }
    x.close("agent")?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn write_case<W: Write>(
    x: &mut Xml<W>,
    spec: &ExtractSpec,
    ids: &Ids,
    clock: &Clock,
    store: &dyn Store,
    case: &ArchiveCase,
    dir: &Path,
    out: &mut Exported,
) -> Result<(), ArchiveError> {
    let i = &case.inquiry;
    let Some(closed_at) = i.closed_at else {
        return Ok(());
    };
    let screening = &case.record.screening;
    let title = case_title(i.subject.as_deref(), &i.preview);
    let (unit, officer) = spec.unit_and_officer(i);
    out.cases += 1;
    if screening.basis.is_some() || screening.names || screening.public_title.is_some() {
        out.screened_cases += 1;
    }
    x.open_with(
        "aggregation",
        &[
            ("systemIdentifier", &ids.of("arende", i.id)),
            ("aggregationType", "caseFile"),
        ],
    )?;
    // The diarienummer.
    x.leaf("objectId", &i.reference.to_string())?;
    x.leaf("title", &title)?;
    if let Some(public) = &screening.public_title {
        x.leaf_with("otherTitle", &[("titleType", "public_title")], public)?;
    }
    x.empty_with("status", &[("value", "closed")])?;
    restriction(x, screening)?;
    x.open("agents")?;
    agent(x, "responsible_person", officer, Some(unit), None)?;
    x.close("agents")?;
    x.leaf(
        "description",
        &format!(
            "Ärende via {} ({})",
            i.channel.as_str(),
            case.record.reasons
        ),
    )?;
    x.open("dates")?;
    x.leaf_with(
        "date",
        &[("dateType", "opened")],
        &clock.date_time(i.received_at),
    )?;
    x.leaf_with(
        "date",
        &[("dateType", "closed")],
        &clock.date_time(closed_at),
    )?;
    x.close("dates")?;
    let folder = format!("handlingar/{}", safe_file_name(&i.reference.to_string()));
    for (n, m) in case.messages.iter().enumerate() {
        let incoming = m.kind == MessageKind::Inbound;
        x.open_with(
            "record",
            &[
                ("systemIdentifier", &ids.of("handling", m.id)),
                (
                    "recordType",
                    if incoming { "inkommande" } else { "utgående" },
                ),
                ("recordPhysicalOrDigital", "digital"),
            ],
        )?;
        x.leaf("objectId", &format!("{}-{}", i.reference, n + 1))?;
        x.leaf(
            "title",
            &if incoming {
                title.clone()
            } else {
                format!("Svar: {title}")
            },
        )?;
        restriction(x, screening)?;
        x.empty_with(
            "direction",
            &[(
                "directionDefinition",
                if incoming { "incoming" } else { "outgoing" },
            )],
        )?;
        x.open("agents")?;
        let contact = Some((&i.contact_email, &i.contact_phone));
        if incoming {
            agent(x, "sender", &i.citizen_name, None, contact)?;
            agent(x, "receiver", unit, None, None)?;
        } else {
            agent(x, "sender", &m.author_name, Some(unit), None)?;
            agent(x, "receiver", &i.citizen_name, None, contact)?;
        }
        x.close("agents")?;
        x.leaf("description", &m.body)?;
        x.open("dates")?;
        x.leaf_with(
            "date",
            &[("dateType", if incoming { "received" } else { "sent" })],
            &clock.date_time(m.created_at),
        )?;
        x.close("dates")?;
        out.journal_posts += 1;
        if !m.attachments.is_empty() {
            std::fs::create_dir_all(dir.join(&folder))?;
            x.open("additionalInformation")?;
            for meta in &m.attachments {
                let Some((meta, data)) = store.attachment_data(i.tenant_id, meta.id).await? else {
                    continue;
                };
                let relative = format!(
                    "{folder}/{}-{}-{}",
                    m.id,
                    meta.id,
                    safe_file_name(&meta.filename)
                );
                std::fs::write(dir.join(&relative), &data)?;
                out.documents += 1;
                out.document_bytes += data.len() as u64;
                let format = pronom(&meta.content_type, &data[..data.len().min(16)])
                    .unwrap_or(meta.content_type.as_str());
                x.empty_with(
                    "appendix",
                    &[
                        ("name", meta.filename.as_str()),
                        ("fileFormat", format),
                        ("path", relative.as_str()),
                    ],
                )?;
            }
            x.close("additionalInformation")?;
        }
        x.close("record")?;
    }
    x.close("aggregation")?;
    Ok(())
}

/// Secrecy (sekretess) as the archivist marked it, citing the Swedish provision.
fn restriction<W: Write>(
    x: &mut Xml<W>,
    screening: &torg_domain::archive::Screening,
) -> Result<(), ArchiveError> {
    if let Some(basis) = screening.basis {
        x.open_with("restriction", &[("restrictionType", "confidential")])?;
        x.leaf("regulation", basis.citation_in(Some(Country::Se)))?;
        x.close("restriction")?;
    } else if screening.names {
        x.open_with("restriction", &[("restrictionType", "gdpr")])?;
        x.leaf(
            "explanatoryText",
            "Enskildas namn skyddas i offentliga kopior.",
        )?;
        x.leaf("regulation", "Dataskyddsförordningen (EU) 2016/679")?;
        x.close("restriction")?;
    }
    Ok(())
}
