/* The suggested reply's Use button (ai/templates/ai/suggestions/_panel.html): puts the draft in
   the inbox composer's message box, editable, and names the suggestion in the composer's hidden
   origin field, so the send records the draft as used or edited (messaging/signals.py). htmx
   posts the Use itself (audited). A static file: the Content-Security-Policy allows no inline
   script. docs/design/agent.md, "Suggestions in the inbox". */
(function () {
  "use strict";
  if (window.wecareAiSuggestions) return; // the panel is drawn again and again; listen once
  window.wecareAiSuggestions = true;

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-ai-use]") : null;
    if (!button) return;
    var form = document.querySelector("form[data-composer]");
    var box = form && form.querySelector("textarea[name=text]:not([form])");
    var note = button.parentElement.querySelector(".ai-use-note");
    if (!box) {
      // Outside the 24-hour window the composer takes only a template: nothing to put text in.
      if (note) { note.hidden = false; note.textContent = "The composer takes only a template now."; }
      return;
    }
    box.value = button.getAttribute("data-text") || "";
    var origin = form.querySelector("[data-composer-origin]");
    if (origin) origin.value = button.getAttribute("data-origin") || "";
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    box.dispatchEvent(new Event("input", { bubbles: true })); // presence's "typing", the composer's checks
    if (note) { note.hidden = false; note.textContent = "In the message box below: edit it, then Send there."; }
  });
})();
