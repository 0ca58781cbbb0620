/* WECARE.DIGITAL's own page script. Every script the pages run is a static file (the
   Content-Security-Policy allows no inline script and no eval), so behaviour that used to sit in
   onclick= attributes or htmx trigger filters lives here. See docs/security.md. */
(function () {
  "use strict";

  /* The narrow-screen menu: the toggle opens or closes the sidebar (keeping aria-expanded true),
     and choosing an item in it closes it again. */
  function setMenu(open) {
    document.body.classList.toggle("nav-open", open);
    document.querySelectorAll(".menu-toggle").forEach(function (b) { b.setAttribute("aria-expanded", String(open)); });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest(".menu-toggle")) {
      setMenu(!document.body.classList.contains("nav-open"));
    } else if (target.closest("#sidebar a")) {
      setMenu(false);
    }
  });

  function csrfToken() {
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    return headers["X-CSRFToken"] || "";
  }

  /* A conversation's messages are marked read by a POST once the page shows them to someone
     looking at it: never by a GET (a link on another site must not change anything), and not
     while the tab is hidden. The server marks only messages up to the newest one drawn, so one
     that arrives after the page was drawn stays unread until a redraw shows it. */
  function markShownRead() {
    if (document.visibilityState !== "visible") return;
    document.querySelectorAll("[data-read-url]:not([data-read-posted])").forEach(function (el) {
      el.setAttribute("data-read-posted", "");
      postRead(el, 0);
    });
  }

  var READ_ATTEMPTS = 4;

  function postRead(el, attempt) {
    var body = new URLSearchParams({ since: el.dataset.readSince || "", until: el.dataset.readUntil || "" });
    fetch(el.dataset.readUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      // Not a person's action (it follows what a poll drew): it must not extend an idle session.
      headers: { "X-CSRFToken": csrfToken(), "X-Background-Request": "true" },
      redirect: "manual", // after the idle timeout the answer is a redirect to the login page
    }).then(function (response) {
      if (response.status === 204) {
        el.setAttribute("data-read-posted", "done");
      } else {
        // After the session ended (the login redirect) there is no one to mark it read for.
        retryRead(el, attempt, response.type !== "opaqueredirect");
      }
    }, function () { retryRead(el, attempt, true); });
  }

  /* A mark lost to a dropped connection or a restarting server is tried again a few times, later
     each time: the timeline's poll answers "nothing new" and would not draw it again, so the
     conversation would stay unread until the customer wrote again. */
  function retryRead(el, attempt, worthRetrying) {
    if (!worthRetrying || attempt + 1 >= READ_ATTEMPTS) {
      el.setAttribute("data-read-posted", "failed");
      return;
    }
    setTimeout(function () { if (el.isConnected) postRead(el, attempt + 1); }, 1000 * Math.pow(2, attempt));
  }

  /* A hidden tab skips the timeline's background poll (it would redraw what nobody sees); it
     catches up on the first poll after the tab is shown again. Events (a reply sent) still redraw. */
  document.addEventListener("htmx:confirm", function (event) {
    var detail = event.detail;
    if (document.visibilityState !== "visible" && !detail.triggeringEvent && detail.elt.matches("[data-poll-while-visible]")) {
      event.preventDefault();
    }
  });

  /* A template's live preview: each variable's field (data-fills="body-2") writes its value into
     the rendered template's slot (data-fill="body-2") as it is typed, and an empty one says it is
     missing, as the server draws it (messaging/_template_fields.html). The check that enables
     Send is the server's, redrawn by htmx; this only shows the text. */
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.dataset.fills) return;
    var scope = input.closest("form") || document;
    scope.querySelectorAll("[data-fill]").forEach(function (slot) {
      if (slot.dataset.fill !== input.dataset.fills) return;
      var value = input.value.trim();
      slot.textContent = value || slot.dataset.missing || "";
      slot.classList.toggle("missing", !value);
    });
  });

  htmx.onLoad(markShownRead);
  document.addEventListener("visibilitychange", markShownRead);

  /* On a phone a table.responsive stacks each row's cells and hides the header row: each cell gets
     its column's name in data-label, which app.css shows above the value. Done here, for every
     table, so no page has to repeat its headers in each cell. */
  function labelCells() {
    document.querySelectorAll("table.responsive").forEach(function (table) {
      var names = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var name = names[column];
          column += cell.colSpan || 1;
          if (cell.colSpan > 1 || !name || cell.hasAttribute("data-label") || cell.querySelector(".sr-label")) return;
          cell.setAttribute("data-label", name);
        });
      });
    });
  }

  /* A table wider than its box scrolls inside .table-wrap: that box must take the keyboard focus,
     or someone without a mouse cannot scroll it (WCAG 2.1.1), and say what it holds. */
  function focusableScrollers() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        var caption = wrap.querySelector("caption");
        var heading = wrap.closest("section, article, main");
        heading = heading && heading.querySelector("h1, h2, h3");
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", ((caption || heading || {}).textContent || "Table").trim() + " (scrolls sideways)");
        wrap.setAttribute("data-scroll-focus", "");
      } else if (!scrolls && wrap.hasAttribute("data-scroll-focus")) {
        ["tabindex", "role", "aria-label", "data-scroll-focus"].forEach(function (a) { wrap.removeAttribute(a); });
      }
    });
  }

  htmx.onLoad(function () { labelCells(); focusableScrollers(); });
  window.addEventListener("resize", focusableScrollers);
})();
