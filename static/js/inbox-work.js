/* The inbox's conversation work (messaging/templates/messaging/inbox/work/): presence pings while a
   conversation is open and while its person types, the Undo that goes away after ~10 s, the warning
   that a colleague replied, the Reply / Private note switch, and the canned replies picker on "/".
   A static file, as the Content-Security-Policy requires; the header partial loads it with every
   conversation, so it sets itself up once. */
(function () {
  "use strict";
  if (window.inboxWorkLoaded) return;
  window.inboxWorkLoaded = true;

  var PING_MS = 8000; // presence lasts 20 s on the server: two missed pings and the person is gone
  var TYPING_MS = 2000; // at most one "typing" ping per 2 s of keystrokes

  function csrfToken() {
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    return headers["X-CSRFToken"] || "";
  }

  /* A page's own pings are not use (the idle timeout ignores them); typing and a note are. */
  function post(url, fields, extraHeaders) {
    var headers = Object.assign({ "X-CSRFToken": csrfToken() }, extraHeaders || {});
    return fetch(url, { method: "POST", body: fields, credentials: "same-origin", headers: headers, redirect: "manual" });
  }

  /* --- presence ------------------------------------------------------------------------------ */
  var current = null; // {key, url} of the conversation this page shows
  var lastTyping = 0;

  function header() { return document.getElementById("work-header"); }

  function ping(typing) {
    if (!current || document.visibilityState !== "visible") return;
    var headers = typing ? {} : { "X-Background-Request": "true" };
    post(current.url, new URLSearchParams({ typing: typing ? "1" : "0" }), headers).catch(function () {});
  }

  function leave(conversation) {
    var body = new FormData();
    body.append("leave", "1");
    body.append("csrfmiddlewaretoken", csrfToken());
    if (navigator.sendBeacon) navigator.sendBeacon(conversation.url, body);
  }

  /* The page may change conversation without unloading (htmx swaps): follow the header. */
  function follow() {
    var el = header();
    var next = el ? { key: el.dataset.workKey, url: el.dataset.presenceUrl } : null;
    if (current && (!next || next.key !== current.key)) leave(current);
    var changed = !current || !next || next.key !== current.key;
    current = next;
    if (changed && current) ping(false);
  }

  setInterval(function () { follow(); ping(false); }, PING_MS);
  window.addEventListener("pagehide", function () { if (current) leave(current); });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") ping(false); });

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLTextAreaElement) || !composerOf(target)) return;
    var now = Date.now();
    if (now - lastTyping > TYPING_MS) {
      lastTyping = now;
      ping(true);
    }
    canned(target);
  });

  /* --- what the server drew: Undo, a colleague's reply --------------------------------------- */
  function settle() {
    follow();
    document.querySelectorAll(".work-undo[data-expires-in]:not([data-timed])").forEach(function (el) {
      el.setAttribute("data-timed", "");
      setTimeout(function () { el.remove(); }, 1000 * Number(el.dataset.expiresIn));
    });
    var live = document.getElementById("work-live");
    var warning = document.querySelector(".work-replied");
    if (live && warning) {
      var who = live.dataset.repliedBy;
      warning.hidden = !who;
      warning.textContent = who ? who + " replied since you opened this conversation: read it before you send." : "";
    }
  }
  /* The 3 s poll redraws the live part when something there changed: an "Assign to…" toggle the
     person had open stays open, so the poll never shuts it under their cursor. */
  var assignWasOpen = false;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "work-live") {
      assignWasOpen = !!document.querySelector("#work-live details.work-more[open]");
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!assignWasOpen) return;
    assignWasOpen = false;
    var toggle = document.querySelector("#work-live details.work-more");
    if (toggle) toggle.open = true;
  });
  document.addEventListener("htmx:afterSettle", settle);
  document.addEventListener("DOMContentLoaded", settle);
  if (document.readyState !== "loading") settle();

  /* --- Reply / Private note ------------------------------------------------------------------ */
  function tools(el) { return el.closest("form") ? el.closest("form").querySelector("[data-work-tools]") : null; }

  /* The composer's own message box: a textarea in the form that holds the work tools, not ours. */
  function composerOf(textarea) {
    if (textarea.id === "work-note-text") return textarea.closest("[data-work-tools]");
    return tools(textarea);
  }

  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (!(radio instanceof HTMLInputElement) || radio.name !== "work-mode") return;
    var box = radio.closest("[data-work-tools]");
    var form = box.closest("form");
    var note = radio.value === "note";
    if (form) form.classList.toggle("work-note-mode", note);
    box.querySelector(".work-note").hidden = !note;
    (note ? box.querySelector("#work-note-text") : form && form.querySelector("textarea:not([form])") || { focus: function () {} }).focus();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "work-note-form") return;
    event.preventDefault();
    var text = document.getElementById("work-note-text");
    var status = document.querySelector(".work-note-status");
    post(form.action, new FormData(form), { "X-Work-Note": "1" }).then(function (response) {
      return response.text().then(function (body) {
        if (response.status === 201) {
          text.value = "";
          status.textContent = "Note added.";
          // The timeline (the inbox page's) draws notes with its messages; tell it there is a new one.
          document.dispatchEvent(new CustomEvent("inbox-work:note-added", { detail: { html: body } }));
        } else {
          status.textContent = response.status === 422 ? body : "The note was not saved: try again.";
        }
      });
    }, function () { status.textContent = "The note was not saved: try again."; });
  });

  /* --- canned replies on "/" ----------------------------------------------------------------- */
  var SLASH = /(^|\s)\/([\w-]*)$/;
  var open = null; // {textarea, list, options, active}

  function canned(textarea) {
    var box = composerOf(textarea);
    var list = box && box.querySelector(".work-canned");
    if (!list) return;
    var match = SLASH.exec(textarea.value.slice(0, textarea.selectionStart));
    if (!match) { close(); return; }
    var typed = match[2].toLowerCase();
    var options = Array.prototype.filter.call(list.querySelectorAll("[role=option]"), function (li) {
      var show = li.dataset.shortcut.indexOf(typed) !== -1 || li.dataset.text.toLowerCase().indexOf(typed) !== -1;
      li.hidden = !show;
      return show;
    });
    if (!options.length) { close(); return; }
    open = { textarea: textarea, list: list, options: options, active: 0 };
    list.hidden = false;
    textarea.setAttribute("aria-controls", list.id);
    textarea.setAttribute("aria-expanded", "true");
    highlight();
  }

  function highlight() {
    open.options.forEach(function (li, i) { li.setAttribute("aria-selected", String(i === open.active)); });
    open.textarea.setAttribute("aria-activedescendant", open.options[open.active].id);
    open.options[open.active].scrollIntoView({ block: "nearest" });
  }

  function close() {
    if (!open) return;
    open.list.hidden = true;
    open.textarea.setAttribute("aria-expanded", "false");
    open.textarea.removeAttribute("aria-activedescendant");
    open = null;
  }

  function insert(li) {
    var textarea = open.textarea;
    var before = textarea.value.slice(0, textarea.selectionStart);
    var after = textarea.value.slice(textarea.selectionStart);
    var start = before.search(/\/[\w-]*$/);
    textarea.value = before.slice(0, start) + li.dataset.text + after;
    var caret = start + li.dataset.text.length;
    textarea.setSelectionRange(caret, caret);
    close();
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("keydown", function (event) {
    if (!open || event.target !== open.textarea) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      open.active = (open.active + step + open.options.length) % open.options.length;
      highlight();
    } else if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      event.stopImmediatePropagation(); // Enter here picks a reply; it must not send the form
      insert(open.options[open.active]);
    } else if (event.key === "Escape") {
      close();
    }
  }, true);

  document.addEventListener("mousedown", function (event) {
    var li = event.target instanceof Element ? event.target.closest(".work-canned [role=option]") : null;
    if (li && open) {
      event.preventDefault(); // keep the focus (and the caret) in the message box
      insert(li);
    } else if (open && event.target !== open.textarea) {
      close();
    }
  });
})();
