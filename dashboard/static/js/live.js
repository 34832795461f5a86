/* Live view: join the camera's room over Socket.IO and redraw on every frame summary. */
"use strict";
(function () {
  const root = document.getElementById("live");
  const cameraId = Number(root.dataset.cameraId);
  const conn = document.getElementById("connection");
  const WINDOW_S = 300;
  let bucketS = 5, buckets = new Map(); // bucket start (ms) → {eng, att, n}
  let frames = 0;

  const distCanvas = document.getElementById("dist-chart");
  const distChart = distCanvas && new Chart(distCanvas, {
    type: "bar",
    data: { labels: CM.emotions, datasets: [{ data: CM.emotions.map(() => 0), backgroundColor: CM.emotions.map((e) => CM.colors[e]) }] },
    options: { indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: { duration: 200 },
               scales: { x: { min: 0, max: 100, ticks: { callback: (v) => v + "%" } } }, plugins: { legend: { display: false } } },
  });
  const rollingChart = new Chart(document.getElementById("rolling-chart"), {
    type: "line",
    data: { labels: [], datasets: [
      { label: "Engagement index", data: [], borderColor: "#1f3550", backgroundColor: "#1f3550", tension: 0.3, pointRadius: 0, borderWidth: 2.5 },
      { label: "Attention", data: [], borderColor: "#2f6fb3", backgroundColor: "#2f6fb3", tension: 0.3, pointRadius: 0, borderDash: [5, 3] },
    ] },
    options: { responsive: true, maintainAspectRatio: false, animation: false,
               scales: { y: { min: 0, max: 100, ticks: { callback: (v) => v + "%" } }, x: { ticks: { maxTicksLimit: 6 } } },
               plugins: { legend: { position: "bottom" } } },
  });
  window.liveCharts = { dist: distChart, rolling: rollingChart };

  function redrawRolling() {
    const keys = [...buckets.keys()].sort((a, b) => a - b);
    const newest = keys.length ? keys[keys.length - 1] : 0;
    for (const k of keys) if (k < newest - WINDOW_S * 1000) buckets.delete(k);
    const kept = [...buckets.keys()].sort((a, b) => a - b);
    rollingChart.data.labels = kept.map((k) => CM.time(new Date(k).toISOString()));
    rollingChart.data.datasets[0].data = kept.map((k) => { const b = buckets.get(k); return b.engN ? Math.round(b.eng / b.engN * 100) : null; });
    rollingChart.data.datasets[1].data = kept.map((k) => { const b = buckets.get(k); return b.attN ? Math.round(b.att / b.attN * 100) : null; });
    rollingChart.update();
  }

  function addToRolling(tsIso, engagement, attention) {
    const t = new Date(tsIso).getTime();
    const key = t - (t % (bucketS * 1000));
    const b = buckets.get(key) || { eng: 0, engN: 0, att: 0, attN: 0 };
    if (engagement !== null) { b.eng += engagement; b.engN += 1; }
    if (attention !== null) { b.att += attention; b.attN += 1; }
    buckets.set(key, b);
  }

  function showFrame(f) {
    frames += 1;
    root.dataset.frames = frames;
    root.dataset.lastFrame = f.frame_index;
    document.getElementById("faces").textContent = f.faces;
    document.getElementById("engagement").textContent = CM.pct(f.engagement);
    document.getElementById("heads-up").textContent = CM.pct(f.heads_up);
    const att = f.tracks.length ? f.tracks.reduce((s, t) => s + t.attention, 0) / f.tracks.length : null;
    document.getElementById("attention").textContent = CM.pct(att);
    document.getElementById("updated").textContent = CM.time(f.ts);
    const mood = document.getElementById("mood");
    if (mood) mood.textContent = f.distribution ? Object.entries(f.distribution).sort((a, b) => b[1] - a[1])[0][0] : "–";
    if (distChart && f.distribution) {
      distChart.data.datasets[0].data = CM.emotions.map((e) => Math.round(f.distribution[e] * 1000) / 10);
      distChart.update();
    }
    const body = document.querySelector("#live-tracks tbody");
    if (body) {
      body.replaceChildren();
      for (const t of f.tracks) {
        const tr = document.createElement("tr");
        tr.dataset.trackId = t.track_id;
        tr.append(CM.cell(`#${t.track_id}`), CM.cell(CM.pct(t.attention)));
        if (CM.emotionsOn) tr.append(CM.cell(t.label || "–"), CM.cell(t.confidence === undefined ? "–" : CM.pct(t.confidence)));
        body.append(tr);
      }
    }
    addToRolling(f.ts, f.engagement, att);
    redrawRolling();
  }

  function showSession(s) {
    document.getElementById("live-session").textContent = s
      ? `Lesson “${s.label}” since ${CM.dateTime(s.started_at)}`
      : "No lesson running on this camera.";
  }

  async function loadSnapshot() {
    const snap = await CM.getJSON(root.dataset.api);
    if (!snap) return;
    showSession(snap.session);
    if (!snap.session) return; // keep what was last shown (the lesson may just have ended)
    sessionId = snap.session.id;
    bucketS = snap.bucket_s;
    buckets = new Map();
    for (const b of snap.timeline) {
      buckets.set(new Date(b.start).getTime(), {
        eng: b.engagement === null ? 0 : b.engagement, engN: b.engagement === null ? 0 : 1,
        att: b.attention === null ? 0 : b.attention, attN: b.attention === null ? 0 : 1 });
    }
    if (snap.frame) showFrame(snap.frame); else redrawRolling();
  }

  const socket = io({ transports: ["websocket", "polling"] });
  let sessionId = null;
  socket.on("connect", () => {
    socket.emit("watch", { camera_id: cameraId }, (ack) => {
      conn.textContent = ack && ack.ok ? "live" : "no access";
      conn.className = "status " + (ack && ack.ok ? "online" : "offline");
      root.dataset.watching = ack && ack.ok ? "yes" : "no";
    });
  });
  socket.on("access_revoked", () => {
    // an admin took this camera away from us while we were watching: no more frames will come
    conn.textContent = "no access"; conn.className = "status offline"; root.dataset.watching = "no";
  });
  socket.on("disconnect", () => { conn.textContent = "reconnecting"; conn.className = "status reconnecting"; });
  socket.on("connect_error", () => { conn.textContent = "offline"; conn.className = "status offline"; });
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
  loadSnapshot();
})();
