/* The dashboard (messaging/templates/messaging/dashboard.html): each figure's chart is drawn with
   Chart.js from the table under it, so the chart and the table always show the same figures. A
   static file: the Content-Security-Policy allows no inline script (docs/security.md); Chart.js
   needs no eval and styles its canvas through the DOM only. docs/design/operations.md. */
(function () {
  "use strict";
  // The site's ink, green, red and grey, then two more for a sixth series.
  var PALETTE = ["#111111", "#0a7a2f", "#b00020", "#666666", "#1f5fa8", "#a86b00"];

  function value(cell) {
    var raw = cell ? cell.getAttribute("data-value") : "";
    return raw === null || raw === "" ? null : Number(raw);
  }

  function draw(figure) {
    var table = figure.querySelector("table");
    var canvas = figure.querySelector("canvas");
    if (!table || !canvas || figure.hasAttribute("data-drawn")) return;
    figure.setAttribute("data-drawn", "");
    var kind = figure.getAttribute("data-chart");
    var stacked = figure.hasAttribute("data-stacked");
    var unit = figure.getAttribute("data-unit") || "";
    var rows = Array.prototype.filter.call(table.tBodies[0].rows, function (row) {
      return !row.hasAttribute("data-empty");
    });
    var datasets = [];
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      if (!th.hasAttribute("data-series")) return;
      var colour = PALETTE[datasets.length % PALETTE.length];
      datasets.push({
        label: th.textContent.trim(),
        data: rows.map(function (row) { return value(row.cells[column]); }),
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: kind === "line" ? 2 : 0,
        // Points on a short line (days), so a day alone between blanks still shows; none on 48 hours.
        pointRadius: kind === "line" && rows.length <= 20 ? 2 : 0,
        spanGaps: false
      });
    });
    new window.Chart(canvas, {
      type: kind,
      data: { labels: rows.map(function (row) { return row.cells[0].textContent.trim(); }), datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          // A few categories (the five queues) are each named, turned if the width needs it (320 px
          // showed two of five queue names); hours and days skip labels to stay level.
          x: {
            stacked: stacked,
            ticks: { autoSkip: rows.length > 8, maxRotation: rows.length > 8 ? 0 : 60, autoSkipPadding: 12 }
          },
          y: {
            stacked: stacked,
            beginAtZero: true,
            ticks: { precision: 0, callback: function (v) { return unit ? v + " " + unit : v; } }
          }
        },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
      }
    });
  }

  function drawAll() {
    if (!window.Chart) return;
    document.querySelectorAll("figure[data-chart]").forEach(draw);
  }

  // htmx (a boosted link) may insert this file before Chart.js has loaded: then draw on its load.
  var lib = document.querySelector("script[data-chart-lib]");
  if (window.Chart) drawAll();
  else if (lib) lib.addEventListener("load", drawAll);
  document.addEventListener("DOMContentLoaded", drawAll);
})();
