// The media page: upload with a progress bar (XMLHttpRequest reports upload progress;
// fetch does not), then reload the list. The CSRF token goes in its header.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const file = document.getElementById("upload-file");
  const site = document.getElementById("upload-site");
  const row = form.querySelector(".progress-row");
  const bar = document.getElementById("upload-progress");
  const percent = document.getElementById("upload-percent");
  const error = document.getElementById("upload-error");
  const done = document.getElementById("upload-done");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.textContent = "";
    file.removeAttribute("aria-invalid");
    if (!file.files.length) {
      error.textContent = form.dataset.msgChoose;
      file.setAttribute("aria-invalid", "true");
      file.focus();
      return;
    }
    const body = new FormData();
    body.append("file", file.files[0]);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/admin/media/upload?site_id=" + encodeURIComponent(site.value));
    xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
    row.hidden = false;
    done.hidden = true;
    button.disabled = true;
    bar.value = 0;
    bar.dataset.seen = "0";
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const p = Math.floor((100 * e.loaded) / e.total);
      bar.value = p;
      bar.textContent = percent.textContent = p + " %";
      bar.dataset.seen += "," + p;
    });
    xhr.addEventListener("load", () => {
      button.disabled = false;
      let answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 100;
        percent.textContent = "100 %";
        done.textContent = form.dataset.msgDone.replace("%(name)s", answer.original_name || "");
        done.hidden = false;
        window.setTimeout(() => window.location.reload(), 800);
      } else {
        error.textContent = answer.error || form.dataset.msgFailed;
        file.setAttribute("aria-invalid", "true");
      }
    });
    xhr.addEventListener("error", () => {
      button.disabled = false;
      error.textContent = form.dataset.msgFailed;
    });
    xhr.send(body);
  });
});
