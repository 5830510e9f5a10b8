// Report pages: the print button (no inline scripts under the pages' CSP) and the
// uptime meters' widths (inline styles are refused by the CSP too).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".meter .fill[data-pct]").forEach((el) => {
    el.style.width = Math.max(0, Math.min(100, Number(el.dataset.pct))) + "%";
  });
  document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
});
