/* Bulk export (bulk_export.html): start a zip of the lessons chosen, poll its progress, then offer the
   download. The server makes it with the CLI's code (monitor.reports.bulk). */
"use strict";
(function () {
  const root = document.getElementById("bulk-export");
  if (!root) return;
  const form = document.getElementById("bulk-export-form");
  const bar = document.getElementById("export-progress");
  const status = document.getElementById("export-status");
  const link = document.getElementById("export-download");
  const button = document.getElementById("export-start");
  const fill = (text, vars) => text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));

  function show(job) {
    bar.hidden = false;
    bar.max = Math.max(job.total, 1);
    bar.value = job.done;
    if (job.state === "done") {
      status.textContent = fill(root.dataset.ready, { total: job.total, size: Math.max(1, Math.round(job.size / 1000)) });
      link.href = job.download;
      link.setAttribute("download", job.filename);
      link.hidden = false;
    } else if (job.state === "failed") {
      status.textContent = `${root.dataset.failed} ${job.message}`;
    } else {
      status.textContent = fill(root.dataset.making, { done: job.done, total: job.total });
    }
  }

  async function poll(url) {
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      let job;
      try { job = await CM.getJSON(url); } catch (e) { status.textContent = `${root.dataset.failed} ${e.message}`; return; }
      if (!job) return;
      show(job);
      if (job.state !== "running") return;
    }
  }

  form.addEventListener("submit", async (evt) => {
    evt.preventDefault();
    link.hidden = true;
    const data = new FormData(form);
    const body = {
      label: data.get("label") || null,
      camera_id: data.get("camera_id") || null,
      from: data.get("from") || null,
      to: data.get("to") || null,
      formats: data.getAll("formats"),
    };
    button.disabled = true;
    try {
      const { ok, status: code, body: job } = await CM.sendJSON(root.dataset.startUrl, body);
      if (!ok) {
        status.textContent = `${root.dataset.failed} ${(job && job.message) || CM.t("error {status}", { status: code })}`;
        return;
      }
      show(job);
      if (job.state === "running") await poll(`${root.dataset.startUrl}/${job.id}`);
    } finally {
      button.disabled = false;
    }
  });
})();
