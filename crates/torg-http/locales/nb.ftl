# Norsk bokmål: the default language of Torg.
language-name = Norsk bokmål
skip-to-content = Hopp til innholdet
nav-label = Hovedmeny
nav-inbox = Innboks
nav-signed-in-as = Logget inn som
nav-logout = Logg ut
language-switcher = Språk
footer-text = Torg – kommunens kommunikasjonstorg

portal-choose-title = Velg kommune
portal-staff-link = Innlogging for ansatte

contact-title = Kontakt kommunen
contact-intro = Skriv til oss, så svarer vi så snart vi kan. Du får et referansenummer og en privat lenke der du kan følge saken.
form-error-heading = Noe må rettes
field-name = Navn
field-required = må fylles ut
field-contact-legend = Hvordan kan vi svare deg?
field-contact-hint = Oppgi e-postadresse, mobilnummer eller begge.
field-email = E-post
field-phone = Mobilnummer
field-topic = Tema
field-message = Melding
field-message-hint = Ikke skriv fødselsnummer eller helseopplysninger her.
field-attachment = Vedlegg (valgfritt)
field-attachment-hint = Én fil, høyst 25 MB.
contact-submit = Send

receipt-title = Takk, vi har mottatt henvendelsen
receipt-thanks = Henvendelsen din er registrert.
receipt-reference = Referansenummer:
receipt-expect-answer = Du kan vente svar innen { $deadline }.
receipt-follow-heading = Følg saken
receipt-follow-text = Ta vare på denne lenken. Der ser du svarene våre og kan skrive til oss igjen:
receipt-follow-private = Lenken er privat. Ikke del den med andre.

follow-title = Henvendelse
label-status = Status
label-received = Mottatt
label-expected-answer = Forventet svar innen
follow-thread = Meldinger
follow-add-message = Skriv en ny melding
follow-send = Send melding

login-title = Logg inn
field-municipality = Kommune
field-username = Brukernavn
field-password = Passord
login-submit = Logg inn
login-wrong = Feil brukernavn eller passord. Prøv igjen, eller be en administrator om nytt passord.

inbox-title = Innboks
inbox-filters = Filtrer henvendelser
inbox-search = Søk
label-unit = Enhet
filter-all = Alle
label-channel = Kanal
label-assignee = Saksbehandler
filter-anyone = Hvem som helst
filter-mine = Mine
inbox-filter-submit = Vis
inbox-caption = Henvendelser sortert etter frist
label-reference = Referanse
label-deadline = Frist
label-citizen = Innbygger
label-summary = Innhold
inbox-empty = Ingen henvendelser passer med filteret.
inbox-next-page = Neste side
filter-not-closed = Ikke lukket

inquiry-heading = Henvendelse
label-contact = Kontakt
inquiry-reply = Svar innbyggeren
inquiry-canned = Svarmal
inquiry-canned-use = Bruk svarmal
inquiry-reply-label = Svar
inquiry-signature-hint = Svaret signeres: { $signature }
inquiry-send-reply = Send svar
inquiry-note = Internt notat
inquiry-note-label = Notat (vises aldri for innbyggeren)
inquiry-add-note = Lagre notat
inquiry-assign = Tildel
assignee-nobody = Ingen
inquiry-assign-submit = Tildel
inquiry-status = Status
inquiry-status-submit = Endre status

error-back = Tilbake
error-storage = Vi får ikke lagret eller hentet data akkurat nå. Vent litt og prøv igjen.
error-heading-unavailable = Tjenesten er midlertidig utilgjengelig
error-unknown-municipality = Vi finner ingen kommune med kortnavnet «{ $slug }». Sjekk adressen.
error-heading-not-found = Fant ikke siden
error-bad-form = Skjemaet kom ikke fram i riktig form. Last inn siden på nytt og prøv igjen.
error-too-large = Innsendingen er for stor. Vedlegg kan være høyst 25 MB.
error-invalid-encoding = Teksten inneholder tegn vi ikke kan lese. Skriv den inn på nytt.
error-unknown-follow-link = Lenken er ikke gyldig. Sjekk at du har kopiert hele lenken fra kvitteringen.
error-form-expired = Skjemaet er utløpt. Last inn siden på nytt og prøv igjen.
error-unknown-inquiry = Henvendelsen finnes ikke.
error-forbidden = Du har ikke tilgang til å gjøre dette.
error-missing-field = Fyll ut alle feltene som må fylles ut.
error-too-long = Teksten er for lang. Del den opp eller send den som vedlegg.
error-invalid-characters = Teksten inneholder ugyldige tegn.
error-invalid-email = E-postadressen ser ikke riktig ut. Skriv den slik: navn@eksempel.no
error-invalid-phone = Mobilnummeret ser ikke riktig ut. Skriv 8 siffer, eller + og landskode først.
error-missing-contact = Oppgi e-postadresse eller mobilnummer, så vi kan svare deg.
error-no-units = Kommunen tar ikke imot henvendelser her ennå.
error-attachment-too-large = Vedlegget er for stort. Høyst 25 MB.
error-storage-error = Vi fikk ikke lagret henvendelsen. Prøv igjen om litt.

unit-days = d
unit-hours = t
unit-minutes = min
time-left = { $time } igjen
time-overdue = { $time } over fristen
time-closed = Lukket

topic-other = Annet
topic-school = Barnehage og skole
topic-health = Helse og omsorg
topic-water = Vann og avløp
topic-roads = Vei og trafikk
topic-waste = Renovasjon
topic-building = Plan og byggesak
topic-culture = Kultur og fritid

status-new = Ny
status-open = Under arbeid
status-waiting_for_citizen = Venter på innbygger
status-closed = Lukket

channel-web = Kontaktskjema
channel-chat = Chat
channel-email = E-post
channel-sms = SMS
channel-phone = Telefon
channel-facebook = Facebook
channel-instagram = Instagram
channel-mastodon = Mastodon
channel-api = API

kind-inbound = Fra innbygger
kind-outbound = Svar
kind-note = Internt notat

done-reply = Svaret er sendt.
done-note = Notatet er lagret.
done-assign = Henvendelsen er tildelt.
done-status = Statusen er endret.
