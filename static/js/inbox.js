/* The one inbox (messaging/templates/messaging/inbox/inbox.html): the thread opens at its newest
   message and keeps its place when older ones load above or new ones arrive; keys (J/K next and
   previous conversation, Ctrl/Cmd+Enter send, E resolve, / canned replies); the unread count in
   the tab title; an optional sound and desktop notification when a customer writes (off unless
   this browser turned it on; the permission is asked only then). A static file: the
   Content-Security-Policy allows no inline script (docs/security.md). docs/design/inbox.md. */
(function () {
  "use strict";
  if (window.wecareInbox) return; // htmx may run this file again when a boosted page includes it
  window.wecareInbox = true;

  var NOTIFY_KEY = "wecare.inbox.notify";
  var lastUnread = null;

  function inbox() { return document.querySelector("[data-inbox]"); }
  function timeline() { return document.querySelector("[data-timeline]"); }

  /* --- the thread: newest at the bottom, place kept ------------------------------------------ */

  function atBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 40; }

  function openAtNewest() {
    var el = timeline();
    if (!el || el.hasAttribute("data-opened")) return;
    el.setAttribute("data-opened", "");
    if (el.scrollHeight > el.clientHeight) {
      el.scrollTop = el.scrollHeight; // the thread scrolls inside its pane (a wide screen)
    } else {
      // A phone: the page scrolls as one; bring the newest message just above the composer,
      // which stays at the bottom of the screen (position: sticky).
      var last = el.querySelector("#latest .message:last-child") || el;
      var composer = document.querySelector("#reply");
      var room = window.innerHeight - (composer ? composer.offsetHeight : 0);
      window.scrollBy(0, last.getBoundingClientRect().bottom - room);
    }
  }

  var keep = null; // what to restore after a swap inside the thread
  document.addEventListener("htmx:beforeSwap", function (event) {
    var el = timeline();
    if (!el || !el.contains(event.detail.target)) return;
    var older = event.detail.target.closest(".older-slot");
    keep = { el: el, older: !!older, fromBottom: el.scrollHeight - el.scrollTop, stick: atBottom(el) };
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    // New messages in the thread: the panels other apps put beside it (messaging/inbox/panels.py)
    // load again, so they never stay on a conversation that has moved on.
    var target = event.detail.target;
    if (target && target.id === "latest") {
      document.body.dispatchEvent(new CustomEvent("inbox:thread-changed"));
    }
    if (!keep) return;
    var el = keep.el;
    if (keep.older) {
      el.scrollTop = el.scrollHeight - keep.fromBottom; // older messages above: what was read stays put
    } else if (keep.stick) {
      el.scrollTop = el.scrollHeight; // a new message while at the bottom: follow it
    }
    keep = null;
  });

  /* --- the tab title and notifications --------------------------------------------------------- */

  function unreadTotal() {
    var list = document.querySelector("#conversations[data-unread-total]");
    return list ? parseInt(list.getAttribute("data-unread-total"), 10) || 0 : null;
  }

  function showUnread() {
    var total = unreadTotal();
    if (total === null) return;
    var base = document.title.replace(/^\(\d+\)\s*/, "");
    document.title = (total > 0 ? "(" + total + ") " : "") + base;
    document.querySelectorAll("[data-inbox-unread]").forEach(function (badge) {
      badge.textContent = String(total);
      badge.hidden = total === 0;
    });
    if (lastUnread !== null && total > lastUnread) notify(total - lastUnread);
    lastUnread = total;
  }

  function notifyOn() {
    try { return window.localStorage.getItem(NOTIFY_KEY) === "on"; } catch (e) { return false; }
  }

  function drawToggle() {
    document.querySelectorAll('[data-action="notify-toggle"]').forEach(function (b) {
      var on = notifyOn();
      b.setAttribute("aria-pressed", String(on));
      b.textContent = on ? "Notify: on" : "Notify: off";
    });
  }

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    var audio = new Context();
    var tone = audio.createOscillator();
    var gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.05;
    tone.connect(gain);
    gain.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
  }

  function notify(count) {
    if (!notifyOn()) return;
    beep();
    if ("Notification" in window && Notification.permission === "granted" && document.visibilityState !== "visible") {
      new Notification("WECARE.DIGITAL inbox", { body: count === 1 ? "A customer wrote." : count + " new customer messages." });
    }
  }

  function toggleNotify() {
    var on = !notifyOn();
    try { window.localStorage.setItem(NOTIFY_KEY, on ? "on" : "off"); } catch (e) { /* private mode: stays off */ }
    if (on && "Notification" in window && Notification.permission === "default") Notification.requestPermission();
    drawToggle();
  }

  /* --- keys ---------------------------------------------------------------------------------- */

  function typing(target) {
    return target instanceof Element && !!target.closest("input, textarea, select, [contenteditable]");
  }

  function move(step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#conversations [data-conversation]"));
    if (!rows.length) return;
    var at = rows.findIndex(function (r) { return r.classList.contains("current"); });
    var next = rows[Math.min(rows.length - 1, Math.max(0, at < 0 ? 0 : at + step))];
    var link = next && next.querySelector("a.row");
    if (link && next !== rows[at]) link.click();
  }

  document.addEventListener("keydown", function (event) {
    if (!inbox()) return;
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      var form = target instanceof Element ? target.closest("form[data-composer]") : null;
      var send = form && form.querySelector('button[data-action="send"]');
      if (send && !send.disabled) {
        event.preventDefault();
        send.click();
      }
      return;
    }
    if (typing(target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      move(event.key === "j" ? 1 : -1);
    } else if (event.key === "e") {
      // Resolve: the conversation header's control (data-action="resolve"), when it is there.
      var resolve = document.querySelector('[data-action="resolve"]');
      if (resolve) { event.preventDefault(); resolve.click(); }
    } else if (event.key === "/") {
      // Canned replies: "/" typed into the composer's message box opens their picker
      // (static/js/inbox-work.js), so the key puts it there.
      var box = document.querySelector("textarea[data-send-on-ctrl-enter]");
      if (box && !box.disabled) {
        event.preventDefault();
        box.focus();
        if (!box.value) {
          box.value = "/";
          box.dispatchEvent(new Event("input", { bubbles: true }));
        }
      }
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest('[data-action="notify-toggle"]') : null;
    if (target) toggleNotify();
  });

  /* The list's filters apply when one is changed (a GET form; its button stays for keyboards). */
  document.addEventListener("change", function (event) {
    var form = event.target instanceof Element ? event.target.closest("form[data-autosubmit]") : null;
    if (form && event.target.matches("select")) form.requestSubmit();
  });

  function ready() {
    if (!inbox()) { lastUnread = null; return; }
    // After htmx's own scroll to the top of a page it swapped in (show:window:top).
    window.requestAnimationFrame(openAtNewest);
    drawToggle();
    showUnread();
  }

  htmx.onLoad(ready);
  ready();
})();
