/* Cameras page: refresh status, faces and mood every few seconds. */
"use strict";
(function () {
  const grid = document.getElementById("cameras");
  async function refresh() {
    let data;
    try { data = await CM.getJSON(grid.dataset.api); } catch (e) { return; }
    if (!data) return;
    for (const cam of data.cameras) {
      const card = grid.querySelector(`[data-camera-id="${cam.id}"]`);
      if (!card) continue;
      const set = (field, text) => { const el = card.querySelector(`[data-field="${field}"]`); if (el) el.textContent = text; };
      const status = card.querySelector('[data-field="status"]');
      status.className = "status " + cam.status;
      set("status", CM.t(cam.status));
      const problem = card.querySelector('[data-field="problem"]'); // "Camera unreachable since 05:29 (…)"
      if (problem) { problem.textContent = cam.problem || ""; problem.hidden = !cam.problem; }
      set("last_heartbeat", CM.when(cam.last_heartbeat));
      const tt = cam.timetable; // "next: Tue period 2 08:00 · Maths 7B", worded by the server in our language
      set("session", cam.running_session ? cam.running_session.label : (tt && tt.idle) || CM.t("none running"));
      const next = card.querySelector('[data-field="next"]');
      if (next) { next.textContent = (tt && tt.next) || ""; next.hidden = next.previousElementSibling.hidden = !(tt && tt.next); }
      set("faces", cam.faces_in_view);
      const heads = cam.mood && cam.mood.heads_up;  // the heads-up share of the readable heads, with its base
      set("heads_up", heads && heads.up !== null ? `${CM.pct(heads.up)} · ${heads.text}` : "–");
      set("mood", cam.mood ? (cam.mood.label && CM.t(cam.mood.label)) || cam.mood.note || "–" : "–");
      set("engagement", cam.mood ? CM.pct(cam.mood.engagement) : "–");
    }
  }
  refresh();
  setInterval(refresh, 3000);
})();
