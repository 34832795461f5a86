/* Health page: redraw each worker's row from GET /api/health every few seconds. */
"use strict";
(function () {
  const table = document.getElementById("health");
  if (!table) return;
  const body = table.querySelector("tbody");
  const dash = "–";

  /* The age comes from the server's clock (heartbeat_age_s), so a skewed browser clock cannot lie. */
  function ago(w) {
    if (w.heartbeat_age_s === null || w.heartbeat_age_s === undefined) return CM.t("never");
    const s = Math.max(0, Math.floor(w.heartbeat_age_s));
    if (s < 60) return CM.t("{n} s ago", { n: s });
    if (s < 3600) return CM.t("{n} min ago", { n: Math.floor(s / 60) });
    if (s < 86400) return CM.t("{n} h ago", { n: Math.floor(s / 3600) });
    return CM.dateTime(w.last_heartbeat);
  }

  function cell(text, className) {
    const td = CM.cell(text === null || text === undefined ? dash : String(text));
    if (className) td.className = className;
    return td;
  }

  function stateCell(w) {
    const td = document.createElement("td");
    const pill = document.createElement("span");
    const bad = w.stale || ["failed", "stopped", "never started"].includes(w.state) || w.state.startsWith("camera ");
    pill.className = "status " + (bad ? "offline" : "online");
    pill.textContent = CM.t(w.state) + (w.stale ? " · " + CM.t("stale") : "");
    td.appendChild(pill);
    return td;
  }

  function lessonCell(w) {
    const td = document.createElement("td");
    if (!w.session) { td.textContent = dash; return td; }
    const a = document.createElement("a");
    a.href = "/sessions/" + w.session.id;
    a.textContent = w.session.label;
    td.appendChild(a);
    if (!w.session.in_progress) {
      const note = document.createElement("span");
      note.className = "muted";
      note.textContent = " (" + CM.t("ended") + ")";
      td.appendChild(note);
    }
    return td;
  }

  function row(w) {
    const tr = document.createElement("tr");
    tr.dataset.cameraId = w.camera_id;
    const latency = w.latency_p50_ms === null || w.latency_p50_ms === undefined ? dash
      : Math.round(w.latency_p50_ms) + " / " + Math.round(w.latency_p95_ms || 0) + " ms";
    tr.append(
      cell(w.camera), stateCell(w), cell(w.pid ? w.pid + "@" + w.host : dash), cell(ago(w)),
      cell(w.fps), cell(w.people_in_view), lessonCell(w), cell(w.model_version), cell(w.restarts),
      cell(w.frames_dropped), cell(w.frames_skipped),
      cell(w.decode_ms_per_frame === null || w.decode_ms_per_frame === undefined ? dash : w.decode_ms_per_frame.toFixed(1)),
      cell(w.frames_lost, w.frames_lost ? "error-text" : ""), cell(latency),
      cell(w.last_error, "error-text"),
    );
    return tr;
  }

  async function refresh() {
    let data;
    try { data = await CM.getJSON(table.dataset.api); } catch (e) { return; }
    if (!data) return;
    body.replaceChildren(...data.workers.map(row));
    const retention = document.getElementById("retention-status");
    if (retention && data.retention) {
      retention.textContent = data.retention.text;
      retention.classList.toggle("error-text", data.retention.overdue);
    }
  }
  setInterval(refresh, 3000);
})();
