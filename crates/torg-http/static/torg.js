// A little help where JavaScript runs; every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  // Choosing a canned reply fills the reply box at once.
  for (const select of document.querySelectorAll("select[data-canned-target]")) {
    const target = document.getElementById(select.dataset.cannedTarget);
    const button = select.form && select.form.querySelector("button");
    if (button) button.hidden = true;
    select.addEventListener("change", () => {
      const option = select.selectedOptions[0];
      if (target && option && option.dataset.text) { target.value = option.dataset.text; target.focus(); }
    });
  }
  // An SMS reply: how many messages the text takes, as the server counts them
  // (torg_domain::sms: GSM-7 160/153 with the extension table counting twice, else UCS-2 70/67).
  const GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const GSM_EXT = "\f^{}\\[~]|€";
  const TWINS = { "–": "-", "—": "-", "’": "'", "‘": "'", "“": "\"", "”": "\"", "«": "\"", "»": "\"", "…": "...", "\u00a0": " " };
  const segments = (text) => {
    const chars = Array.from(text).map((c) => TWINS[c] || c).join("");
    let sizes = [];
    let gsm = true;
    for (const c of chars) {
      if (GSM.includes(c)) sizes.push(1);
      else if (GSM_EXT.includes(c)) sizes.push(2);
      else { gsm = false; break; }
    }
    if (!gsm) sizes = Array.from(chars).map((c) => (c.codePointAt(0) > 0xffff ? 2 : 1));
    const [single, per] = gsm ? [160, 153] : [70, 67];
    const units = sizes.reduce((a, b) => a + b, 0);
    if (units === 0) return [0, single];
    if (units <= single) return [1, single - units];
    let count = 1, used = 0;
    for (const s of sizes) { if (used + s > per) { count++; used = 0; } used += s; }
    return [count, per - used];
  };
  for (const box of document.querySelectorAll("textarea[data-sms-counter]")) {
    const out = document.getElementById(box.dataset.smsCounter);
    const update = () => {
      const [count, left] = segments(box.value);
      out.textContent = out.dataset.template.replace("%COUNT%", count).replace("%LEFT%", left);
    };
    box.addEventListener("input", update);
  }
  // A live chat on its inquiry page: new messages and who is typing appear by themselves,
  // a reply goes without a reload, and the citizen sees when staff type.
  const live = document.querySelector("[data-chat-events]");
  if (live) {
    const list = live.querySelector("ol.thread");
    const typing = document.getElementById("chat-typing");
    const replyForm = document.querySelector('form[action$="/reply"]');
    const replyBox = document.getElementById("reply-body");
    let timer = 0;
    const add = (m) => {
      if (list.querySelector('[data-id="' + m.id + '"]')) return;
      const li = document.createElement("li");
      li.className = "msg " + m.kind;
      li.dataset.id = m.id;
      const meta = document.createElement("p");
      meta.className = "meta";
      const who = document.createElement("strong");
      who.textContent = m.author;
      const time = document.createElement("time");
      time.dateTime = m.at;
      time.textContent = new Date(m.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      meta.append(who, " · ", time);
      const body = document.createElement("div");
      body.className = "body";
      body.textContent = m.body;
      li.append(meta, body);
      list.append(li);
    };
    const events = new EventSource(live.dataset.chatEvents);
    events.addEventListener("message", (e) => { add(JSON.parse(e.data)); typing.textContent = ""; });
    events.addEventListener("typing", (e) => {
      typing.textContent = typing.dataset.template.replace("%NAME%", JSON.parse(e.data).name);
      clearTimeout(timer);
      timer = setTimeout(() => { typing.textContent = ""; }, 5000);
    });
    if (replyForm && replyBox) {
      const csrf = replyForm.querySelector('input[name="csrf"]').value;
      replyForm.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const res = await fetch(replyForm.action, {
          method: "POST",
          body: new URLSearchParams(new FormData(replyForm)),
          headers: { "x-torg-live": "1" },
        }).catch(() => null);
        if (res && res.status === 204) { replyBox.value = ""; replyBox.focus(); }
        else replyForm.submit();
      });
      let last = 0;
      replyBox.addEventListener("input", () => {
        const now = Date.now();
        if (now - last > 3000) {
          last = now;
          fetch(live.dataset.chatTyping, { method: "POST", body: new URLSearchParams({ csrf }) }).catch(() => {});
        }
      });
    }
  }
  const chatList = document.querySelector("[data-chat-list-events]");
  if (chatList) {
    const events = new EventSource(chatList.dataset.chatListEvents);
    const note = () => { chatList.textContent = chatList.dataset.template; };
    events.addEventListener("started", note);
    events.addEventListener("message", note);
  }
  // Move focus to an error summary so screen readers announce it.
  const error = document.getElementById("form-error");
  if (error) error.focus();
});
