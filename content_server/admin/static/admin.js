// The admin's own script (no inline scripts: the pages' CSP allows only this origin).
// Confirmation of dangerous buttons: <button data-confirm="...">.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const message = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
// Live regions fed by server-sent events: <div data-sse="/admin/..." data-sse-event="fleet">
// gets the HTML of each event (rendered and escaped by the server).
function startLive(el) {
  const source = new EventSource(el.dataset.sse);
  source.addEventListener(el.dataset.sseEvent || "message", (e) => {
    el.innerHTML = e.data;
    el.dataset.updated = String(Date.now());
    if (window.htmx) window.htmx.process(el);
  });
  source.addEventListener("signed-out", () => { source.close(); window.location.reload(); });
}
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-sse]").forEach(startLive);
});
