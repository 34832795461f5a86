/* Live view: join the camera's room over Socket.IO and redraw on every frame summary.
   Three separate states: the lesson (running / ended / none, from the server every few seconds), this page's
   connection (the socket), and the data's age (stale once older than the server's stale limit). */
"use strict";
(function () {
  const root = document.getElementById("live");
  const cameraId = Number(root.dataset.cameraId);
  const conn = document.getElementById("connection");
  const lessonState = document.getElementById("lesson-state");
  const sessionLine = document.getElementById("live-session");
  const endedBanner = document.getElementById("lesson-ended");
  const markerForm = document.getElementById("live-marker-form");
  const WINDOW_S = 300, SNAPSHOT_EVERY_MS = 5000;
  let bucketS = 5, buckets = new Map(); // bucket start (ms) → {eng, engN, att, attN}
  let frames = 0, sessionId = null, markers = [];
  let lastFrameTs = null, heartbeat = null, staleAfterS = 10, skewMs = 0; // skew: server clock − ours

  const distCanvas = document.getElementById("dist-chart");
  const distChart = distCanvas && new Chart(distCanvas, {
    type: "bar",
    data: { labels: CM.emotions.map((e) => CM.t(e)), datasets: [{ data: CM.emotions.map(() => 0), backgroundColor: CM.emotions.map((e) => CM.colors[e]) }] },
    options: { indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: { duration: 200 },
               scales: { x: { min: 0, max: 100, ticks: { callback: (v) => v + "%" } } }, plugins: { legend: { display: false } } },
  });

  // Small multiples: attention and engagement each on its own chart and axis, sharing the time axis.
  function rolling(canvasId, label, color) {
    return new Chart(document.getElementById(canvasId), {
      type: "line",
      data: { datasets: [{ label, data: [], borderColor: color, backgroundColor: color, tension: 0.3, pointRadius: 0,
                           borderWidth: 2.5, spanGaps: 15000 }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, parsing: false,
                 scales: { y: { min: 0, max: 100, ticks: { callback: (v) => v + "%", maxTicksLimit: 3 } },
                           x: { type: "linear", afterBuildTicks: CM.timeTicks((sc) => sc.options.ticks.stepSize || 60000),
                                ticks: { maxRotation: 0, callback: (v) => CM.clock(new Date(v).toISOString(), true) } } },
                 plugins: { legend: { position: "top", align: "start", labels: { boxWidth: 12 } },
                            tooltip: { callbacks: { title: (i) => (i.length ? CM.clock(new Date(i[0].parsed.x).toISOString(), true) : "") } },
                            cmOverlays: { markers: [] } } },
      plugins: [CM.overlays],
    });
  }
  const rollingChart = rolling("rolling-chart", CM.t("Heads up (of the readable heads)"), CM.line.attention);
  const engagementChart = rolling("engagement-chart", CM.t("Engagement index"), CM.line.engagement);
  window.liveCharts = { dist: distChart, rolling: rollingChart, engagement: engagementChart };

  function redrawRolling() {
    const keys = [...buckets.keys()].sort((a, b) => a - b);
    const newest = keys.length ? keys[keys.length - 1] : Date.now();
    for (const k of keys) if (k < newest - WINDOW_S * 1000) buckets.delete(k);
    const kept = [...buckets.keys()].sort((a, b) => a - b);
    const point = (k, sum, n) => ({ x: k, y: n ? Math.round((sum / n) * 100) : null });
    rollingChart.data.datasets[0].data = kept.map((k) => { const b = buckets.get(k); return point(k, b.att, b.attN); });
    engagementChart.data.datasets[0].data = kept.map((k) => { const b = buckets.get(k); return point(k, b.eng, b.engN); });
    const lines = markers.map((m) => ({ x: new Date(m.at).getTime(), text: m.text }));
    // the window runs to now while a lesson runs (a gap in the data shows as a gap), at most 5 minutes back
    const end = Math.max(newest + bucketS * 1000, root.dataset.lesson === "running" ? Date.now() + skewMs : 0);
    const start = Math.max(kept.length ? kept[0] : end - 60000, end - WINDOW_S * 1000);
    const step = [5, 10, 15, 30, 60].map((v) => v * 1000).find((v) => (end - start) / v <= 6) || 60000;
    for (const c of [rollingChart, engagementChart]) {
      c.options.scales.x.min = start;
      c.options.scales.x.max = end;
      c.options.scales.x.ticks.stepSize = step;
      c.options.plugins.cmOverlays = { markers: lines };
      c.update();
    }
    root.dataset.markers = markers.length;
  }

  function addToRolling(tsIso, engagement, attention) {
    const t = new Date(tsIso).getTime();
    const key = t - (t % (bucketS * 1000));
    const b = buckets.get(key) || { eng: 0, engN: 0, att: 0, attN: 0 };
    if (engagement !== null) { b.eng += engagement; b.engN += 1; }
    if (attention !== null) { b.att += attention; b.attN += 1; }
    buckets.set(key, b);
  }

  /* ---- freshness: "5 s ago", stale past the server's limit ------------------------------------------ */

  function tick() {
    const now = Date.now() + skewMs;
    document.getElementById("updated").textContent = lastFrameTs ? CM.ago(lastFrameTs, now) : "–";
    document.getElementById("heartbeat").textContent = heartbeat ? CM.ago(heartbeat, now) : CM.t("never");
    const age = lastFrameTs ? (now - new Date(lastFrameTs).getTime()) / 1000 : null;
    const stale = sessionId !== null && (age === null || age > staleAfterS);
    root.classList.toggle("stale-data", stale && frames > 0);
    root.dataset.stale = stale ? "yes" : "no";
    document.getElementById("data-state").hidden = !(stale && frames > 0);
  }
  setInterval(tick, 1000);

  function showFrame(f) {
    frames += 1;
    root.dataset.frames = frames;
    root.dataset.lastFrame = f.frame_index;
    lastFrameTs = f.ts;
    document.getElementById("faces").textContent = f.faces;
    document.getElementById("engagement").textContent = f.faces ? CM.pct(f.engagement) : "–";
    // One meaning of attention: the share of the READABLE heads that are up, with its base; none while warming up
    const warming = Boolean(f.warming_up);
    document.getElementById("warming-up").hidden = !warming;
    root.dataset.warmingUp = warming ? "yes" : "no";
    const headsUp = warming || f.heads_up === null || f.heads_up === undefined ? null : f.heads_up;
    document.getElementById("heads-up").textContent = warming ? "…" : CM.pct(headsUp);
    document.getElementById("heads-base").textContent = !warming && f.heads ? CM.headsBase(f.heads) : "";
    const mood = document.getElementById("mood");
    if (mood) mood.textContent = warming ? "…" : f.distribution ? CM.t(Object.entries(f.distribution).sort((a, b) => b[1] - a[1])[0][0]) : (f.expression_note ? CM.t(f.expression_note) : "–");
    if (distChart) {  // no distribution (no face large enough to read): an empty chart, not the last one
      distChart.data.datasets[0].data = CM.emotions.map((e) => (f.distribution ? Math.round(f.distribution[e] * 1000) / 10 : 0));
      distChart.update();
    }
    const body = document.querySelector("#live-tracks tbody");
    if (body) {
      body.replaceChildren();
      for (const t of f.tracks) {
        const tr = document.createElement("tr");
        tr.dataset.trackId = t.track_id;
        tr.append(CM.cell(`#${t.track_id}`), CM.cell(t.posture ? CM.t(t.posture) : "–"));
        if (CM.emotionsOn) tr.append(CM.cell(t.label ? CM.t(t.label) : "–"), CM.cell(t.confidence === undefined ? "–" : CM.pct(t.confidence)));
        body.append(tr);
      }
    }
    addToRolling(f.ts, f.engagement, headsUp);
    redrawRolling();
    tick();
  }

  /* ---- the camera as its worker sees it: a banner while it cannot be read ---------------------------- */

  function showCamera(camera) {
    const banner = document.getElementById("camera-problem");
    const problem = camera && camera.problem; // "Camera unreachable since 05:29 (cannot open source)"
    banner.textContent = problem || "";
    banner.hidden = !problem;
    root.dataset.camera = problem ? "unreachable" : "ok";
    const next = document.getElementById("next-period"); // "next: Tue period 2 08:00 · Maths 7B" (timetabled)
    const tt = camera && camera.timetable;
    next.textContent = (tt && tt.next) || "";
    next.hidden = !(tt && tt.next);
  }

  /* ---- the lesson's state, apart from the connection's ---------------------------------------------- */

  function setLesson(state, text) {
    lessonState.textContent = text;
    lessonState.className = "status " + ({ running: "online", ended: "ended", none: "" }[state] || "");
    root.dataset.lesson = state;
  }

  function showLesson(snap) {
    const s = snap.session;
    if (s) {
      endedBanner.hidden = true;
      setLesson("running", CM.t("lesson in progress"));
      sessionLine.textContent = CM.t("Lesson “{label}” since {time} ({day})", { label: s.label, time: CM.clock(s.started_at), day: CM.day(s.started_at) });
      markerForm.hidden = false;
      return;
    }
    markerForm.hidden = true;
    const last = snap.last_session;
    const now = Date.now() + skewMs;
    const recent = last && (sessionId === last.id || now - new Date(last.ended_at).getTime() < 3600 * 1000);
    const report = () => {
      const a = document.createElement("a");
      a.href = `${root.dataset.sessionsUrl}/${last.id}`; a.id = "lesson-report-link"; a.textContent = CM.t("view report");
      return a;
    };
    if (recent) {
      // the lesson this page showed (or one that ended within the hour) is over: say so, link to its report
      setLesson("ended", CM.t("lesson ended"));
      endedBanner.replaceChildren(document.createTextNode(CM.t("Lesson ended {when}", { when: CM.when(last.ended_at) }) + " · "), report());
      endedBanner.hidden = false;
      sessionLine.textContent = `“${last.label}”, ${CM.dateTime(last.started_at)}–${CM.clock(last.ended_at)}.`;
    } else {
      setLesson("none", (snap.camera && snap.camera.timetable && snap.camera.timetable.idle) || CM.t("no lesson"));
      endedBanner.hidden = true;
      sessionLine.replaceChildren(document.createTextNode(CM.t("No lesson running on this camera.")));
      if (last) {
        sessionLine.append(" " + CM.t("Last: “{label}”, {when}", { label: last.label, when: CM.dateTime(last.started_at) }) + " · ", report());
      }
    }
  }

  async function loadMarkers() {
    if (sessionId === null) { markers = []; return; }
    try {
      const resp = await fetch(`/api/sessions/${sessionId}/markers`, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (resp.ok) markers = (await resp.json()).markers || [];
    } catch (e) { /* markers are extra: the live numbers go on without them */ }
    redrawRolling();
  }

  async function loadSnapshot(full = true) {
    const fetchedAt = Date.now();
    const snap = await CM.getJSON(root.dataset.api);
    if (!snap) return;
    if (snap.camera) {
      heartbeat = snap.camera.last_heartbeat;
      staleAfterS = snap.camera.stale_after_s || staleAfterS;
      if (snap.camera.now) skewMs = new Date(snap.camera.now).getTime() - (fetchedAt + Date.now()) / 2;
    }
    showCamera(snap.camera);
    showLesson(snap);
    if (!snap.session) { tick(); return; } // keep what was last shown, marked stale
    const changed = snap.session.id !== sessionId;
    if (full || changed) {
      sessionId = snap.session.id;
      bucketS = snap.bucket_s;
      buckets = new Map();
      for (const b of snap.timeline) {
        buckets.set(new Date(b.start).getTime(), {
          eng: b.engagement === null ? 0 : b.engagement, engN: b.engagement === null ? 0 : 1,
          att: b.attention === null ? 0 : b.attention, attN: b.attention === null ? 0 : 1 });
      }
      loadMarkers();
      if (snap.frame) showFrame(snap.frame); else redrawRolling();
    }
    tick();
  }

  markerForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (sessionId === null) return;
    const text = markerForm.elements.text.value.trim();
    const r = await CM.sendJSON(`/api/sessions/${sessionId}/markers`, { text });
    document.getElementById("marker-status").textContent =
      r.ok ? CM.t("Marked.") : CM.t("Not saved: {why}.", { why: (r.body && (r.body.message || r.body.error)) || CM.t("error {status}", { status: r.status }) });
    if (r.ok) { markerForm.elements.text.value = ""; loadMarkers(); }
  });

  const socket = io({ transports: ["websocket", "polling"] });
  socket.on("connect", () => {
    socket.emit("watch", { camera_id: cameraId }, (ack) => {
      conn.textContent = ack && ack.ok ? CM.t("connected") : CM.t("no access");
      conn.className = "status " + (ack && ack.ok ? "online" : "offline");
      root.dataset.watching = ack && ack.ok ? "yes" : "no";
    });
  });
  socket.on("access_revoked", () => {
    // an admin took this camera away from us while we were watching: no more frames will come
    conn.textContent = CM.t("no access"); conn.className = "status offline"; root.dataset.watching = "no";
  });
  socket.on("disconnect", () => { conn.textContent = CM.t("reconnecting"); conn.className = "status reconnecting"; });
  socket.on("connect_error", () => { conn.textContent = CM.t("offline"); conn.className = "status offline"; });
  socket.on("frame", (f) => {
    if (f.camera_id !== cameraId) return;
    if (f.session_id !== sessionId) {
      // a new lesson: start its rolling timeline from the server's copy, but show this frame now
      sessionId = f.session_id;
      buckets = new Map();
      loadSnapshot();
    }
    showFrame(f);
  });
  socket.on("marker", (m) => {
    if (!m || m.camera_id !== cameraId || m.session_id !== sessionId || !m.marker) return;
    if (!markers.some((x) => x.id === m.marker.id)) { markers.push(m.marker); redrawRolling(); }
  });
  loadSnapshot();
  // the lesson's state and the heartbeat come from the server, whatever the socket does
  setInterval(() => loadSnapshot(false), SNAPSHOT_EVERY_MS);
})();
