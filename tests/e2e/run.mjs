// End-to-end test in headless Chromium: a citizen submits the contact form, staff log in and
// reply, the citizen sees the reply on the follow page; publishing on the networks; citizens
// subscribe (by email on the portal, by SMS through the real Kannel) and a crisis reaches
// them through the real SMTP server and Kannel, fifty inquiries about it are linked and
// answered, a drill reaches only the test recipients. axe-core checks WCAG 2.1 A/AA on every
// page visited.
//
// Usage: TORG_BIN=target/debug/torg node tests/e2e/run.mjs
import { chromium } from "playwright-core";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import net from "node:net";
import http from "node:http";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const bin = resolve(process.env.TORG_BIN ?? "target/debug/torg");
const screenshots = resolve(process.env.TORG_SCREENSHOTS ?? "target/e2e");
mkdirSync(screenshots, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), "torg-e2e-"));
const password = "e2e-passord-som-er-langt";
// The networks' stand-ins are on loopback: connectors may reach it.
const configFile = join(dataDir, "torg.toml");
writeFileSync(configFile, 'connector_hosts = ["127.0.0.1"]\n# The test mail servers on loopback speak without TLS.\nallow_plain_mail = true\n');
const torgEnv = { ...process.env, TORG_LOG: "warn", TORG_CONFIG: configFile };

function torg(...args) {
  return execFileSync(bin, ["--data-dir", dataDir, ...args], { env: torgEnv }).toString();
}

// A stand-in of the parts of Meta's Graph API and Mastodon that publishing calls, answering
// as their documentation says; what was posted is kept for the checks.
const posted = [];
const networks = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => { body += c; });
  req.on("end", () => {
    const url = new URL(req.url, "http://x");
    const json = (code, value) => { res.writeHead(code, { "content-type": "application/json" }); res.end(JSON.stringify(value)); };
    const input = body ? JSON.parse(body) : {};
    const n = posted.length + 1;
    let m;
    if (req.method === "POST" && (m = url.pathname.match(/^\/v21\.0\/([^/]+)\/(feed|photos)$/))) {
      posted.push({ network: "facebook", text: input.message ?? input.caption, picture: input.url });
      return json(200, { id: `photo${n}`, post_id: `${m[1]}_${n}` });
    }
    if (req.method === "POST" && url.pathname.match(/^\/v21\.0\/[^/]+\/media$/)) {
      if (!input.image_url) return json(400, { error: { message: "Only photo or video can be accepted as media type.", code: 9004 } });
      return json(200, { id: `c${n}`, caption: input.caption, image_url: input.image_url });
    }
    if (req.method === "POST" && url.pathname.match(/^\/v21\.0\/[^/]+\/media_publish$/)) {
      posted.push({ network: "instagram", creation: input.creation_id });
      return json(200, { id: `1790${n}` });
    }
    if (req.method === "GET" && (m = url.pathname.match(/^\/v21\.0\/([^/]+)$/))) {
      return json(200, { id: m[1], permalink_url: `https://www.facebook.com/${m[1]}`, permalink: `https://www.instagram.com/p/${m[1]}/` });
    }
    if (req.method === "POST" && url.pathname === "/api/v1/statuses") {
      posted.push({ network: "mastodon", text: input.status });
      return json(200, { id: `11${n}`, url: `https://social.example/@demo/11${n}` });
    }
    if (req.method === "GET" && url.pathname === "/api/v1/notifications") return json(200, []);
    // The local paper's feed, for listening.
    if (req.method === "GET" && url.pathname === "/lokalavisa.xml") {
      res.writeHead(200, { "content-type": "application/rss+xml", etag: '"v1"' });
      return res.end('<?xml version="1.0"?><rss version="2.0"><channel><title>Lokalavisa</title><link>https://avisa.example/</link><description>Nyheter</description>'
        + '<item><title>Sterk gasslukta ved Fjordgata skole</title><link>https://avisa.example/gass</link><guid>gass-1</guid><description>Naboer har meldt fra.</description></item>'
        + '<item><title>Konsert i parken</title><link>https://avisa.example/konsert</link><guid>konsert-1</guid></item></channel></rss>');
    }
    // Kannel's get-url: passed on to Torg's SMS hook, whose key is known only once the
    // gateway is set.
    if (url.pathname === "/kannel-in" && smsHook) {
      fetch(`${smsHook}&${url.searchParams}`).then(async (r) => { res.writeHead(r.status); res.end(await r.text()); }, () => { res.writeHead(503); res.end(); });
      return;
    }
    json(404, { error: "not found" });
  });
});
let smsHook = null;
await new Promise((ok) => networks.listen(0, "127.0.0.1", ok));
const networksBase = `http://127.0.0.1:${networks.address().port}`;

// The real mail servers (OpenSMTPD, Dovecot) and Kannel, run by torg-bench's helper: it prints
// their addresses, every SMS Torg sends, and mailboxes on request.
const benchBin = resolve(process.env.TORG_BENCH_BIN ?? join(bin, "..", "torg-bench"));
const servers = spawn(benchBin, ["servers", "--sms-get-url", `${networksBase}/kannel-in`], { stdio: ["pipe", "pipe", "inherit"] });
const smsSeen = [];
let inboxWaiter = null;
let serversReady;
const serversInfo = new Promise((ok) => { serversReady = ok; });
let pendingLine = "";
servers.stdout.on("data", (chunk) => {
  pendingLine += chunk.toString();
  let i;
  while ((i = pendingLine.indexOf("\n")) >= 0) {
    const line = pendingLine.slice(0, i);
    pendingLine = pendingLine.slice(i + 1);
    if (!line.trim()) continue;
    const msg = JSON.parse(line);
    if (msg.smtp_port) serversReady(msg);
    else if (msg.sms) smsSeen.push(msg.sms);
    else if (msg.inbox && inboxWaiter) { const w = inboxWaiter; inboxWaiter = null; w(msg.inbox); }
  }
});
const mail = await serversInfo;
const inbox = (user) => new Promise((ok) => { inboxWaiter = ok; servers.stdin.write(`inbox ${user}\n`); });
async function mailFor(user, count) {
  for (let i = 0; i < 100; i++) {
    const list = await inbox(user);
    if (list.length >= count) return list;
    await new Promise((r) => setTimeout(r, 200));
  }
  return inbox(user);
}
async function smsTo(number, count, ms = 15000) {
  for (let i = 0; i < ms / 100; i++) {
    const got = smsSeen.filter((m) => m.to === number);
    if (got.length >= count) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
  return smsSeen.filter((m) => m.to === number);
}
async function smsWith(number, words, ms = 15000) {
  for (let i = 0; i < ms / 100; i++) {
    const got = smsSeen.find((m) => m.to === number && m.text.includes(words));
    if (got) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}
const citizenSms = (from, text) => servers.stdin.write(`sms ${from} ${mail.sms_sender} ${text}\n`);

async function freePort() {
  return new Promise((ok) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => { const { port } = srv.address(); srv.close(() => ok(port)); });
  });
}

const failures = [];
function check(cond, what) {
  if (!cond) { failures.push(what); console.error("FAIL:", what); } else { console.log("ok:", what); }
}

async function axe(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () =>
    await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
  for (const v of result.violations) {
    console.error(`  axe ${name}: ${v.id} (${v.impact}): ${v.help}`);
    for (const n of v.nodes.slice(0, 3)) console.error(`    ${n.target.join(" ")}: ${n.failureSummary}`);
  }
  check(result.violations.length === 0, `axe: no WCAG 2.1 A/AA violations on ${name}`);
}

torg("demo");
torg("user", "create", "--municipality", "demo", "--username", "ada", "--name", "Ada Admin", "--role", "administrator", "--unit", "Servicetorget", "--password", password);
torg("user", "create", "--municipality", "demo", "--username", "eva", "--name", "Eva Ende", "--role", "service_desk", "--unit", "Servicetorget", "--password", password);
torg("user", "create", "--municipality", "demo", "--username", "arne", "--name", "Arne Arkiv", "--role", "archivist", "--unit", "Servicetorget", "--password", password);
torg("user", "create", "--municipality", "demo", "--username", "kim", "--name", "Kim Kommunikasjon", "--role", "communication", "--unit", "Kommunikasjon", "--password", password);
torg("user", "create", "--municipality", "demo", "--username", "dina", "--name", "Dina Direktør", "--role", "chief_executive", "--password", password);
// A municipality on UTC whose chat is always open (no holidays), for the live chat.
torg("municipality", "create", "--slug", "vika", "--name", "Vika kommune", "--time-zone", "UTC");
torg("unit", "create", "--municipality", "vika", "--name", "Servicetorget", "--service-desk");
torg("user", "create", "--municipality", "vika", "--username", "vera", "--name", "Vera Vakt", "--role", "service_desk", "--unit", "Servicetorget", "--password", password);
torg("hours", "set", "--municipality", "vika", "--channel", "chat", "--weekly", "mon-sun 00:00-23:59");
// The demo municipality's Facebook page, Instagram account and Mastodon account.
const socialAccounts = [
  ["facebook", "PAGE1", "https://www.facebook.com/demokommune", `${networksBase}/v21.0`],
  ["instagram", "1784", "https://www.instagram.com/demokommune", `${networksBase}/v21.0`],
  ["mastodon", "4711", "https://social.example/@demo", networksBase],
];
for (const [channel, account, address, api] of socialAccounts) {
  torg("social", "set", "--municipality", "demo", "--channel", channel, "--account", account, "--registry-address", address, "--token", "e2e-token", "--app-secret", "e2e-secret", "--api-base", api);
}
// Demo kommune's mailbox and SMS gateway on the real servers.
torg("mail", "set", "--municipality", "demo", "--address", "postmottak@nordby.kommune.no", "--name", "Demo kommune",
  "--imap-host", "127.0.0.1", "--imap-port", String(mail.imap_port), "--imap-security", "plain", "--imap-user", "postmottak", "--imap-password", "hemmelig",
  "--smtp-host", "127.0.0.1", "--smtp-port", String(mail.smtp_port), "--smtp-security", "plain");
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const gatewayOut = torg("sms", "set", "--municipality", "demo", "--url", mail.sendsms_url, "--username", mail.sms_username, "--password", mail.sms_password, "--sender", mail.sms_sender);
const hookPath = gatewayOut.match(/\/hooks\/sms\/demo\?key=[^\s&]+/);
check(hookPath !== null, "the SMS gateway prints the hook's address");
smsHook = `${base}${hookPath[0]}`;
const apiToken = torg("token", "create", "--municipality", "demo", "--name", "e2e").match(/torg_[A-Za-z0-9_-]+|[a-f0-9]{40,}/)?.[0];
const server = spawn(bin, ["--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, "serve"], { stdio: ["ignore", "ignore", "inherit"], env: torgEnv });
for (let i = 0; i < 300; i++) {
  try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
  await new Promise((r) => setTimeout(r, 100));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  // axe is injected as an inline script, which Torg's Content-Security-Policy forbids.
  const citizen = await (await browser.newContext({ bypassCSP: true, locale: "nb-NO" })).newPage();
  await citizen.goto(`${base}/k/demo`);
  check((await citizen.title()).includes("Kontakt kommunen"), "the contact form is in bokmål");
  await axe(citizen, "contact form");
  await citizen.fill("#name", "Nora Nettleser");
  await citizen.fill("#email", "nora@example.no");
  await citizen.selectOption("#topic", "water");
  await citizen.fill("#message", "Det er vannlekkasje i Fjordgata 12. <script>alert(1)</script>");
  await citizen.click("button[type=submit]");
  await citizen.waitForSelector(".reference");
  const reference = (await citizen.textContent(".reference")).trim();
  check(/^\d{4}-\d{6}$/.test(reference), `the receipt shows a reference (${reference})`);
  await axe(citizen, "receipt");
  const followUrl = (await citizen.textContent("#follow-link")).trim();
  await citizen.goto(followUrl);
  check((await citizen.textContent(".thread")).includes("<script>alert(1)</script>"), "hostile text is shown as text");
  await axe(citizen, "follow page");

  const staff = await (await browser.newContext({ bypassCSP: true, locale: "nb-NO", viewport: { width: 1280, height: 900 } })).newPage();
  await staff.goto(`${base}/staff/login`);
  await axe(staff, "login");
  await staff.selectOption("#municipality", "demo");
  await staff.fill("#username", "eva");
  await staff.fill("#password", password);
  await staff.click("button[type=submit]");
  await staff.waitForSelector("table.inbox");
  await axe(staff, "inbox");
  await staff.screenshot({ path: join(screenshots, "inbox.png"), fullPage: false });
  await staff.goto(`${base}/staff/overview`);
  check((await staff.textContent("h1")).includes("Frister per enhet"), "the deadline overview");
  await axe(staff, "deadline overview");
  // One's own password: a mismatch is said in words; the same password again is taken.
  await staff.click("nav.staff-nav a[href='/staff/password']");
  await axe(staff, "own password");
  await staff.fill("#password-current", password);
  await staff.fill("#password-new", "et nytt og langt passord");
  await staff.fill("#password-repeat", "noe helt annet enn det");
  await staff.click("form[action='/staff/password'] button[type=submit]");
  check((await staff.textContent(".alert.error")).includes("ikke like"), "the password page says the two differ");
  await staff.fill("#password-current", password);
  await staff.fill("#password-new", password);
  await staff.fill("#password-repeat", password);
  await staff.click("form[action='/staff/password'] button[type=submit]");
  await staff.waitForSelector(".alert.success");
  check((await staff.textContent(".alert.success")).includes("Passordet er byttet"), "one's own password is changed");
  await axe(staff, "own password, changed");
  // The phone log: typed from the keyboard, the name field has the focus.
  await staff.click("a:text('Registrer samtale')");
  await staff.keyboard.type("Per Innringer");
  await staff.fill("#p-summary", "Spurte om når biblioteket åpner");
  await staff.fill("#p-minutes", "2");
  await staff.click("form[action='/staff/phone'] button[type=submit]");
  await staff.waitForSelector(".alert.success");
  check((await staff.textContent(".alert.success")).includes("Samtalen er registrert som"), "a call is logged");
  await axe(staff, "phone log");
  // The search: a word form the text does not hold ("lekkasjen" for "vannlekkasje"), marked,
  // with the hits counted.
  await staff.goto(`${base}/staff`);
  await staff.fill("#f-q", "lekkasjen Fjordgata");
  await staff.selectOption("#f-status", "any");
  await staff.click(".filters button[type=submit]");
  await staff.waitForSelector("#found");
  check((await staff.textContent("table.inbox")).includes(reference), "the search finds the inquiry by a word form");
  check((await staff.textContent("table.inbox mark")).toLowerCase().includes("vannlekkasje"), "the word found is marked");
  check((await staff.textContent("#found")).includes("Antall treff"), "the hits are counted");
  await axe(staff, "search results");
  await staff.goto(`${base}/staff`);
  await staff.fill("#f-q", reference);
  await staff.click(".filters button[type=submit]");
  await staff.click(`a:text("${reference}")`);
  await staff.waitForSelector("#reply-body");
  await axe(staff, "inquiry page");
  // Plain language: advice on the draft, and nothing sent.
  await staff.fill("#reply-body", "Saken skal behandles i henhold til forskriften.");
  await staff.click("form[action$='/reply'] button[name=check]");
  await staff.waitForSelector(".plain-advice");
  const advice = await staff.textContent(".plain-advice");
  check(advice.includes("LIX") && advice.includes("skriv heller «etter»") && advice.includes("passiv form"), "plain-language advice on the draft");
  check((await staff.inputValue("#reply-body")).includes("i henhold til"), "the draft is kept for the writer");
  await axe(staff, "plain-language advice");
  await staff.fill("#reply-body", "Takk! Vi sender en rørlegger i dag.");
  await staff.setInputFiles("#reply-files", { name: "Kart over ledningsnettet.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4\n% kart\n") });
  await staff.click("form[action$='/reply'] button[type=submit]");
  await staff.waitForSelector(".alert.success");
  check((await staff.textContent(".thread")).includes("Vennlig hilsen Eva, Servicetorget – Demo kommune"), "the reply is signed");

  await citizen.goto(followUrl);
  const thread = await citizen.textContent(".thread");
  check(thread.includes("Vi sender en rørlegger i dag."), "the citizen sees the reply on the follow page");
  check(thread.includes("Vennlig hilsen Eva, Servicetorget – Demo kommune"), "signed as the municipality");
  check(thread.includes("Kart over ledningsnettet.pdf"), "the file on the reply is on the follow page");
  // Closed, the follow page asks how satisfied the citizen is, once.
  await staff.selectOption("#s-status", "closed");
  await staff.click("form[action$='/status'] button[type=submit]");
  await staff.waitForSelector(".alert.success");
  await citizen.goto(followUrl);
  await citizen.waitForSelector("input[name=score]");
  await axe(citizen, "the satisfaction question on the follow page");
  await citizen.check("#score-4");
  await citizen.fill("#survey-comment", "Raskt og greit svar.");
  await citizen.click("form[action$='/survey'] button[type=submit]");
  await citizen.waitForSelector(".survey");
  check((await citizen.textContent(".survey")).includes("Takk for svaret"), "the answer is taken and thanked for");
  check(!(await citizen.isVisible("input[name=score]")), "the question is asked once");
  await citizen.goto(`${followUrl}?lang=en`);
  check((await citizen.textContent("h1")).startsWith("Inquiry"), "English on request");

  // The same matter asked again, and then something else in the same thread: staff merge
  // the new inquiry with the first, and split the other matter out into its own.
  await citizen.goto(`${base}/k/demo`);
  await citizen.fill("#name", "Nora Nettleser");
  await citizen.fill("#email", "nora@example.no");
  await citizen.selectOption("#topic", "water");
  await citizen.fill("#message", "Lekkasjen i Fjordgata 12 er verre i dag.");
  await citizen.click("button[type=submit]");
  await citizen.waitForSelector(".reference");
  const secondRef = (await citizen.textContent(".reference")).trim();
  const againUrl = (await citizen.textContent("#follow-link")).trim();
  await citizen.goto(againUrl);
  await citizen.fill("#message", "Og forresten: gatelyset utenfor er mørkt.");
  await citizen.click("form[action$='/messages'] button[type=submit]");
  await staff.goto(`${base}/staff`);
  await staff.fill("#f-q", secondRef);
  await staff.selectOption("#f-status", "any");
  await staff.click(".filters button[type=submit]");
  await staff.click(`a:text("${secondRef}")`);
  await staff.waitForSelector("#merge-refs");
  await staff.fill("#merge-refs", reference);
  await staff.click("#merge-form button[type=submit]");
  await staff.waitForSelector("#merged-note");
  check((await staff.textContent("h1")).includes(reference), "the merged matter goes on under the older reference");
  check((await staff.textContent(".thread")).includes("Lekkasjen i Fjordgata 12 er verre"), "one thread of both inquiries");
  await axe(staff, "a merged matter");
  await staff.click(".thread li:has-text('gatelyset') form.split button");
  await staff.waitForSelector(".alert.success");
  check((await staff.textContent(".thread")).includes("gatelyset utenfor er mørkt") && !(await staff.textContent("h1")).includes(reference), "the other matter is an inquiry of its own");
  await axe(staff, "a split-out inquiry");
  await citizen.goto(againUrl);
  // Nora chose English on the follow page above: the notices are in her language.
  check((await citizen.textContent(".thread")).includes("is now handled on its own under reference"), "the citizen is told, in her language, where the other matter went");

  // Administration: users and memberships, units, the audit log.
  const admin = await (await browser.newContext({ bypassCSP: true, locale: "nb-NO", viewport: { width: 1280, height: 900 } })).newPage();
  await admin.goto(`${base}/staff/login`);
  await admin.selectOption("#municipality", "demo");
  await admin.fill("#username", "ada");
  await admin.fill("#password", password);
  await admin.click("button[type=submit]");
  await admin.waitForSelector("table.inbox");
  await admin.click("a:text('Enheter')");
  await admin.fill("#nunit-name", "Barnevern");
  await admin.check("#nunit-sensitive");
  await admin.click("form[action='/staff/admin/units'] button[type=submit]");
  await admin.waitForSelector(".alert.success");
  await axe(admin, "units");
  await admin.click("a:text('Brukere')");
  await axe(admin, "users");
  await admin.click("a:text('Eva Ende')");
  await admin.waitForSelector("fieldset");
  await axe(admin, "user page");
  await admin.check("label:text('Barnevern (sensitiv)')");
  await admin.click("form button.primary");
  await admin.waitForSelector(".alert.success");
  check(await admin.isChecked("label:text('Barnevern (sensitiv)')"), "the membership is saved");
  await admin.click("a:text('Revisjonslogg')");
  check((await admin.textContent("table.inbox")).includes("user.updated"), "the change is in the audit log");
  await axe(admin, "audit log");
  await admin.click("a:text('API-nøkler')");
  await admin.fill("#token-name", "Sak/arkiv");
  await admin.check("label:text('Barnevern (sensitiv)')");
  await admin.click("form[action='/staff/admin/tokens'] button[type=submit]");
  await admin.waitForSelector("code.secret");
  check((await admin.textContent("code.secret")).trim().length === 64, "a new API token is shown once");
  await axe(admin, "API tokens");
  await admin.click("a:text('Webhooks')");
  await admin.fill("#hook-url", "http://127.0.0.1:9/torg-hendelser");
  await admin.check("label:has-text('Ny henvendelse')");
  await admin.check("label:has-text('Henvendelse avsluttet')");
  await admin.click("form[action='/staff/admin/webhooks'] button[type=submit]");
  await admin.waitForSelector("code.secret");
  check((await admin.textContent("code.secret")).trim().length === 64, "a webhook's signing secret is shown once");
  check((await admin.textContent("main")).includes("http://127.0.0.1:9/torg-hendelser"), "the webhook is listed");
  await axe(admin, "webhooks");
  await admin.click("a[href='/staff/admin/routing']");
  await admin.selectOption("#rule-unit", { label: "Teknisk drift" });
  await admin.fill("#rule-keyword", "brøyting");
  await admin.fill("#rule-sample", "Når kommer brøytingen i Storgata?");
  await admin.click("#rule-form button[value=try]");
  await admin.waitForSelector("#routing-trial");
  check((await admin.textContent("#routing-trial")).includes("Med den nye regelen går den til Teknisk drift"), "a routing rule is tried on a sample text before it is saved");
  await axe(admin, "routing rules, tried");
  await admin.click("#rule-form button[value=save]");
  await admin.waitForSelector(".alert.success");
  check((await admin.textContent("#routing-rules")).includes("brøyting"), "the routing rule is saved and listed");
  await axe(admin, "routing rules");
  await admin.click("a[href='/staff/admin/canned']");
  await admin.fill("#canned-title", "Brøyting");
  await admin.fill("#canned-body", "Hei {navn}! Veien blir brøytet i løpet av dagen. Hilsen {signatur}");
  await admin.click("#canned-form button[type=submit]");
  await admin.waitForSelector(".alert.success");
  check((await admin.textContent("main")).includes("LIX"), "a canned reply is made, with the plain-language advice beside it");
  check((await admin.inputValue("#ack-nb-body")).includes("{referanse}"), "the acknowledgement text is on the page to change");
  await axe(admin, "canned replies");
  await admin.click("a[href='/staff/admin/deadlines']");
  await admin.fill("#day-date", "2031-12-24");
  await admin.fill("#day-closes", "12:00");
  await admin.fill("#day-note", "Julaften");
  await admin.click("#day-form button[type=submit]");
  await admin.waitForSelector(".alert.success");
  check((await admin.textContent("#closed-days")).includes("24.12.2031"), "a closed day is added on the deadlines page");
  await admin.selectOption("#scoped-scope", "channel:chat");
  await admin.fill("#scoped-weekly", "mon-fri 09:00-14:00");
  await admin.click("#scoped-hours-form button[type=submit]");
  await admin.waitForSelector("#scoped-hours");
  check((await admin.textContent("#scoped-hours")).includes("Chat"), "the chat gets its own opening hours");
  await admin.check("#rota-form input[name=users] >> nth=0");
  await admin.check("#rota-form input[name=users] >> nth=1");
  await admin.fill("#rota-from", new Date(Date.now() + 86400000).toISOString().slice(0, 10));
  await admin.click("#rota-form button[type=submit]");
  await admin.waitForSelector("#shifts");
  check((await admin.locator("#shifts tbody tr").count()) >= 2, "a duty rota is planned on the deadlines page");
  await axe(admin, "deadlines and opening hours");
  await admin.click("a:text('Kanaloversikt')");
  await admin.fill("#r-name", "Demo kommune");
  await admin.fill("#r-address", "https://facebook.com/demokommune");
  await admin.fill("#r-purpose", "Informasjon og dialog");
  await admin.click("form[action='/staff/channels'] button[type=submit]");
  await admin.waitForSelector(".alert.success");
  check((await admin.textContent("table.inbox")).includes("Foreslått"), "an account is proposed in the channel registry");
  await axe(admin, "channel registry");
  await admin.click("a:text('Karantene')");
  check((await admin.textContent("h1")).includes("E-post i karantene"), "the mail quarantine");
  await axe(admin, "mail quarantine");
  await admin.click("a:text('E-post')");
  check((await admin.textContent("h1")).includes("Kommunens e-post"), "the mail settings");
  await axe(admin, "mail settings");
  await admin.click("a:text('Tilkoblinger')");
  check((await admin.textContent("h1")).includes("Tilkoblinger"), "the connector page");
  await axe(admin, "connectors");
  await admin.click("a[href='/staff/admin/sms']");
  check((await admin.textContent("h1")).includes("Kommunens SMS"), "the SMS settings");
  await axe(admin, "SMS settings (not set up)");
  await admin.fill("#g-user", "torg");
  await admin.fill("#g-pass", "hemmelig");
  await admin.fill("#g-sender", "2222");
  await admin.click("form[action='/staff/admin/sms'] button[type=submit]");
  await admin.waitForSelector(".alert.success");
  check((await admin.inputValue("#callback")).includes("/hooks/sms/demo?key="), "Kannel's get-url is shown once the gateway is set");
  await admin.fill("#k-word", "Vann");
  await admin.fill("#k-reply", "Takk! Saken har nummer {referanse}.");
  await admin.click("form[action='/staff/admin/sms/keywords'] button[type=submit]");
  await admin.waitForSelector(".alert.success");
  check((await admin.textContent("table")).includes("VANN"), "the code word is listed in capitals");
  await axe(admin, "SMS settings");
  await admin.screenshot({ path: join(screenshots, "sms-settings.png"), fullPage: true });

  // Live chat: the widget opens the chat; a citizen and staff talk without reloading.
  const host = await (await browser.newContext({ bypassCSP: true, locale: "nb-NO" })).newPage();
  await host.goto(`${base}/chat/vika/widget`);
  await host.waitForSelector("button.torg-chat-button");
  await axe(host, "chat widget (closed)");
  await host.click("button.torg-chat-button");
  await host.waitForSelector("#torg-chat-panel iframe");
  check((await host.getAttribute("button.torg-chat-button", "aria-expanded")) === "true", "the widget says it is open");
  await host.frameLocator("#torg-chat-panel iframe").locator("#chat-first").waitFor();
  await axe(host, "chat widget (open)");
  await host.keyboard.press("Escape");
  check(await host.isHidden("#torg-chat-panel"), "Escape closes the widget");

  const chatter = await (await browser.newContext({ bypassCSP: true, locale: "nb-NO", viewport: { width: 400, height: 700 } })).newPage();
  await chatter.goto(`${base}/chat/vika`);
  await axe(chatter, "chat start");
  await chatter.fill("#chat-name", "Nils Nettprat");
  await chatter.fill("#chat-first", "Hei! Når åpner svømmehallen?");
  await chatter.click("button[type=submit]");
  await chatter.waitForSelector("#chat-log");
  await axe(chatter, "chat conversation");
  const vera = await (await browser.newContext({ bypassCSP: true, locale: "nb-NO", viewport: { width: 1280, height: 900 } })).newPage();
  await vera.goto(`${base}/staff/login`);
  await vera.selectOption("#municipality", "vika").catch(() => vera.fill("#municipality", "vika"));
  await vera.fill("#username", "vera");
  await vera.fill("#password", password);
  await vera.click("button[type=submit]");
  await vera.waitForSelector("table.inbox");
  await vera.click("a:text('Chat')");
  await vera.waitForSelector("h1");
  await axe(vera, "chat list");
  await vera.click("table.inbox a");
  await vera.waitForSelector("[data-chat-events]");
  await axe(vera, "live chat inquiry page");
  await vera.click("form[action$='/take'] button");
  await chatter.waitForFunction(() => document.getElementById("chat-status").textContent.includes("svarer deg nå"));
  check(true, "the citizen is told who has taken the chat over");
  await chatter.fill("#chat-body", "Og er det åpent på søndag?");
  await chatter.click("#chat-send button[type=submit]");
  await vera.waitForFunction(() => document.querySelector(".thread").textContent.includes("Og er det åpent på søndag?"));
  check(true, "the citizen's message reaches the staff page without a reload");
  await vera.fill("#reply-body", "Ja, søndag 10–16.");
  await vera.click("form[action$='/reply'] button[type=submit]");
  await chatter.waitForFunction(() => document.getElementById("chat-log").textContent.includes("Ja, søndag 10–16."));
  check(true, "the answer reaches the citizen without a reload");

  // The archive: the public journal (screened), the archivist's decision, the moderation queue.
  await citizen.goto(`${base}/k/demo/journal?lang=nb`);
  check((await citizen.textContent("h1")).includes("Offentlig journal"), "the public journal");
  check((await citizen.textContent("table")).includes("*****"), "screened names are not shown");
  await axe(citizen, "public journal");
  const arne = await (await browser.newContext({ bypassCSP: true, locale: "nb-NO", viewport: { width: 1280, height: 900 } })).newPage();
  await arne.goto(`${base}/staff/login`);
  await arne.selectOption("#municipality", "demo");
  await arne.fill("#username", "arne");
  await arne.fill("#password", password);
  await arne.click("button[type=submit]");
  await arne.waitForSelector("table.inbox");
  await arne.click("table.inbox tbody a");
  await arne.waitForSelector("form[action$='/archive']");
  await axe(arne, "inquiry page with the archive decision");
  await arne.check("input[name=decision][value=archive]");
  await arne.selectOption("#ar-basis", "personal_circumstances");
  await arne.click("form[action$='/archive'] button[type=submit]");
  await arne.waitForSelector(".alert.success");
  check((await arne.textContent("section[aria-labelledby=archive-h]")).includes("Arkivverdig – bestemt av Arne Arkiv"), "the archivist's decision is shown");
  await arne.click("a:text('Arkiv')");
  await arne.waitForSelector("#ret-days");
  await axe(arne, "archive page");
  const kim = await (await browser.newContext({ bypassCSP: true, locale: "nb-NO", viewport: { width: 1280, height: 900 } })).newPage();
  await kim.goto(`${base}/staff/login`);
  await kim.selectOption("#municipality", "demo");
  await kim.fill("#username", "kim");
  await kim.fill("#password", password);
  await kim.click("button[type=submit]");
  await kim.waitForSelector("table.inbox");
  await kim.click("a:text('Moderering')");
  await kim.waitForSelector("#kw");
  await axe(kim, "moderation queue");
  // The annual wheel: the first Monday of March every year, on the wheel and in March's list.
  await kim.click("nav.staff-nav a[href='/staff/wheel']");
  await kim.fill("#w-title", "Eiendomsskatt sendes ut");
  await kim.fill("#w-date", "2027-03-01");
  await kim.selectOption("#w-repeat", "weekday");
  await kim.fill("#w-target", "Huseiere");
  await kim.click("form[action='/staff/wheel/items'] button[type=submit]");
  await kim.waitForSelector(".alert.success");
  check((await kim.textContent("table")).includes("Eiendomsskatt sendes ut"), "the wheel lists the item in March");
  check(await kim.isVisible(".wheel svg circle.wheel-dot"), "the item is a dot on the wheel");
  await axe(kim, "annual wheel");
  await kim.screenshot({ path: join(screenshots, "wheel.png"), fullPage: true });
  // Publishing: written once, sent for approval, approved by someone else, then news.
  await kim.click("nav.staff-nav a[href='/staff/publish']");
  await axe(kim, "publishing");
  await kim.fill("#p-title", "Biblioteket åpner lenger");
  await kim.fill("#p-body", "Fra mandag er biblioteket åpent til klokken 20.\n\nVelkommen innom!");
  await kim.fill("#p-image", "https://demo.example/bilder/biblioteket.jpg");
  await kim.fill("#p-time", "2026-01-05T09:00");
  await kim.click("form[action='/staff/publish'] button[type=submit]");
  await kim.waitForSelector(".plain-advice");
  await axe(kim, "a message with its plain-language advice");
  await kim.click("form[action$='/submit'] button[type=submit]");
  await kim.waitForSelector(".alert.success");
  check(!(await kim.isVisible("form[action$='/approve']")), "the author is not offered to approve her own text");
  const messageUrl = kim.url().split("?")[0];
  const dina = await (await browser.newContext({ bypassCSP: true, locale: "nb-NO" })).newPage();
  await dina.goto(`${base}/staff/login`);
  await dina.selectOption("#municipality", "demo");
  await dina.fill("#username", "dina");
  await dina.fill("#password", password);
  await dina.click("button[type=submit]");
  await dina.waitForSelector("table.inbox");
  // The chief executive approves the municipality's accounts in the channel registry.
  for (const [channel, , address] of socialAccounts) {
    await dina.goto(`${base}/staff/channels`);
    await dina.selectOption("#r-channel", channel);
    await dina.fill("#r-name", "Demo kommune");
    await dina.fill("#r-address", address);
    await dina.fill("#r-purpose", "Nyheter og dialog");
    await dina.click("form[action='/staff/channels'] button[type=submit]");
    await dina.waitForSelector(".alert.success");
    await dina.click(`tr:has-text("${address}") form[action$='/decide'] input[value=approved] + button`);
    await dina.waitForSelector(".alert.success");
  }
  await axe(dina, "the channel registry");
  await dina.goto(messageUrl);
  for (const network of ["facebook", "instagram", "mastodon"]) {
    check(await dina.isChecked(`#to-${network}`), `the approval offers ${network}, ticked`);
  }
  check((await dina.textContent("main")).includes("Slik blir innlegget på Instagram"), "each network's post is previewed");
  await axe(dina, "a message waiting for approval, with its posts previewed");
  await dina.click("form[action$='/approve'] button[type=submit]");
  await dina.waitForSelector(".alert.success");
  check((await dina.textContent(".alert.success")).includes("godkjent"), "the chief executive approves it");
  // Its time has come: the posts go out on the delivery path, each once, with the picture.
  for (let i = 0; i < 100 && posted.length < 3; i++) await new Promise((r) => setTimeout(r, 200));
  const on = (network) => posted.filter((p) => p.network === network);
  check(on("facebook").length === 1 && on("facebook")[0].picture === "https://demo.example/bilder/biblioteket.jpg", "a photo post on the Facebook page");
  check(on("instagram").length === 1, "an Instagram post, published from its container");
  check(on("mastodon").length === 1 && on("mastodon")[0].text.includes(`${base}/k/demo/news/`), "a Mastodon status linking to the news");
  await dina.reload();
  const posts = await dina.textContent("#posts-h + ul");
  check(posts.includes("https://www.facebook.com/") && posts.includes("https://www.instagram.com/p/") && posts.includes("https://social.example/@demo/"), "the message page says where each post is");
  await citizen.goto(`${base}/k/demo/news`);
  check((await citizen.textContent("main")).includes("Biblioteket åpner lenger"), "the message is news on the portal");
  await axe(citizen, "news");
  await citizen.click("a:text('Biblioteket åpner lenger')");
  check((await citizen.textContent("article")).includes("Velkommen innom!"), "the news item's own page");
  await axe(citizen, "news item");

  // Subscriptions: Kari subscribes on the portal (email) and confirms from her mail; Sam
  // subscribes by SMS (ABONNER SENTRUM, then JA) through the real Kannel.
  await citizen.goto(`${base}/k/demo/subscribe`);
  await axe(citizen, "subscribe");
  await citizen.fill("#email", "kari@nordby.no");
  await citizen.check("label:has-text('Sentrum') input");
  await citizen.click("form[action='/k/demo/subscribe'] button[type=submit]");
  await citizen.waitForSelector(".alert.success");
  check((await citizen.textContent(".alert.success")).includes("e-post"), "the portal says a confirmation was sent");
  const confirmation = (await mailFor("kari", 1))[0];
  check(confirmation && confirmation.subject.includes("Bekreft"), "the confirmation reaches the real SMTP server and the mailbox");
  const confirmLink = confirmation?.body.match(/https?:\/\/\S+\/confirm/)?.[0].replace(/^https?:\/\/[^/]+/, base);
  await citizen.goto(confirmLink);
  await axe(citizen, "subscription page (waiting for confirmation)");
  await citizen.click("#confirm");
  await citizen.waitForSelector(".alert.success");
  check((await citizen.textContent(".alert.success")).includes("bekreftet"), "Kari confirms with one click on her own page");
  // The administrator's page set a gateway of its own above: back to the real Kannel's.
  const again = torg("sms", "set", "--municipality", "demo", "--url", mail.sendsms_url, "--username", mail.sms_username, "--password", mail.sms_password, "--sender", mail.sms_sender);
  smsHook = `${base}${again.match(/\/hooks\/sms\/demo\?key=[^\s&]+/)[0]}`;
  const sam = "4791112222";
  citizenSms(sam, "ABONNER SENTRUM");
  const ask = await smsTo(sam, 1);
  check(ask.length === 1 && ask[0].text.includes("JA"), "Sam is asked by SMS to answer JA");
  citizenSms(sam, "JA");
  const welcome = await smsTo(sam, 2);
  check(welcome.length === 2 && welcome[1].text.includes("/k/demo/subscription/"), "Sam's JA confirms, and he gets his own link");

  // Kim declares a crisis for Sentrum: banner, CAP alert, SMS and email to the subscribers.
  await kim.click("nav.staff-nav a[href='/staff/crisis']");
  await axe(kim, "crisis page");
  await kim.selectOption("#template", "water");
  await kim.check("form[action='/staff/crisis'] label:has-text('Sentrum') input");
  await kim.fill("#text", "Det er funnet E. coli i vannverket.");
  const declared = Date.now();
  await kim.click("form[action='/staff/crisis'] button[type=submit]");
  await kim.waitForSelector(".alert.success");
  const roomUrl = kim.url().split("?")[0];
  await citizen.goto(`${base}/k/demo`);
  check(await citizen.isVisible(".crisis-banner"), `the banner is on the portal (${Date.now() - declared} ms after declaring)`);
  check((await citizen.textContent(".crisis-banner")).includes("Kok drikkevannet"), "the banner says what to do");
  await axe(citizen, "portal with the crisis banner");
  await citizen.screenshot({ path: join(screenshots, "crisis-banner.png") });
  await citizen.click(".crisis-banner a");
  await axe(citizen, "crisis page on the portal");
  const feed = await (await fetch(`${base}/k/demo/cap.atom`)).text();
  const capUrl = feed.match(/href="([^"]+\/cap\/\d+\.xml)"/)?.[1];
  const capXml = await (await fetch(capUrl)).text();
  const capFile = join(dataDir, "alert.xml");
  writeFileSync(capFile, capXml);
  let capValid = true;
  try {
    execFileSync("xmllint", ["--noout", "--schema", resolve("crates/torg-http/tests/schemas/CAP-v1.2.xsd"), capFile], { stdio: "pipe" });
  } catch (e) { capValid = false; console.error(String(e.stderr)); }
  check(capValid && capXml.includes("<msgType>Alert</msgType>"), "the CAP alert in the feed validates against OASIS's schema");
  const samAlert = await smsWith(sam, "Det er funnet E. coli");
  check(samAlert?.text.startsWith("Kok drikkevannet"), "the alert reaches Sam's phone through Kannel");
  // Sam asks about it by SMS too: his question is an inquiry on the SMS channel.
  citizenSms(sam, "Er vannet trygt i Sentrum nå?");
  for (let i = 0; i < 100; i++) {
    const list = await (await fetch(`${base}/api/v1/inquiries?channel=sms`, { headers: { authorization: `Bearer ${apiToken}` } })).text();
    if (list.includes("Er vannet trygt")) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const kariMail = await mailFor("kari", 2);
  check(kariMail.length === 2 && kariMail[1].subject.includes("Kok drikkevannet") && kariMail[1].raw.includes("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "the alert reaches Kari's mailbox, with one-click unsubscribe");

  // The flood: fifty inquiries about it, proposed, linked at once, answered with the status.
  const asked = [];
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${base}/api/v1/inquiries`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ citizen_name: `Innbygger ${i}`, email: `innbygger${i}@nordby.no`, body: `Kan vi drikke vannet i Sentrum? (${i})`, external_id: `flom-${i}` }),
    });
    if (res.status === 201) asked.push((await res.json()).inquiry.id);
  }
  check(asked.length === 50, "fifty inquiries about the water arrive");
  await kim.goto(roomUrl);
  check((await kim.locator("input[name=inquiry]").count()) === 51, "all fifty, and Sam's SMS, are proposed for linking");
  await axe(kim, "crisis room with proposals");
  await kim.click("#link-proposals");
  await kim.waitForSelector(".alert.success");
  check((await kim.textContent("#flood-h ~ h3")).includes("51"), "all of them linked at once");
  await kim.goto(`${base}/staff`);
  check((await kim.textContent("main")).includes("51 henvendelser er knyttet til krisen"), "the inbox points to the linked inquiries together");
  check((await kim.locator(".crisis-badge").count()) > 0, "the inbox marks the linked inquiries");
  await axe(kim, "inbox during a crisis");
  await kim.goto(roomUrl);
  await kim.click("#answer-linked");
  await kim.waitForSelector(".alert.success");
  const inquiryJson = async (id) => (await (await fetch(`${base}/api/v1/inquiries/${id}`, { headers: { authorization: `Bearer ${apiToken}` } })).json());
  const answered = await inquiryJson(asked[17]);
  check(JSON.stringify(answered).includes("Kok vannet"), "each linked inquiry is answered with the status");
  await kim.fill("#update-text", "Tankbil står ved Sentrum skole fra kl. 20.");
  await kim.click("form[action$='/update'] button[type=submit]");
  await kim.waitForSelector(".alert.success");
  check(JSON.stringify(await inquiryJson(asked[42])).includes("Tankbil står ved Sentrum skole"), "the update reaches the linked inquiries too");
  check(await smsWith(sam, "Kok vannet i minst"), "Sam's SMS question is answered with the status by SMS");
  check(await smsWith(sam, "Tankbil"), "the update reaches Sam's phone");
  await kim.fill("#end-text", "Vannet er trygt å drikke igjen.");
  await kim.click("form[action$='/end'] button[type=submit]");
  await kim.waitForSelector(".alert.success");
  const log = await kim.textContent("#log-h + table");
  check(["Alert", "51 inquiries linked", "51 linked inquiries answered", "Update", "Cancel"].every((w) => log.includes(w)), "the crisis log has every step");
  await axe(kim, "crisis room, ended");
  await citizen.goto(`${base}/k/demo`);
  check(!(await citizen.isVisible(".crisis-banner")), "the banner is gone when the crisis ends");

  check(await smsWith(sam, "Vannet er trygt"), "the end reaches Sam's phone");
  await new Promise((r) => setTimeout(r, 2000));

  // A drill: only the test recipients get messages, marked ØVELSE; the banner only for staff.
  const before = smsSeen.length;
  await kim.goto(`${base}/staff/crisis`);
  await kim.selectOption("#template", "power");
  await kim.check("form[action='/staff/crisis'] label:has-text('Sentrum') input");
  await kim.check("#drill");
  await kim.click("form[action='/staff/crisis'] button[type=submit]");
  await kim.waitForSelector(".alert.success");
  const drillSms = await smsWith("4790000001", "ØVELSE: Strømbrudd");
  check(drillSms?.text.startsWith("ØVELSE: Strømbrudd"), "the drill reaches the test recipient, marked ØVELSE");
  await new Promise((r) => setTimeout(r, 2000));
  check(smsSeen.slice(before).every((m) => m.to === "4790000001"), "nobody else gets the drill");
  check((await kim.textContent(".crisis-banner")).includes("ØVELSE"), "staff see the drill's banner");
  await citizen.goto(`${base}/k/demo`);
  check(!(await citizen.isVisible(".crisis-banner")), "the public sees no banner for a drill");
  await chatter.screenshot({ path: join(screenshots, "chat.png") });

  // The chat is remembered for this browser session only, and "end the chat" forgets it.
  const stored = await chatter.evaluate(() => [sessionStorage.getItem("torg-chat-vika"), localStorage.getItem("torg-chat-vika")]);
  check(stored[0] && stored[0].includes("/chat/vika/c/") && stored[1] === null, "the conversation is kept for the session only");
  await chatter.goto(`${base}/chat/vika`);
  await chatter.waitForSelector("#chat-log");
  check(true, "a reload in the same session comes back to the conversation");
  await chatter.click("#chat-end");
  await chatter.waitForSelector("#chat-first");
  await chatter.goto(`${base}/chat/vika`);
  await chatter.waitForSelector("#chat-first");
  check(await chatter.isHidden("#chat-log"), "after ending, the chat starts anew");

  // Evaluation: the year at a glance, pictures with the numbers beside them, CSV.
  await kim.goto(`${base}/staff/evaluation`);
  await kim.waitForSelector("svg[role=img]");
  check((await kim.textContent("main")).includes("Tilfredshet etter avsluttet sak"), "the evaluation page shows satisfaction");
  check((await kim.textContent("main")).includes("Raskt og greit svar."), "the citizen's comment is on the evaluation page");
  await axe(kim, "evaluation");
  await kim.screenshot({ path: join(screenshots, "evaluation.png"), fullPage: true });
  const csv = await kim.evaluate(async () => (await fetch("/staff/evaluation/channels.csv")).text());
  check(csv.startsWith("channel,inquiries,inquiries_before,change_percent"), "the table downloads as CSV");
  await kim.check("#pub-channels");
  await kim.check("#pub-satisfaction");
  await kim.click("form[action='/staff/evaluation/settings'] button[type=submit]");
  await kim.waitForSelector(".alert.success");
  await citizen.goto(`${base}/k/demo/statistics`);
  check((await citizen.textContent("main")).includes("Henvendelser per kanal"), "the published figures are on the portal");
  await axe(citizen, "public statistics");
  const open = await citizen.evaluate(async () => (await fetch("/k/demo/statistics.json")).json());
  check(open.licence.id === "NLOD-2.0" && Array.isArray(open.tables.channels), "open data as JSON with its licence");

  // Listening: a feed and a keyword; the match is on the page within a minute.
  await kim.goto(`${base}/staff/listening`);
  await kim.selectOption("#s-kind", "feed");
  await kim.fill("#s-name", "Lokalavisa");
  await kim.fill("#s-address", `${networksBase}/lokalavisa.xml`);
  await kim.click("form[action='/staff/listening/sources'] button[type=submit]");
  await kim.waitForSelector(".alert.success");
  await kim.fill("#k-words", "gasslukt\nflom");
  await kim.click("form[action='/staff/listening/keywords'] button[type=submit]");
  await kim.waitForSelector(".alert.success");
  let heard = false;
  for (let i = 0; i < 60 && !heard; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    await kim.goto(`${base}/staff/listening`);
    heard = (await kim.textContent("main")).includes("Sterk gasslukta ved Fjordgata skole");
  }
  check(heard, "the listening match is on the page within a minute");
  check((await kim.innerHTML("main")).includes("<mark>gasslukta</mark>"), "the matched word form is marked");
  await axe(kim, "listening");
  await kim.click("article.match form:has(input[value=dismiss]) button");
  await kim.waitForSelector(".alert.success");
  check((await kim.textContent("main")).includes("Ingen nye treff"), "a dismissed match leaves the list");
} finally {
  await browser.close();
  server.kill("SIGINT");
  servers.stdin.end();
  networks.close();
  rmSync(dataDir, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`${failures.length} browser check(s) failed`);
  process.exit(1);
}
console.log("All browser checks passed.");
