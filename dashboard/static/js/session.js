/* Session page: summary numbers, the class timeline (stacked expressions + engagement) and the faces. */
"use strict";
(function () {
  const summaryBox = document.getElementById("summary");
  const canvas = document.getElementById("timeline-chart");
  const bucketSelect = document.getElementById("bucket");
  const note = document.getElementById("timeline-note");
  const tracksCard = document.getElementById("tracks-card");
  let trackChart = null, selectedTrack = null;

  function pctAxis(position, title) {
    return { position, min: 0, max: 100, stacked: position === "left",
             title: { display: true, text: title }, ticks: { callback: (v) => v + "%" } };
  }

  function timelineConfig(data) {
    const labels = data.buckets.map((b) => (data.bucket_s < 60 ? CM.time(b.start) : CM.shortTime(b.start)));
    const hasEmotions = CM.emotionsOn && data.buckets.some((b) => b.emotions);
    const line = (label, key, color) => ({
      type: "line", label, yAxisID: "y2", borderColor: color, backgroundColor: color, borderWidth: 2.5,
      pointRadius: data.buckets.length > 60 ? 0 : 2, tension: 0.25, order: 0,
      data: data.buckets.map((b) => (b[key] === null ? null : Math.round(b[key] * 1000) / 10)),
    });
    const datasets = [line("Engagement index", "engagement", "#1f3550")];
    if (data.buckets.some((b) => b.heads_up !== null && b.heads_up !== undefined)) {
      datasets.push(line("Heads up", "heads_up", "#2e8b57"));
    }
    if (hasEmotions) {
      for (const e of CM.emotions) {
        datasets.push({ type: "bar", label: e, yAxisID: "y", stack: "emotions", backgroundColor: CM.colors[e],
          order: 1, barPercentage: 1.0, categoryPercentage: 0.95,
          data: data.buckets.map((b) => (b.emotions ? Math.round(b.emotions[e] * 1000) / 10 : null)) });
      }
    } else {
      datasets.push(line("Attention", "attention", "#2f6fb3"));
    }
    return {
      type: "bar", data: { labels, datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, ticks: { maxTicksLimit: 12 } },
          y: hasEmotions ? pctAxis("left", "share of expressions") : { display: false, stacked: true },
          y2: { ...pctAxis("right", hasEmotions ? "engagement" : "engagement · attention"), stacked: false,
                grid: { drawOnChartArea: !hasEmotions } },
        },
        plugins: { legend: { position: "bottom" },
                   tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.parsed.y === null ? "–" : c.parsed.y + "%"}` } } },
      },
    };
  }

  async function loadSummary() {
    const s = await CM.getJSON(summaryBox.dataset.api);
    if (!s) return;
    const set = (f, t) => { const el = summaryBox.querySelector(`[data-field="${f}"]`); if (el) el.textContent = t; };
    set("duration", CM.duration(s.summary.duration_s));
    // Typical: the median second of the session; peak: its busiest second (see monitor/store/queries.py).
    const people = (v) => (s.summary.people.seconds ? (Math.abs(v - Math.round(v)) < 0.05 ? Math.round(v) : v.toFixed(1)) : "–");
    set("people_typical", people(s.summary.people.typical));
    set("people_peak", people(s.summary.people.peak));
    set("engagement", CM.pct(s.summary.engagement));
    set("attention", CM.pct(s.summary.attention));
    set("dominant", s.summary.dominant || "–");
    // The heads-up ratio says of whom: the class size set for the camera, or the people in view.
    const heads = s.summary.heads_up;
    set("heads_up", heads ? CM.pct(heads.up) : "–");
    set("heads_up_of", heads ? `heads up, ${heads.of} · down ${CM.pct(heads.down)}, away ${CM.pct(heads.away)}` : "heads up");
  }

  async function loadTimeline() {
    const q = bucketSelect.value === "auto" ? "" : "?bucket=" + bucketSelect.value;
    const data = await CM.getJSON(canvas.dataset.api + q);
    if (!data) return;
    if (window.timelineChart) window.timelineChart.destroy();
    window.timelineChart = new Chart(canvas, timelineConfig(data));
    note.textContent = data.buckets.length
      ? `${data.buckets.length} buckets of ${CM.duration(data.bucket_s)}.`
      : "No data stored for this session yet.";
  }

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
    const datasets = [{ label: `Face ${trackId}: attention`, data: data.buckets.map((b) => Math.round(b.attention * 100)),
                        borderColor: "#2f6fb3", backgroundColor: "#2f6fb3", tension: 0.25, pointRadius: 1 }];
    if (CM.emotionsOn && data.buckets.some((b) => b.emotions)) {
      for (const e of ["happy", "neutral", "sad", "surprise"]) {
        datasets.push({ label: e, data: data.buckets.map((b) => (b.emotions ? Math.round(b.emotions[e] * 100) : null)),
                        borderColor: CM.colors[e], backgroundColor: CM.colors[e], borderDash: [4, 3], tension: 0.25, pointRadius: 0 });
      }
    }
    trackChart = new Chart(document.getElementById("track-chart"), {
      type: "line", data: { labels: data.buckets.map((b) => (data.bucket_s < 60 ? CM.time(b.start) : CM.shortTime(b.start))), datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { min: 0, max: 100, ticks: { callback: (v) => v + "%" } },
                           x: { ticks: { maxTicksLimit: 12, maxRotation: 0 } } },
                 plugins: { legend: { position: "bottom" } } },
    });
  }

  async function loadTracks() {
    if (!tracksCard) return;
    const data = await CM.getJSON(tracksCard.dataset.api);
    if (!data) return;
    const body = document.querySelector("#tracks tbody");
    body.replaceChildren();
    for (const t of data.tracks) {
      const tr = document.createElement("tr");
      tr.dataset.trackId = t.track_id;
      tr.append(CM.cell(`#${t.track_id}`), CM.cell(CM.duration(t.seconds_in_view)));
      const att = CM.cell(""), bar = document.createElement("span");
      bar.className = "bar"; bar.style.width = Math.round(t.attention * 80) + "px";
      att.append(bar, document.createTextNode(CM.pct(t.attention)));
      tr.append(att);
      if (CM.emotionsOn) {
        const td = CM.cell("");
        if (t.dominant) {
          const sw = document.createElement("span");
          sw.className = "swatch"; sw.style.background = CM.colors[t.dominant];
          td.append(sw, document.createTextNode(t.dominant));
        } else td.textContent = "–";
        tr.append(td);
      }
      tr.addEventListener("click", () => showTrack(tr, t.track_id));
      body.append(tr);
    }
  }

  bucketSelect.addEventListener("change", loadTimeline);
  loadSummary(); loadTimeline(); loadTracks();
  if (summaryBox.dataset.inProgress === "yes") {
    // a lesson still running: keep its numbers and chart current
    setInterval(() => { loadSummary(); loadTimeline(); }, 15000);
  }
})();
