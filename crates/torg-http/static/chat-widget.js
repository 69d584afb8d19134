// Torg's chat widget. On the municipality's site:
//   <link rel="stylesheet" href="https://torg.example.no/static/chat-widget.css">
//   <script src="https://torg.example.no/static/chat-widget.js" data-municipality="nordby" defer></script>
// A button opens a panel with Torg's chat page in a frame; Escape or "Lukk" closes it and
// gives focus back to the button. data-label and data-close change the words.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.municipality) return;
  var origin = new URL(script.src).origin;
  var lang = (document.documentElement.lang || "nb").slice(0, 2);
  var label = script.dataset.label || (lang === "sv" ? "Chatta med oss" : lang === "en" ? "Chat with us" : "Chat med oss");
  var closeLabel = script.dataset.close || (lang === "sv" ? "Stäng" : lang === "en" ? "Close" : "Lukk");
  var start = function () {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "torg-chat-button";
    button.textContent = label;
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", "torg-chat-panel");
    var panel = document.createElement("div");
    panel.id = "torg-chat-panel";
    panel.className = "torg-chat-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", label);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "torg-chat-close";
    close.textContent = closeLabel;
    var frame = null;
    var open = function () {
      if (!frame) {
        frame = document.createElement("iframe");
        frame.title = label;
        frame.src = origin + "/chat/" + encodeURIComponent(script.dataset.municipality);
        panel.append(frame);
      }
      panel.hidden = false;
      button.setAttribute("aria-expanded", "true");
      close.focus();
    };
    var hide = function () {
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
      button.focus();
    };
    button.addEventListener("click", function () { panel.hidden ? open() : hide(); });
    close.addEventListener("click", hide);
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
    panel.append(close);
    document.body.append(panel, button);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
