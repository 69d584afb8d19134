"use strict";
// The chat page (in the widget's frame, or on its own): live messages by server-sent
// events, sending without a reload, "typing" both ways. Without JavaScript the page's forms
// work and a reload shows new answers.
document.addEventListener("DOMContentLoaded", () => {
  // Come back to an ongoing conversation after the municipality's page is reloaded — for
  // this browser session only: the next person at a shared computer starts anew.
  const path = location.pathname.match(/^\/chat\/([^/]+)(\/c\/[^/?]+)?\/?$/);
  if (path) {
    const key = "torg-chat-" + path[1];
    try {
      localStorage.removeItem(key); // where earlier versions kept it for ever
      const end = document.getElementById("chat-end");
      if (end) end.addEventListener("click", () => sessionStorage.removeItem(key));
      if (location.search.indexOf("new") >= 0) sessionStorage.removeItem(key);
      else if (path[2]) sessionStorage.setItem(key, location.pathname);
      else if (!document.querySelector(".alert")) {
        const saved = sessionStorage.getItem(key);
        if (saved && saved.indexOf("/chat/" + path[1] + "/c/") === 0) {
          location.replace(saved);
          return;
        }
      }
    } catch (e) { /* storage may be blocked: start anew */ }
  }
  const log = document.getElementById("chat-log");
  if (!log) return;
  const status = document.getElementById("chat-status");
  const form = document.getElementById("chat-send");
  const box = document.getElementById("chat-body");
  let typingTimer = 0;
  const say = (text) => {
    status.textContent = text;
  };
  const add = (m) => {
    if (log.querySelector('[data-id="' + m.id + '"]')) return;
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
    body.textContent = m.body; // shown, never run
    li.append(meta, body);
    log.append(li);
    li.scrollIntoView({ block: "end" });
  };
  const events = new EventSource(log.dataset.events);
  events.addEventListener("message", (e) => {
    add(JSON.parse(e.data));
    say("");
  });
  events.addEventListener("typing", (e) => {
    const d = JSON.parse(e.data);
    say(status.dataset.typing.replace("%NAME%", d.name));
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => say(""), 5000);
  });
  events.addEventListener("status", (e) => say(JSON.parse(e.data).text));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = box.value.trim();
    if (!text) return;
    try {
      const res = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams({ body: text }),
        headers: { "x-torg-live": "1" },
      });
      if (res.ok) {
        box.value = "";
        box.focus();
      } else {
        say(await res.text());
      }
    } catch (e) {
      form.submit(); // the network failed: the plain form tries once more
    }
  });
  let lastTyping = 0;
  box.addEventListener("input", () => {
    const now = Date.now();
    if (now - lastTyping > 3000) {
      lastTyping = now;
      fetch(log.dataset.typing, { method: "POST", headers: { "x-torg-live": "1" } }).catch(() => {});
    }
  });
});
