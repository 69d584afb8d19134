//! Two demo municipalities — "Demo kommune" (Norwegian) and "Demo kommun" (Swedish): units,
//! staff with roles, routing rules, canned replies and a few hundred realistic inquiries over
//! the last 60 days, most answered in time and closed, a handful open. Created once; running
//! it again on the same database adds nothing.

use anyhow::Result;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use torg_core::intake::{InquiryInput, IntakeLimits, TenantConfig, receive};
use torg_domain::UserId;
use torg_domain::routing::RoutingRule;
use torg_domain::{Channel, InquiryStatus, MessageKind, Role};
use torg_store::{NewMunicipality, NewUser, Store};

pub const SLUG: &str = "demo";
pub const INQUIRIES: usize = 300;

/// (name, is the service desk, is sensitive: only members see its inquiries)
const UNITS: &[(&str, bool, bool)] = &[
    ("Servicetorget", true, false),
    ("Oppvekst", false, false),
    ("Teknisk drift", false, false),
    ("Helse og omsorg", false, true),
    ("Kommunikasjon", false, false),
];

/// (username, full name, role, unit)
const STAFF: &[(&str, &str, Role, &str)] = &[
    ("admin", "Anne Admin", Role::Administrator, "Servicetorget"),
    ("kari", "Kari Nordmann", Role::ServiceDesk, "Servicetorget"),
    ("ola", "Ola Hansen", Role::CaseHandler, "Oppvekst"),
    ("per", "Per Johansen", Role::CaseHandler, "Teknisk drift"),
    (
        "ingrid",
        "Ingrid Berg",
        Role::CaseHandler,
        "Helse og omsorg",
    ),
    ("siri", "Siri Lund", Role::Communication, "Kommunikasjon"),
    ("leder", "Lars Eide", Role::UnitLeader, "Oppvekst"),
    (
        "direktor",
        "Tone Bakke",
        Role::ChiefExecutive,
        "Servicetorget",
    ),
    ("arkivar", "Arne Vik", Role::Archivist, "Servicetorget"),
];

/// A PDF attachment of a demo record: (file name, bytes).
type DemoFile = Option<(&'static str, &'static [u8])>;

/// Cases the archivist has already judged archive-worthy, so that an extract of the demo is
/// never empty: (topic, subject, text, answer, attachment, screened).
const RECORDS: &[(&str, &str, &str, &str, DemoFile, bool)] = &[
    (
        "building",
        "Søknad om tillatelse til å felle tre",
        "Jeg søker om tillatelse til å felle en stor bjørk i Fjellveien 3. Kart over tomten ligger ved.",
        "Vedtak: Søknaden er innvilget. Vedtaket kan påklages innen tre uker.",
        Some((
            "kart-fjellveien-3.pdf",
            b"%PDF-1.4\n% Torg demo: kart over tomten\n%%EOF\n",
        )),
        false,
    ),
    (
        "school",
        "Klage på avslag om SFO-plass",
        "Jeg klager på avslaget om SFO-plass for sønnen min. Han har behov for tilsyn etter skoletid på grunn av sykdom i familien.",
        "Vedtak: Klagen er tatt til følge, og sønnen din får plass fra 1. desember. Vedtaket kan ikke påklages.",
        None,
        true,
    ),
    (
        torg_domain::access_request::TOPIC,
        "Innsynskrav i postliste uke 40",
        "Jeg ber om innsyn i dokument 2026/14-2 i kommunens postliste for uke 40.",
        "Hei!\n\nDu får innsyn i dokument 2026/14-2. Dokumentet ligger ved dette svaret.",
        None,
        false,
    ),
];

/// (topic code, text)
const TEXTS: &[(&str, &str)] = &[
    (
        "school",
        "Hei! Når er søknadsfristen for barnehageplass til høsten? Vi flytter til kommunen i juni.",
    ),
    (
        "school",
        "Datteren vår har fått plass i barnehagen, men vi ønsker å bytte til en barnehage nærmere jobben. Hvordan gjør vi det?",
    ),
    (
        "school",
        "Hvor mye koster SFO for to barn, og finnes det søskenmoderasjon?",
    ),
    (
        "school",
        "Skolebussen kom ikke i dag morges på Nordbygda. Barna sto og ventet i 40 minutter.",
    ),
    (
        "school",
        "Hvordan søker jeg om redusert foreldrebetaling i barnehagen?",
    ),
    (
        "water",
        "Det lukter rart av kranvannet hos oss i Storgata 14. Er det trygt å drikke?",
    ),
    (
        "water",
        "Vannlekkasje i veien utenfor Fjellveien 3, vannet renner nedover bakken.",
    ),
    (
        "water",
        "Kumlokket i krysset ved butikken har løsnet og skrangler når bilene kjører over.",
    ),
    (
        "water",
        "Når kommer fakturaen for vann og avløp, og kan jeg dele den opp?",
    ),
    (
        "roads",
        "Veien opp til Åsen er ikke brøytet ennå, og bussen kommer ikke fram.",
    ),
    (
        "roads",
        "Gatelyset ved gangfeltet på skoleveien har vært mørkt i en uke.",
    ),
    (
        "roads",
        "Det er et stort hull i asfalten i Kirkeveien ved nummer 22. Farlig for syklister.",
    ),
    (
        "roads",
        "Kan kommunen sette opp fartsdumper i boligfeltet vårt? Mange kjører altfor fort.",
    ),
    (
        "waste",
        "Søppeldunken vår ble ikke tømt på tirsdag. Adressen er Bjørkelia 7.",
    ),
    ("waste", "Hvor leverer jeg gamle malingsspann og batterier?"),
    (
        "waste",
        "Kan jeg få en mindre restavfallsdunk for å spare penger?",
    ),
    (
        "health",
        "Min mor trenger mer hjelp hjemme etter sykehusoppholdet. Hvem kontakter vi om hjemmetjenester?",
    ),
    ("health", "Hvordan søker man om trygghetsalarm?"),
    (
        "health",
        "Når er det vaksinering mot influensa for eldre i år?",
    ),
    (
        "health",
        "Hvordan søker jeg om plass på dagsenter for min far?",
    ),
    (
        "building",
        "Trenger jeg å søke om å bygge en garasje på 40 kvadratmeter?",
    ),
    (
        "building",
        "Naboen bygger en terrasse tett inntil grensen vår. Har de fått tillatelse?",
    ),
    (
        "building",
        "Hvor lang er saksbehandlingstiden for byggesøknader nå?",
    ),
    (
        "culture",
        "Kan vi leie gymsalen på skolen til bursdagsfeiring en lørdag?",
    ),
    ("culture", "Når åpner biblioteket igjen etter oppussingen?"),
    (
        "culture",
        "Hvordan søker lag og foreninger om kulturmidler?",
    ),
    ("other", "Hvordan endrer jeg adresse for eiendomsskatten?"),
    (
        "other",
        "Jeg fant en skadet rådyrkalv i grøfta ved Sagveien. Hvem skal jeg ringe?",
    ),
    ("other", "Hva er åpningstidene til Servicetorget i romjula?"),
    (
        "other",
        "Jeg ønsker å gi ros til de ansatte på omsorgssenteret. De gjør en fantastisk jobb!",
    ),
];

const FIRST: &[&str] = &[
    "Ola", "Kari", "Nora", "Emma", "Jakob", "Lukas", "Ingrid", "Sofie", "Henrik", "Maja", "Aksel",
    "Sara", "Erik", "Ida", "Magnus", "Leah", "Filip", "Ella", "Johannes", "Astrid",
];
const LAST: &[&str] = &[
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Berg",
    "Haugen",
    "Hagen",
    "Eriksen",
    "Bakken",
    "Solberg",
    "Lie",
    "Moen",
    "Dahl",
    "Strand",
];

const REPLIES: &[&str] = &[
    "Takk for at du tok kontakt. Vi har sett på saken, og den er nå rettet.",
    "Takk for henvendelsen. Du finner søknadsskjemaet på kommunens nettside under «Skjema». Ta gjerne kontakt igjen om noe er uklart.",
    "Hei, og takk for beskjeden. Vi har sendt saken videre til rett avdeling, som tar kontakt med deg.",
    "Takk for spørsmålet. Svaret er ja, og du trenger ikke å søke.",
];

type Rule = (Option<&'static str>, Option<&'static str>, &'static str);

/// One demo municipality: its settings, people and the texts its inquiries are made of.
struct Demo {
    slug: &'static str,
    name: &'static str,
    zone: &'static str,
    language: &'static str,
    /// The service desk's name (the unit an inquiry falls back to).
    desk: &'static str,
    units: &'static [(&'static str, bool, bool)],
    staff: &'static [(&'static str, &'static str, Role, &'static str)],
    /// (keyword, topic, unit)
    rules: &'static [Rule],
    /// (title, text)
    canned: &'static [(&'static str, &'static str)],
    texts: &'static [(&'static str, &'static str)],
    first: &'static [&'static str],
    last: &'static [&'static str],
    replies: &'static [&'static str],
    /// An internal note on a case.
    note: &'static str,
    /// Survey comments.
    comments: [&'static str; 2],
    /// Who rotates on duty for the public channels.
    rota: [&'static str; 2],
    keywords: [&'static str; 5],
    records: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        DemoFile,
        bool,
    )],
    record_people: [&'static str; 3],
    screened_title: &'static str,
    /// The top-level domain of citizens' addresses and the first digit of their mobiles.
    domain: &'static str,
    mobile: &'static str,
    inquiries: usize,
}

const NORWAY: Demo = Demo {
    slug: SLUG,
    name: "Demo kommune",
    zone: "Europe/Oslo",
    language: "nb",
    desk: "Servicetorget",
    units: UNITS,
    staff: STAFF,
    rules: &[
        (None, Some("school"), "Oppvekst"),
        (None, Some("water"), "Teknisk drift"),
        (None, Some("roads"), "Teknisk drift"),
        (None, Some("waste"), "Teknisk drift"),
        (None, Some("health"), "Helse og omsorg"),
        (Some("barnehage"), None, "Oppvekst"),
        (Some("skole"), None, "Oppvekst"),
        (Some("brøyt"), None, "Teknisk drift"),
        (Some("hjemmetjeneste"), None, "Helse og omsorg"),
    ],
    canned: &[
        (
            "Takk – vi ser på saken",
            "Hei {navn}!\n\nTakk for henvendelsen din med referanse {referanse}. Vi ser på saken og kommer tilbake til deg så snart vi kan.",
        ),
        (
            "Sendt videre",
            "Hei {navn}!\n\nVi har sendt henvendelsen ({referanse}) videre til rett enhet, som svarer deg direkte.",
        ),
        (
            "Flytt til privat kanal",
            "Hei {navn}! Vi svarer gjerne, men saker med personopplysninger tar vi ikke i åpne kanaler. Skriv til oss på kontaktskjemaet, så hjelper vi deg der.",
        ),
    ],
    texts: TEXTS,
    first: FIRST,
    last: LAST,
    replies: REPLIES,
    note: "Sjekket med fagansvarlig, se svar.",
    comments: [
        "Raskt svar, takk!",
        "Fikk svar, men måtte spørre to ganger.",
    ],
    rota: ["kari", "siri"],
    keywords: [
        "gasslukt",
        "strømbrudd",
        "flom",
        "vannlekkasje",
        "Demo kommune",
    ],
    records: RECORDS,
    record_people: ["Eva Solberg", "Jonas Berg", "Hilde Moe"],
    screened_title: "Klage på avslag om SFO-plass",
    domain: "no",
    mobile: "9",
    inquiries: INQUIRIES,
};

/// The Swedish demo municipality's short name.
pub const SWEDISH_SLUG: &str = "demokommun";

/// "Demo kommun": a Swedish municipality, in Swedish, with Swedish law (holidays, requests
/// for public documents answered within a working day, the ERMS export).
const SWEDEN: Demo = Demo {
    slug: SWEDISH_SLUG,
    name: "Demo kommun",
    zone: "Europe/Stockholm",
    language: "sv",
    desk: "Kommunservice",
    units: &[
        ("Kommunservice", true, false),
        ("Förskola och skola", false, false),
        ("Samhällsbyggnad", false, false),
        ("Vård och omsorg", false, true),
        ("Kommunikation", false, false),
    ],
    staff: &[
        (
            "admin",
            "Anna Andersson",
            Role::Administrator,
            "Kommunservice",
        ),
        (
            "karin",
            "Karin Lindqvist",
            Role::ServiceDesk,
            "Kommunservice",
        ),
        (
            "erik",
            "Erik Nilsson",
            Role::CaseHandler,
            "Förskola och skola",
        ),
        ("per", "Per Karlsson", Role::CaseHandler, "Samhällsbyggnad"),
        (
            "maria",
            "Maria Eriksson",
            Role::CaseHandler,
            "Vård och omsorg",
        ),
        ("sara", "Sara Berg", Role::Communication, "Kommunikation"),
        (
            "kommundirektor",
            "Karl Holmberg",
            Role::ChiefExecutive,
            "Kommunservice",
        ),
        ("registrator", "Lena Holm", Role::Archivist, "Kommunservice"),
    ],
    rules: &[
        (None, Some("school"), "Förskola och skola"),
        (None, Some("water"), "Samhällsbyggnad"),
        (None, Some("roads"), "Samhällsbyggnad"),
        (None, Some("waste"), "Samhällsbyggnad"),
        (None, Some("health"), "Vård och omsorg"),
        (Some("förskol"), None, "Förskola och skola"),
        (Some("snöröj"), None, "Samhällsbyggnad"),
        (Some("hemtjänst"), None, "Vård och omsorg"),
    ],
    canned: &[
        (
            "Tack – vi tittar på ärendet",
            "Hej {navn}!\n\nTack för ditt meddelande med diarienummer {referanse}. Vi tittar på ärendet och återkommer så snart vi kan.",
        ),
        (
            "Skickat vidare",
            "Hej {navn}!\n\nVi har skickat ärendet ({referanse}) vidare till rätt förvaltning, som svarar dig direkt.",
        ),
    ],
    texts: &[
        (
            "school",
            "Hej! När är sista dag att söka förskoleplats till hösten?",
        ),
        ("school", "Hur mycket kostar fritidshem för två barn?"),
        (
            "school",
            "Skolskjutsen kom inte i morse. Barnen stod och väntade i en halvtimme.",
        ),
        (
            "water",
            "Kranvattnet luktar konstigt hos oss på Storgatan 14. Går det att dricka?",
        ),
        (
            "water",
            "Det läcker vatten ur en brunn utanför Skogsvägen 3.",
        ),
        (
            "roads",
            "Vägen upp till Åsen är inte snöröjd, och bussen kommer inte fram.",
        ),
        (
            "roads",
            "Gatubelysningen vid övergångsstället på skolvägen har varit släckt i en vecka.",
        ),
        (
            "roads",
            "Det är ett stort hål i asfalten på Kyrkvägen vid nummer 22.",
        ),
        (
            "waste",
            "Soptunnan tömdes inte i tisdags. Adressen är Björkliden 7.",
        ),
        ("waste", "Var lämnar jag gamla färgburkar och batterier?"),
        (
            "health",
            "Min mamma behöver mer hjälp hemma efter sjukhusvistelsen. Vem kontaktar vi om hemtjänst?",
        ),
        ("health", "Hur ansöker man om trygghetslarm?"),
        (
            "building",
            "Behöver jag bygglov för ett garage på 40 kvadratmeter?",
        ),
        (
            "building",
            "Hur lång är handläggningstiden för bygglov just nu?",
        ),
        ("culture", "Kan vi hyra gympasalen på skolan en lördag?"),
        ("culture", "När öppnar biblioteket igen efter renoveringen?"),
        (
            "other",
            "Vilka öppettider har kommunservice i mellandagarna?",
        ),
        (
            "other",
            "Jag vill ge beröm till personalen på äldreboendet. De gör ett fantastiskt jobb!",
        ),
    ],
    first: &[
        "Anna", "Erik", "Maja", "Lars", "Elsa", "Johan", "Alice", "Oskar", "Ebba", "Nils", "Saga",
        "Hugo",
    ],
    last: &[
        "Andersson",
        "Johansson",
        "Karlsson",
        "Nilsson",
        "Eriksson",
        "Larsson",
        "Olsson",
        "Persson",
        "Svensson",
        "Gustafsson",
        "Lindberg",
        "Holm",
    ],
    replies: &[
        "Tack för att du hörde av dig. Vi har tittat på ärendet och åtgärdat det.",
        "Tack för ditt meddelande. Blanketten hittar du på kommunens webbplats under ”E-tjänster och blanketter”. Hör gärna av dig igen om något är oklart.",
        "Hej och tack för informationen. Vi har skickat ärendet vidare till rätt förvaltning, som kontaktar dig.",
    ],
    note: "Stämt av med ansvarig handläggare, se svar.",
    comments: [
        "Snabbt svar, tack!",
        "Fick svar, men fick fråga två gånger.",
    ],
    rota: ["karin", "sara"],
    keywords: [
        "gaslukt",
        "strömavbrott",
        "översvämning",
        "vattenläcka",
        "Demo kommun",
    ],
    records: &[
        (
            "building",
            "Ansökan om marklov för trädfällning",
            "Jag ansöker om lov att fälla en stor björk på Skogsvägen 3. Karta över tomten bifogas.",
            "Beslut: Ansökan beviljas. Beslutet kan överklagas inom tre veckor.",
            Some((
                "karta-skogsvagen-3.pdf",
                b"%PDF-1.4\n% Torg demo: karta over tomten\n%%EOF\n",
            )),
            false,
        ),
        (
            "health",
            "Ansökan om hemtjänst",
            "Jag ansöker om hemtjänst för min far, som inte längre klarar sig själv efter en stroke.",
            "Beslut: Din far beviljas hemtjänst två gånger per dag från den 1 december.",
            None,
            true,
        ),
        (
            torg_domain::access_request::TOPIC,
            "Begäran om allmän handling",
            "Jag begär ut protokollet från kommunstyrelsens sammanträde den 2 november.",
            "Hej!\n\nDu får ta del av protokollet. Handlingen bifogas detta svar.",
            None,
            false,
        ),
    ],
    record_people: ["Eva Lund", "Jonas Berg", "Hilda Strand"],
    screened_title: "Ansökan om bistånd",
    domain: "se",
    mobile: "070",
    inquiries: 120,
};

/// A small deterministic generator, so the demo looks the same every time.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() as usize) % items.len()]
    }
}

fn channel_for(n: u64) -> Channel {
    match n % 20 {
        0..=6 => Channel::Web,
        7..=12 => Channel::Email,
        13..=14 => Channel::Sms,
        15..=16 => Channel::Phone,
        17..=18 => Channel::Facebook,
        _ => Channel::Chat,
    }
}

/// Creates the demo municipalities unless they exist. Prints the staff's passwords once.
pub async fn ensure(store: &dyn Store) -> Result<()> {
    ensure_one(store, &NORWAY).await?;
    ensure_one(store, &SWEDEN).await
}

async fn ensure_one(store: &dyn Store, demo: &Demo) -> Result<()> {
    if store.municipality_by_slug(demo.slug).await?.is_some() {
        println!("{} exists already; nothing added.", demo.name);
        return Ok(());
    }
    let m = store
        .create_municipality(NewMunicipality {
            slug: demo.slug.into(),
            name: demo.name.into(),
            time_zone: demo.zone.into(),
            language: demo.language.into(),
        })
        .await?;
    let mut units = HashMap::new();
    for (name, desk, sensitive) in demo.units {
        let mut unit = store.create_unit(m.id, name, *desk, false, None).await?;
        if *sensitive {
            unit = store.update_unit(m.id, unit.id, name, true, None).await?;
        }
        units.insert(*name, unit);
    }
    // The topic the citizen chose wins; keywords catch the rest.
    for (pos, (keyword, topic, unit)) in demo.rules.iter().enumerate() {
        store
            .create_routing_rule(
                m.id,
                RoutingRule {
                    position: pos as i64 + 1,
                    keyword: keyword.map(String::from),
                    topic: topic.map(String::from),
                    channel: None,
                    unit_id: units[unit].id,
                },
                None,
            )
            .await?;
    }
    for (title, body) in demo.canned {
        store.create_canned_reply(m.id, title, body, None).await?;
    }
    println!(
        "Created {} (short name '{}'). Staff accounts (passwords shown once):",
        demo.name, demo.slug
    );
    let mut users = vec![];
    for (username, name, role, unit) in demo.staff {
        let password = torg_core::secrets::new_password();
        let hash = torg_core::secrets::hash_password(&password)?;
        let u = store
            .create_user(
                m.id,
                NewUser {
                    email: None,
                    username: username.to_string(),
                    full_name: name.to_string(),
                    password_hash: hash,
                    password_set_by: None,
                    role: *role,
                    unit_id: Some(units[unit].id),
                },
                None,
            )
            .await?;
        println!(
            "  {username:<9} {password}  {name} ({}, {unit})",
            role.as_str()
        );
        users.push(u);
    }
    // Duty for the public channels rotates weekly between two people, from this Monday.
    let tz = jiff::tz::TimeZone::get(&m.time_zone)?;
    let today = Timestamp::now().to_zoned(tz).date();
    let monday = today - jiff::ToSpan::days(i64::from(today.weekday().to_monday_zero_offset()));
    let rota: Vec<UserId> = users
        .iter()
        .filter(|u| demo.rota.contains(&u.username.as_str()))
        .map(|u| u.id)
        .collect();
    for (user_id, start, end) in torg_domain::duty::plan_rotation(
        &rota,
        &m.time_zone,
        monday,
        jiff::civil::Time::constant(8, 0, 0, 0),
        7,
        8,
    )? {
        store
            .create_shift(
                m.id,
                torg_domain::duty::PUBLIC_CHANNELS,
                user_id,
                start,
                end,
                None,
            )
            .await?;
    }
    alerts(store, &m).await?;
    published(store, &m, &users).await?;
    let config = TenantConfig::load(store, m.clone()).await?;
    let now = Timestamp::now();
    let mut rng = Lcg(2026);
    let mut overdue_left = 3;
    for n in 0..demo.inquiries {
        let (topic, text) = *rng.pick(demo.texts);
        let first = *rng.pick(demo.first);
        let last = *rng.pick(demo.last);
        let minutes_ago = (rng.next() % (60 * 24 * 60)) as i64;
        let received = now - SignedDuration::from_mins(minutes_ago);
        let channel = channel_for(rng.next());
        let email = format!(
            "{}.{}@example.{}",
            first.to_lowercase(),
            last.to_lowercase(),
            demo.domain
        )
        .replace(['ø', 'ö'], "o")
        .replace(['å', 'ä'], "a")
        .replace('æ', "ae");
        let phone = format!("{}{:07}", demo.mobile, rng.next() % 10_000_000);
        let input = InquiryInput {
            citizen_name: format!("{first} {last}"),
            email: (channel != Channel::Sms).then_some(email),
            phone: matches!(channel, Channel::Sms | Channel::Phone).then_some(phone),
            topic: Some(topic.to_string()),
            body: text.to_string(),
            language: Some(demo.language.into()),
            external_id: Some(format!("demo-{n}")),
            origin: torg_store::Origin {
                actor: "demo".into(),
                source: String::new(),
            },
            ..Default::default()
        };
        let r = receive(
            store,
            &config,
            channel,
            input,
            IntakeLimits::default(),
            received,
            None,
        )
        .await?;
        let inquiry = r.created.inquiry;
        // A municipality that works: what is older than a week was answered in time and
        // closed, but for a couple still waiting for the citizen and one forgotten; of the
        // last week most are answered, a few still open (one or two over the deadline);
        // the last two days are mostly new or being worked on.
        let age_days = minutes_ago / (60 * 24);
        let fate = rng.next() % 20;
        let status = match (age_days, fate) {
            (8.., _) if n % 97 == 5 => InquiryStatus::WaitingForCitizen,
            (8.., _) => InquiryStatus::Closed,
            (3..=7, 0..=15) | (0..=2, 0..=7) => InquiryStatus::Closed,
            (3..=7, 16..=17) => InquiryStatus::WaitingForCitizen,
            (3..=7, _) | (0..=2, 8..=13) => InquiryStatus::Open,
            _ => InquiryStatus::New,
        };
        // Only a few left past their deadline: the rest of the late ones were answered.
        let status = if status != InquiryStatus::Closed && inquiry.deadline_at < now {
            if overdue_left > 0 {
                overdue_left -= 1;
                status
            } else {
                InquiryStatus::Closed
            }
        } else {
            status
        };
        if status == InquiryStatus::New {
            continue;
        }
        let unit = config
            .unit(inquiry.unit_id)
            .cloned()
            .unwrap_or_else(|| units[demo.desk].clone());
        let writer = users
            .iter()
            .find(|u| u.unit_id == Some(unit.id))
            .unwrap_or(&users[1]);
        // Answered within the deadline: between a tenth and four fifths of the time it gave.
        let allowed = inquiry
            .deadline_at
            .duration_since(received)
            .as_secs()
            .max(3600);
        let answered = (received
            + SignedDuration::from_secs(allowed * (10 + (rng.next() % 70) as i64) / 100))
        .min(now);
        if rng.next().is_multiple_of(3) {
            torg_core::reply::write(
                store,
                &m,
                &inquiry,
                &unit,
                Some(writer),
                MessageKind::Note,
                (demo.note, vec![]),
                Default::default(),
                answered,
                None,
                None,
            )
            .await?;
        }
        if status != InquiryStatus::Open {
            let text = *rng.pick(demo.replies);
            torg_core::reply::write(
                store,
                &m,
                &inquiry,
                &unit,
                Some(writer),
                MessageKind::Outbound,
                (text, vec![]),
                Default::default(),
                answered,
                None,
                None,
            )
            .await?;
        }
        store
            .assign(m.id, inquiry.id, unit.id, Some(writer.id), None)
            .await?;
        store
            .set_status(m.id, inquiry.id, status, answered, None)
            .await?;
        // Most citizens asked on the follow page answer how satisfied they were.
        if let Some(survey) = store.survey_for_inquiry(m.id, inquiry.id).await?
            && n % 3 != 0
        {
            let answer = torg_domain::evaluation::SurveyAnswer {
                score: [5, 4, 4, 3, 5, 2, 4][n % 7],
                comment: if n % 5 == 1 {
                    demo.comments[n % 2].to_string()
                } else {
                    String::new()
                },
            };
            store
                .answer_survey(
                    m.id,
                    survey.id,
                    &answer,
                    answered + SignedDuration::from_hours(2),
                )
                .await?;
        }
    }
    // The figures the demo publishes, and what it listens for.
    store
        .set_evaluation_settings(
            m.id,
            &torg_store::EvaluationSettings {
                published: vec![
                    torg_domain::evaluation::Table::Channels,
                    torg_domain::evaluation::Table::Answers,
                    torg_domain::evaluation::Table::Satisfaction,
                ],
                ..Default::default()
            },
            None,
        )
        .await?;
    store
        .set_listening_keywords(m.id, &demo.keywords.map(String::from), None)
        .await?;
    let archivist = users.iter().find(|u| u.role == Role::Archivist);
    for (n, (topic, subject, text, answer, attachment, screened)) in demo.records.iter().enumerate()
    {
        let received = now - SignedDuration::from_hours(24 * (20 + 5 * n as i64));
        let input = InquiryInput {
            citizen_name: demo.record_people[n % 3].into(),
            email: Some(format!("person{n}@example.{}", demo.domain)),
            topic: Some(topic.to_string()),
            subject: Some(subject.to_string()),
            body: text.to_string(),
            language: Some(demo.language.into()),
            external_id: Some(format!("demo-record-{n}")),
            attachments: attachment
                .map(|(name, data)| {
                    vec![torg_store::NewAttachment {
                        filename: name.to_string(),
                        content_type: "application/pdf".into(),
                        data: data.to_vec(),
                    }]
                })
                .unwrap_or_default(),
            origin: torg_store::Origin {
                actor: "demo".into(),
                source: String::new(),
            },
            ..Default::default()
        };
        let r = receive(
            store,
            &config,
            Channel::Web,
            input,
            IntakeLimits::default(),
            received,
            None,
        )
        .await?;
        let inquiry = r.created.inquiry;
        let unit = config
            .unit(inquiry.unit_id)
            .cloned()
            .unwrap_or_else(|| units[demo.desk].clone());
        let writer = users
            .iter()
            .find(|u| u.unit_id == Some(unit.id))
            .unwrap_or(&users[1]);
        let answered = received + SignedDuration::from_hours(20);
        torg_core::reply::write(
            store,
            &m,
            &inquiry,
            &unit,
            Some(writer),
            MessageKind::Outbound,
            (answer, vec![]),
            Default::default(),
            answered,
            None,
            None,
        )
        .await?;
        store
            .assign(m.id, inquiry.id, unit.id, Some(writer.id), None)
            .await?;
        store
            .set_status(m.id, inquiry.id, InquiryStatus::Closed, answered, None)
            .await?;
        let screening = if *screened {
            torg_domain::archive::Screening {
                basis: Some(torg_domain::archive::ScreeningBasis::PersonalCircumstances),
                names: true,
                public_title: Some(demo.screened_title.into()),
            }
        } else {
            Default::default()
        };
        torg_core::archive::decide(
            store,
            &inquiry,
            torg_domain::archive::ArchiveDecision::Archive,
            screening,
            archivist.map(|a| a.id),
            &torg_store::Origin {
                actor: "demo".into(),
                source: String::new(),
            },
            answered + SignedDuration::from_hours(1),
        )
        .await?;
    }
    println!(
        "Added {} demo inquiries to {} from the last 60 days, {} of them judged archive-worthy.",
        demo.inquiries + demo.records.len(),
        demo.name,
        demo.records.len()
    );
    Ok(())
}

/// Two news items written, submitted and approved (by another person: four eyes) in the
/// weeks past, and for the Norwegian demo a water-outage drill declared and ended, so the
/// crisis log has an exercise in it.
async fn published(
    store: &dyn Store,
    m: &torg_store::Municipality,
    users: &[torg_store::User],
) -> Result<()> {
    use torg_core::publish::{Approval, Audience, MessageInput};
    let by_role = |role: Role| users.iter().find(|u| u.role == role);
    let (Some(writer), Some(approver)) =
        (by_role(Role::Communication), by_role(Role::ChiefExecutive))
    else {
        return Ok(());
    };
    let actor = |u: &torg_store::User| torg_core::actor::Actor::user(u, "demo".to_string());
    let news: [(&str, &str); 2] = if m.language == "sv" {
        [
            (
                "Ny återvinningscentral öppnar i mars",
                "Den nya återvinningscentralen vid Industrivägen öppnar den 2 mars. Där kan du lämna grovavfall, farligt avfall och elektronik.",
            ),
            (
                "Ansök om förskoleplats till hösten",
                "Sista dag att söka förskoleplats till hösten är den 1 mars. Ansök via e-tjänsten på kommunens webbplats.",
            ),
        ]
    } else {
        [
            (
                "Ny gjenvinningsstasjon åpner i mars",
                "Den nye gjenvinningsstasjonen ved Industriveien åpner 2. mars. Der kan du levere grovavfall, farlig avfall og elektronikk.",
            ),
            (
                "Søk barnehageplass for høsten",
                "Søknadsfristen for barnehageplass fra august er 1. mars. Søk på kommunens nettside under «Skjema».",
            ),
        ]
    };
    for (n, (title, body)) in news.iter().enumerate() {
        let at = Timestamp::now() - SignedDuration::from_hours(24 * (10 + 7 * n as i64));
        let draft = torg_core::publish::draft(
            store,
            &actor(writer),
            writer,
            m.id,
            &m.language,
            MessageInput {
                title,
                body,
                publish_at: at,
                wheel_item: None,
                image_url: "",
                variants: &[],
                kind: torg_domain::publish::Kind::News,
            },
        )
        .await?;
        torg_core::publish::submit(store, &actor(writer), writer, m.id, draft.id).await?;
        let link = format!("/k/{}/news/{}", m.slug, draft.id);
        torg_core::publish::approve(
            store,
            &actor(approver),
            approver,
            m.id,
            draft.id,
            Approval {
                confirm_personal_data: false,
                channels: &[],
                link: &link,
                audience: Audience {
                    topic: None,
                    areas: &[],
                    manage_base: "",
                    email_footer: "",
                    sms_footer: "",
                },
                press_list: None,
            },
        )
        .await?;
    }
    if m.language != "nb" {
        return Ok(());
    }
    let catalog = std::sync::Arc::new(torg_i18n::Catalog::load(None)?);
    let t = torg_i18n::Tr::new(catalog, &m.language);
    let cli = torg_core::actor::Actor::cli();
    let lead = torg_core::crisis::Lead {
        actor: &cli,
        user: None,
        chat: &torg_core::reply::NoLiveChat,
        limits: Default::default(),
        base: "http://127.0.0.1:8080",
    };
    let (drill, _) = torg_core::crisis::start(
        store,
        &t,
        m,
        &lead,
        &torg_core::crisis::Declaration {
            template: "water".into(),
            areas: vec!["Sentrum".into()],
            drill: true,
            all_subscribers: false,
            text: "Øvelse: vannet er stengt i Sentrum.".into(),
            publish: false,
        },
    )
    .await?;
    torg_core::crisis::update(
        store,
        &t,
        m,
        &lead,
        drill.id,
        torg_core::crisis::Status {
            text: "Øvelsen er over. Takk til alle som var med.",
            end: true,
            publish: false,
        },
    )
    .await?;
    Ok(())
}

/// The demo's areas (three parts of a small town), topics, crisis templates and a few
/// subscribers, one of them a test recipient for drills, in the municipality's language.
async fn alerts(store: &dyn Store, m: &torg_store::Municipality) -> Result<()> {
    let swedish = m.language == "sv";
    let square = |lon: f64, lat: f64| {
        vec![
            (lon, lat),
            (lon + 0.05, lat),
            (lon + 0.05, lat + 0.03),
            (lon, lat + 0.03),
            (lon, lat),
        ]
    };
    let areas = if swedish {
        [
            ("Centrum", 14.52, 59.51, ["71230", "71231"]),
            ("Norrby", 14.52, 59.54, ["71232", "71233"]),
            ("Söderby", 14.52, 59.48, ["71234", "71235"]),
        ]
    } else {
        [
            ("Sentrum", 10.78, 59.70, ["1400", "1401"]),
            ("Nordbyen", 10.78, 59.73, ["1402", "1403"]),
            ("Sørbygda", 10.78, 59.67, ["1404", "1405"]),
        ]
    };
    for (name, lon, lat, postcodes) in areas {
        store
            .put_area(
                m.id,
                &torg_store::Area {
                    id: 0,
                    name: name.into(),
                    polygon: square(lon, lat),
                    postcodes: postcodes.iter().map(|p| p.to_string()).collect(),
                },
                None,
            )
            .await?;
    }
    let topics = if swedish {
        [
            ("vatten", "Vatten och avlopp"),
            ("vag", "Vägar och snöröjning"),
            ("skola", "Förskola och skola"),
            ("kultur", "Kultur och fritid"),
        ]
    } else {
        [
            ("vann", "Vann og avløp"),
            ("vei", "Veier og brøyting"),
            ("skole", "Skole og barnehage"),
            ("kultur", "Kultur og fritid"),
        ]
    };
    for (key, name) in topics {
        store
            .put_topic(
                m.id,
                &torg_store::Topic {
                    key: key.into(),
                    name: name.into(),
                },
                None,
            )
            .await?;
    }
    torg_core::crisis::ensure_templates(store, m).await?;
    let areas = store.areas(m.id).await?;
    let centre = if swedish { "Centrum" } else { "Sentrum" };
    let sentrum = areas.iter().find(|a| a.name == centre).map(|a| a.id);
    let subscriber = |medium, address: &str, test: bool| torg_store::NewSubscriber {
        medium,
        address: address.into(),
        token: torg_core::secrets::new_token(),
        topics: vec![],
        areas: sentrum.into_iter().collect(),
        language: m.language.clone(),
        consent: "demo".into(),
        confirmed: true,
        test_recipient: test,
    };
    use torg_domain::subscription::{Medium, stop_hash};
    let [test_mail, test_sms, mail, sms, press] = if swedish {
        [
            "beredskap-test@example.se",
            "+46700000001",
            "anna.andersson@example.se",
            "+46700000002",
            "redaktion@lokaltidningen.example",
        ]
    } else {
        [
            "beredskap-test@example.no",
            "+4790000001",
            "ola.nordmann@example.no",
            "+4790000002",
            "desk@lokalavisa.example",
        ]
    };
    let list = [
        subscriber(Medium::Email, test_mail, true),
        subscriber(Medium::Sms, test_sms, true),
        subscriber(Medium::Email, mail, false),
        subscriber(Medium::Sms, sms, false),
        // A journalist on the press list: every press release, nothing else.
        torg_store::NewSubscriber {
            areas: vec![],
            ..subscriber(Medium::Press, press, false)
        },
    ];
    let hashes: Vec<String> = list
        .iter()
        .map(|s| stop_hash(s.medium, &s.address))
        .collect();
    store.import_subscribers(m.id, &list, &hashes, None).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A newcomer sees a municipality that works: a realistic handful open, a few near or
    /// over the deadline, the rest answered in time and closed.
    #[tokio::test]
    async fn the_demo_shows_a_municipality_that_works() {
        let dir = tempfile::tempdir().expect("tmp");
        let sqlite = torg_store_sql::SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("store");
        let store: &dyn Store = &sqlite;
        ensure(store).await.expect("demo");
        for (slug, least_closed) in [(SLUG, 250), (SWEDISH_SLUG, 90)] {
            let m = store
                .municipality_by_slug(slug)
                .await
                .expect("read")
                .expect("demo");
            let counts = store
                .deadline_counts(m.id, Timestamp::now(), 750)
                .await
                .expect("counts");
            let open: i64 = counts.iter().map(|c| c.open).sum();
            let overdue: i64 = counts.iter().map(|c| c.overdue).sum();
            assert!((3..=30).contains(&open), "{slug} open: {open}");
            assert!(
                (1..=6).contains(&overdue),
                "{slug} overdue: {overdue} of {open}"
            );
            let closed = store
                .count_matching(
                    m.id,
                    &torg_store::InquiryFilter {
                        status: torg_store::StatusFilter::Only(InquiryStatus::Closed),
                        ..Default::default()
                    },
                )
                .await
                .expect("count");
            assert!(closed >= least_closed, "{slug} closed: {closed}");
        }
        let sv = store
            .municipality_by_slug(SWEDISH_SLUG)
            .await
            .expect("read")
            .expect("demo");
        assert_eq!(
            (sv.language.as_str(), sv.time_zone.as_str()),
            ("sv", "Europe/Stockholm")
        );
        let units: Vec<String> = store
            .list_units(sv.id)
            .await
            .expect("units")
            .into_iter()
            .map(|u| u.name)
            .collect();
        assert!(units.contains(&"Kommunservice".to_string()), "{units:?}");
        // News published in both; a drill, declared and ended, in the Norwegian crisis log.
        for slug in [SLUG, SWEDISH_SLUG] {
            let m = store
                .municipality_by_slug(slug)
                .await
                .expect("read")
                .expect("demo");
            let news = torg_core::publish::news(store, m.id, Timestamp::now(), 10)
                .await
                .expect("news");
            assert_eq!(news.len(), 2, "{slug}");
        }
        let no = store
            .municipality_by_slug(SLUG)
            .await
            .expect("read")
            .expect("demo");
        let crises = store.crises(no.id, 10).await.expect("crises");
        assert!(
            crises.iter().any(|c| c.drill && c.ended_at.is_some()),
            "{crises:?}"
        );
        // Subscribers in each, in its language, with the areas to alert by.
        for m in [&no, &sv] {
            let counts = store.subscriber_counts(m.id).await.expect("counts");
            assert!(
                counts.email >= 2 && counts.sms >= 2 && counts.press == 1,
                "{}: {counts:?}",
                m.slug
            );
            assert_eq!(store.areas(m.id).await.expect("areas").len(), 3);
        }
        // Running it again adds nothing.
        ensure(store).await.expect("again");
        assert_eq!(
            store.list_units(sv.id).await.expect("units").len(),
            units.len()
        );
    }
}
