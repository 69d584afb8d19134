//! `torg-bench plain` and `torg-bench wheel`: the plain-language checker over generated
//! municipal text (bokmål with nynorsk as the written standard, and Swedish), and the annual
//! wheel's iCalendar feed; medians of several runs.

use anyhow::Result;
use std::time::Instant;
use torg_domain::plain::{Checker, Language, Settings, Standard};

const NB: &[&str] = &[
    "Søknaden din om barnehageplass skal behandles innen fire uker.",
    "I henhold til forskriften må vi ha dokumentasjon på inntekt før vedtaket fattes.",
    "Vi har mottatt meldingen din om gatelyset i Fjordgata.",
    "Kommunen har ansvar for brøyting av kommunale veier, og vi prioriterer hovedveier, bussruter og veier til skoler og sykehjem før boliggater blir brøytet, noe som kan ta tid når det snør mye over flere døgn.",
    "Vedrørende din henvendelse om eiendomsskatt: saken ble sendt til skatteetaten i går.",
    "Ring oss på telefon hvis du lurer på noe.",
    "Hva trenger du hjelp til?",
    "Renovasjonen henter avfall hver andre uke, jf. tømmekalenderen.",
    "Dersom søknaden innvilges, får du svar per post.",
    "Takk for at du tok kontakt med oss.",
];

const SV: &[&str] = &[
    "Din ansökan om förskoleplats ska behandlas inom fyra veckor.",
    "I enlighet med föreskriften behöver vi underlag om inkomst innan beslutet fattas.",
    "Vi har tagit emot ditt meddelande om gatubelysningen på Storgatan.",
    "Kommunen ansvarar för snöröjning av kommunala vägar, och vi prioriterar huvudvägar, busslinjer och vägar till skolor och äldreboenden innan bostadsgator plogas, vilket kan ta tid när det snöar mycket under flera dygn.",
    "Beträffande din fråga om avgiften: ärendet skickades till ekonomienheten i går.",
    "Ring oss om du undrar över något.",
    "Vad behöver du hjälp med?",
    "Sophämtningen sker varannan vecka enligt tömningsschemat.",
    "Om ansökan beviljas får du svar med post.",
    "Tack för att du kontaktade oss.",
];

/// About `bytes` of text: the sentences in a pseudo-random order, paragraphs now and then.
fn text(sentences: &[&str], bytes: usize, seed: u64) -> String {
    let mut out = String::with_capacity(bytes + 512);
    let mut state = seed;
    let mut n = 0u64;
    while out.len() < bytes {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push_str(sentences[(state >> 33) as usize % sentences.len()]);
        n += 1;
        out.push_str(if n.is_multiple_of(7) { "\n\n" } else { " " });
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(megabytes: usize, runs: usize) -> Result<()> {
    let bytes = megabytes * 1024 * 1024;
    println!(
        "Plain-language checker over {megabytes} MiB of text, median of {runs} runs (one core):"
    );
    println!("| text | words | findings | median | MiB/s |");
    println!("|---|---|---|---|---|");
    for (name, sentences, language, standard) in [
        (
            "bokmål, nynorsk required",
            NB,
            Language::Nb,
            Some(Standard::Nn),
        ),
        ("Swedish", SV, Language::Sv, None),
    ] {
        let text = text(sentences, bytes, 20261203);
        let mut settings = Settings::new(language);
        settings.standard = standard;
        let checker = Checker::new(settings);
        let mut times = vec![];
        let mut last = None;
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            let report = checker.check(&text);
            times.push(started.elapsed().as_secs_f64());
            last = Some(report);
        }
        let report = last.expect("one run");
        let secs = median(times);
        println!(
            "| {name} | {} | {} | {:.0} ms | {:.1} |",
            report.words,
            report.findings.len(),
            secs * 1000.0,
            text.len() as f64 / 1024.0 / 1024.0 / secs
        );
    }
    Ok(())
}

/// `torg-bench wheel`: the iCalendar feed of a municipality with `items` items on its annual
/// wheel — what its handler does (read the items, render RFC 5545) — median of `runs`.
pub async fn wheel(items: usize, runs: usize) -> Result<()> {
    use std::sync::Arc;
    use torg_domain::wheel::{Mark, Recurrence};
    use torg_store::{NewMunicipality, NewWheelItem, Store};
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> =
        Arc::new(torg_store_sql::SqliteStore::open(&dir.path().join("torg.db")).await?);
    let m = store
        .create_municipality(NewMunicipality {
            slug: "bench".into(),
            name: "Benk kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await?;
    let repeats = ["none", "yearly", "weekday", "monthly"];
    let new: Vec<NewWheelItem> = (0..items)
        .map(|i| {
            let date = jiff::civil::date(2027, (i % 12 + 1) as i8, (i % 28 + 1) as i8);
            NewWheelItem {
                title: format!("Sak {i}: informasjon om tjenesten"),
                description: "Hva, hvem og hvorfor, med lenke til nyheten.".into(),
                unit_id: None,
                responsible_user_id: None,
                target_group: "Innbyggere".into(),
                area: "Hele kommunen".into(),
                mark: Mark::ALL[i % 3],
                recurrence: Recurrence::parse(&date.to_string(), repeats[i % 4])
                    .expect("recurrence"),
            }
        })
        .collect();
    store.create_wheel_items(m.id, &new, None).await?;
    let mut times = vec![];
    let mut size = 0;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let all = store.wheel_items(m.id, None).await?;
        let ics = torg_http::wheel::ical(&m.name, &m.slug, &all);
        times.push(started.elapsed().as_secs_f64());
        size = ics.len();
    }
    println!(
        "iCalendar feed of {items} items ({:.0} KiB): median {:.1} ms over {runs} runs (target < 50 ms)",
        size as f64 / 1024.0,
        median(times) * 1000.0
    );
    Ok(())
}
