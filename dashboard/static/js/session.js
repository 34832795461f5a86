/* Session page: the answer first (the summary the reports give), then attention and engagement over the
   lesson with the lowest-attention periods shaded and the teacher's markers, people in view, expressions
   (collapsed; absent in attention-only mode) and the anonymous faces, a page at a time. */
"use strict";
(function () {
  const summaryBox = document.getElementById("summary");
  const sessionId = Number(summaryBox.dataset.sessionId);
  const canvas = document.getElementById("timeline-chart");
  const bucketSelect = document.getElementById("bucket");
  const note = document.getElementById("timeline-note");
  const tracksCard = document.getElementById("tracks-card");
  const markersBox = document.getElementById("markers");
  const TRACK_PAGE = 10;
  let summary = JSON.parse(document.getElementById("summary-data").textContent);
  let inProgress = summaryBox.dataset.inProgress === "yes";
  let session = null; // the API's session (started_at...), once loaded
  let markers = [];
  let timeline = null;
  let trackChart = null, selectedTrack = null, tracks = [], tracksShown = 0;
  const charts = {};
  window.sessionCharts = charts;

  const pctOf = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
  const ms = (iso) => new Date(iso).getTime();

  function niceStep(spanMs, most) {
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200].map((s) => s * 1000);
    return steps.find((s) => spanMs / s <= most) || 14400000;
  }

  function xAxis(data) {
    const first = ms(data.buckets[0].start);
    const last = ms(data.buckets[data.buckets.length - 1].start) + data.bucket_s * 1000;
    const seconds = last - first < 600000;
    const narrow = window.innerWidth < 600;
    return { type: "linear", min: first, max: last, afterBuildTicks: CM.timeTicks(niceStep(last - first, narrow ? 3 : 7)),
             ticks: { maxRotation: 0, callback: (v) => CM.clock(new Date(v).toISOString(), seconds) } };
  }

  function overlays() {
    return {
      bands: (summary.low_periods || []).map((p) => ({ from: ms(p.start), to: ms(p.end) })),
      markers: markers.map((m) => ({ x: ms(m.at), text: m.text })),
    };
  }

  function common(data, yTitle, max) {
    const narrow = window.innerWidth < 600;
    return {
      responsive: true, maintainAspectRatio: false, animation: false, parsing: false,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      scales: { x: xAxis(data),
                y: { min: 0, max, title: { display: !narrow, text: yTitle },
                     ticks: { callback: (v) => (max === 100 ? v + "%" : v) } } },
      plugins: {
        legend: { position: narrow ? "top" : "bottom", labels: { boxWidth: 12, padding: narrow ? 6 : 10 } },
        tooltip: { callbacks: {
          title: (items) => (items.length ? CM.clock(new Date(items[0].parsed.x).toISOString(), true) : ""),
          label: (c) => `${c.dataset.label}: ${c.parsed.y === null ? "–" : c.parsed.y + (max === 100 ? "%" : "")}` } },
        cmOverlays: overlays(),
      },
    };
  }

  function series(data, key, scale = true) {
    return data.buckets.map((b) => ({ x: ms(b.start), y: b[key] === null || b[key] === undefined ? null : scale ? pctOf(b[key]) : b[key] }));
  }

  function lineSet(label, data, color, extra = {}) {
    return { type: "line", label, data, borderColor: color, backgroundColor: color, borderWidth: 2.5, tension: 0.25,
             pointRadius: data.length > 60 ? 0 : 2, spanGaps: timeline.bucket_s * 1500, ...extra };
  }

  function drawPrimary(data) {
    const datasets = [];
    // one meaning of attention: the heads-up share of the readable heads, where any head could be read
    if (data.buckets.some((b) => b.heads_up !== null && b.heads_up !== undefined)) {
      datasets.push(lineSet(CM.t("Heads up"), series(data, "heads_up"), CM.line.headsUp));
    }
    datasets.push(lineSet(CM.t("Engagement index"), series(data, "engagement"), CM.line.engagement, { borderDash: [6, 3] }));
    const cfg = { type: "line", data: { datasets }, options: common(data, CM.t("share of the class"), 100), plugins: [CM.overlays] };
    cfg.options.onClick = (evt, _els, chart) => {
      const v = chart.scales.x.getValueForPixel(evt.x);
      const at = markersBox && markersBox.querySelector("input[name=at]");
      if (at && Number.isFinite(v)) at.value = CM.clock(new Date(v).toISOString(), true);
    };
    if (charts.primary) charts.primary.destroy();
    charts.primary = window.timelineChart = new Chart(canvas, cfg);
  }

  function drawPeople(data) {
    const el = document.getElementById("people-chart");
    const peak = Math.max(1, ...data.buckets.map((b) => b.faces_per_frame || 0));
    const set = lineSet(CM.t("People in view"), series(data, "faces_per_frame", false), CM.line.people,
                        { fill: "origin", backgroundColor: "rgba(122, 81, 149, 0.15)", borderWidth: 2 });
    const opts = common(data, CM.t("people"), Math.ceil(peak + 0.5));
    opts.plugins.legend = { display: false };
    if (charts.people) charts.people.destroy();
    charts.people = new Chart(el, { type: "line", data: { datasets: [set] }, options: opts, plugins: [CM.overlays] });
  }

  function drawEmotions(data) {
    const el = document.getElementById("emotion-chart");
    if (!el) return;
    if (charts.emotions) { charts.emotions.destroy(); charts.emotions = null; }
    if (!data.buckets.some((b) => b.emotions)) return;
    const datasets = CM.emotions.map((e) => ({
      type: "bar", label: CM.t(e), backgroundColor: CM.colors[e], stack: "e", barPercentage: 1, categoryPercentage: 1,
      data: data.buckets.map((b) => ({ x: ms(b.start) + data.bucket_s * 500, y: b.emotions ? pctOf(b.emotions[e]) : null })),
    }));
    const opts = common(data, CM.t("share of expressions"), 100);
    opts.scales.x.stacked = true; opts.scales.y.stacked = true;
    opts.interaction = { mode: "index", intersect: false };
    charts.emotions = new Chart(el, { type: "bar", data: { datasets }, options: opts, plugins: [CM.overlays] });
  }

  function refreshOverlays() {
    for (const c of Object.values(charts)) {
      if (!c) continue;
      c.options.plugins.cmOverlays = overlays();
      c.update("none");
    }
  }

  function showSummary(s) {
    summary = s;
    const set = (f, t) => { summaryBox.querySelectorAll(`[data-field="${f}"]`).forEach((el) => { el.textContent = t; }); };
    const list = document.getElementById("summary-lines");
    list.replaceChildren(...s.lines.map((line) => { const li = document.createElement("li"); li.textContent = line; return li; }));
    set("duration", CM.duration(s.duration_s));
    const seen = s.faces_seen;
    // Typical: the median second of the session; peak: its busiest second (see monitor/store/queries.py).
    const people = (v) => (s.people.seconds ? (Math.abs(v - Math.round(v)) < 0.05 ? Math.round(v) : v.toFixed(1)) : "–");
    set("people_typical", seen ? people(s.people.typical) : s.purged ? "–" : CM.t("none"));
    set("people_peak", seen ? people(s.people.peak) : "–");
    set("engagement", s.engagement_withheld ? CM.t("hidden") : seen ? CM.pct(s.engagement) : "–");
    set("dominant", seen && s.dominant ? CM.t(s.dominant) : (seen && s.expression_note) || "–");
    // The heads-up ratio says of whom: the class size set for the camera, or the people in view.
    const heads = seen ? s.heads_up : null;
    set("heads_up", heads ? CM.pct(heads.up) : "–");
    set("heads_up_of", heads ? CM.t("heads up, {of} · down {down}, away {away}",
                                    { of: heads.of, down: CM.pct(heads.down), away: CM.pct(heads.away) })
                             : CM.t("heads up: not measured in this lesson"));
    summaryBox.dataset.facesSeen = seen ? "yes" : "no";
  }

  function showState() {
    const el = document.getElementById("lesson-state");
    el.textContent = inProgress ? CM.t("in progress") : CM.t("ended");
    el.className = "status" + (inProgress ? " online" : "");
    summaryBox.dataset.inProgress = inProgress ? "yes" : "no";
  }

  async function loadSummary() {
    const s = await CM.getJSON(summaryBox.dataset.api);
    if (!s) return;
    session = s;
    showSummary(s.summary);
    if (inProgress && !s.in_progress) { inProgress = false; showState(); loadTimeline(); }
  }

  async function loadTimeline() {
    const q = bucketSelect.value === "auto" ? "" : "?bucket=" + bucketSelect.value;
    const data = await CM.getJSON(canvas.dataset.api + q);
    if (!data) return;
    timeline = data;
    if (!data.buckets.length) {
      note.textContent = summary.purged || (inProgress ? CM.t("Nothing stored for this lesson yet.") : CM.t("No faces were detected in this lesson."));
      return;
    }
    drawPrimary(data); drawPeople(data); drawEmotions(data);
    const shaded = (summary.low_periods || []).length;
    note.textContent = CM.t("{n} points, one every {step}.", { n: data.buckets.length, step: CM.duration(data.bucket_s) }) +
      (shaded ? " " + (shaded > 1 ? CM.t("Shaded: the lowest-attention periods named in the summary.")
                                  : CM.t("Shaded: the lowest-attention period named in the summary.")) : "");
  }

  /* ---- markers -------------------------------------------------------------------------------------- */

  function showMarkers() {
    const list = document.getElementById("marker-list");
    if (!markers.length) {
      const li = document.createElement("li"); li.className = "muted"; li.textContent = CM.t("No markers yet.");
      list.replaceChildren(li);
    } else {
      list.replaceChildren(...markers.map((m) => {
        const li = document.createElement("li");
        li.dataset.markerId = m.id;
        const t = document.createElement("strong"); t.textContent = CM.clock(m.at, true);
        li.append(t, document.createTextNode(` ${m.text}` + (m.author ? ` (${m.author})` : "")));
        const del = document.createElement("button");
        del.type = "button"; del.className = "link-button"; del.textContent = CM.t("remove");
        del.setAttribute("aria-label", CM.t("remove marker {text}", { text: m.text }));
        del.addEventListener("click", async () => {
          const r = await CM.sendJSON(`${markersBox.dataset.api}/${m.id}`, undefined, "DELETE");
          if (r.ok) loadMarkers(); else setMarkerStatus(r);
        });
        li.append(" ", del);
        return li;
      }));
    }
    markersBox.dataset.count = markers.length;
    refreshOverlays();
  }

  function setMarkerStatus(r) {
    document.getElementById("marker-status").textContent =
      r.ok ? CM.t("Marker added.") : CM.t("Not saved: {why}.", { why: (r.body && (r.body.message || r.body.error)) || CM.t("error {status}", { status: r.status }) });
  }

  async function loadMarkers() {
    if (!markersBox) return;
    const resp = await fetch(markersBox.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (resp.status === 404) { markersBox.hidden = true; return; } // markers not available on this server
    if (!resp.ok) return;
    markers = (await resp.json()).markers || [];
    showMarkers();
  }

  function markerTime(value) {
    // "HH:MM[:SS]" on the lesson's day, in the school's zone; empty: now (a live lesson) or the server's default
    if (!value) return undefined;
    const [h, mi, s] = value.split(":").map(Number);
    const startIso = (session && session.started_at) || summaryBox.dataset.startedAt;
    const day = CM.ymd(startIso);
    let t = CM.zonedToUtc(day.y, day.m, day.d, h, mi, s || 0);
    if (t < ms(startIso) - 60000) t += 86400000; // a lesson over midnight
    return new Date(t).toISOString();
  }

  if (markersBox) {
    document.getElementById("marker-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = ev.target;
      const body = { text: form.elements.text.value.trim() };
      const at = markerTime(form.elements.at.value);
      if (at) body.at = at;
      const r = await CM.sendJSON(markersBox.dataset.api, body);
      setMarkerStatus(r);
      if (r.ok) { form.elements.text.value = ""; loadMarkers(); }
    });
  }

  /* ---- tracks ----------------------------------------------------------------------------------------- */

  async function showTrack(row, trackId) {
    document.querySelectorAll("#tracks tbody tr").forEach((tr) => tr.classList.remove("selected"));
    row.classList.add("selected");
    selectedTrack = trackId;
    const data = await CM.getJSON(`${tracksCard.dataset.api}/${trackId}/timeline`);
    if (!data || selectedTrack !== trackId) return;
    const box = document.getElementById("track-chart-box");
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
    if (trackChart) trackChart.destroy();
    const datasets = [{ label: CM.t("Face {id}: attention", { id: trackId }), data: data.buckets.map((b) => Math.round(b.attention * 100)),
                        borderColor: CM.line.attention, backgroundColor: CM.line.attention, tension: 0.25, pointRadius: 1 }];
    if (CM.emotionsOn && data.buckets.some((b) => b.emotions)) {
      for (const e of ["happy", "neutral", "sad", "surprise"]) {
        datasets.push({ label: CM.t(e), data: data.buckets.map((b) => (b.emotions ? Math.round(b.emotions[e] * 100) : null)),
                        borderColor: CM.colors[e], backgroundColor: CM.colors[e], borderDash: [4, 3], tension: 0.25, pointRadius: 0 });
      }
    }
    trackChart = new Chart(document.getElementById("track-chart"), {
      type: "line", data: { labels: data.buckets.map((b) => CM.clock(b.start, data.bucket_s < 60)), datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { min: 0, max: 100, ticks: { callback: (v) => v + "%" } },
                           x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } } },
                 plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } },
    });
  }

  function trackRow(t) {
    const tr = document.createElement("tr");
    tr.dataset.trackId = t.track_id;
    tr.append(CM.cell(`#${t.track_id}`), CM.cell(CM.duration(t.seconds_in_view)));
    const att = CM.cell(""), bar = document.createElement("span");
    bar.className = "bar"; bar.style.width = Math.round(t.attention * 80) + "px";
    att.append(bar, document.createTextNode(CM.pct(t.attention)));
    tr.append(att);
    if (document.querySelector("#tracks th:nth-child(4)")) {
      const td = CM.cell("");
      if (t.dominant) {
        const sw = document.createElement("span");
        sw.className = "swatch"; sw.style.background = CM.colors[t.dominant];
        td.append(sw, document.createTextNode(CM.t(t.dominant)));
      } else td.textContent = "–";
      tr.append(td);
    }
    tr.addEventListener("click", () => showTrack(tr, t.track_id));
    // From the keyboard too: each row is a stop, Enter or Space opens its timeline.
    tr.tabIndex = 0;
    tr.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); showTrack(tr, t.track_id); }
    });
    return tr;
  }

  function showMoreTracks(n) {
    const body = document.querySelector("#tracks tbody");
    const next = tracks.slice(tracksShown, tracksShown + n);
    body.append(...next.map(trackRow));
    tracksShown += next.length;
    const line = document.getElementById("tracks-more-line");
    line.hidden = tracksShown >= tracks.length;
    document.getElementById("tracks-count").textContent = CM.t("{shown} of {all} faces shown", { shown: tracksShown, all: tracks.length });
  }

  async function loadTracks() {
    if (!tracksCard) return;
    const data = await CM.getJSON(tracksCard.dataset.api);
    if (!data) return;
    // the longest in view first: the faces that say most about the lesson
    tracks = data.tracks.slice().sort((a, b) => b.seconds_in_view - a.seconds_in_view || a.track_id - b.track_id);
    document.querySelector("#tracks tbody").replaceChildren();
    tracksShown = 0;
    if (!tracks.length) {
      const tr = document.createElement("tr"), td = CM.cell(summary.purged || (inProgress ? CM.t("No faces tracked yet.") : CM.t("No faces were detected in this lesson.")));
      td.colSpan = 4; tr.append(td); document.querySelector("#tracks tbody").append(tr);
    }
    showMoreTracks(TRACK_PAGE);
  }

  if (tracksCard) document.getElementById("tracks-more").addEventListener("click", () => showMoreTracks(TRACK_PAGE * 2));
  bucketSelect.addEventListener("change", loadTimeline);
  showSummary(summary);
  loadTimeline(); loadMarkers(); loadTracks();
  if (inProgress) loadSummary(); // an ended lesson's summary came with the page
  // a lesson still running: keep its numbers current, and notice when it ends
  setInterval(() => { if (inProgress) { loadSummary(); loadTimeline(); } }, 10000);
})();
