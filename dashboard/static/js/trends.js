/* Trends page: one point per lesson (attention and engagement; people in view on their own small chart),
   lessons with markers drawn as triangles, and the week-over-week table. Data: GET /api/trends.
   With two to four classes chosen the API answers one series per class: each class gets its own colour
   (heads-up share drawn, engagement in the legend), and the weekly table a Class column. */
"use strict";
(function () {
  const card = document.getElementById("trend");
  if (!card) return;
  const note = document.getElementById("trend-note");
  const sessionUrl = (id) => card.dataset.sessionUrl.replace(/0$/, String(id));
  const pctOf = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
  const colors = (CM.line) || { attention: "#2f6fb3", engagement: "#1f3550", people: "#7a5195", marker: "#b3403a" };
  window.trendCharts = {};
  // common.js formats in the school's zone; older copies lack day/clock
  CM.day = CM.day || ((iso) => new Date(iso).toDateString());
  CM.clock = CM.clock || ((iso) => new Date(iso).toTimeString().slice(0, 5));

  // Both charts' y axes take the width the wider one's labels need, so their days line up; a fixed width
  // cut "100%" to ".00%" on a phone (and would cut a wider font's or language's labels anywhere).
  const yWidths = new Map();
  function shareYWidth(scale) {
    yWidths.set(scale.chart.canvas.id, scale.width);  // what Chart.js measured: labels (and title) in their font
    scale.width = Math.max(...yWidths.values());
  }
  function lineUpYAxes() {
    const main = window.trendCharts.main;
    if (main && Math.max(...yWidths.values()) > main.scales.y.width) main.update("none");
  }

  function points(data, key, scale) {
    return data.points.map((p) => ({ x: new Date(p.started_at).getTime(), y: p[key] === null ? null : scale(p[key]), p }));
  }

  function options(data, yMax, yTitle) {
    const narrow = window.innerWidth < 600;
    const DAY = 86400000;
    const xs = data.points.map((p) => new Date(p.started_at).getTime());
    const first = Math.floor(Math.min(...xs) / DAY) * DAY, last = Math.ceil((Math.max(...xs) + 1) / DAY) * DAY;
    const step = DAY * Math.max(1, Math.ceil((last - first) / DAY / (narrow ? 4 : 8)));  // whole days
    return {
      responsive: true, maintainAspectRatio: false, animation: false, parsing: false,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      scales: {
        x: { type: "linear", min: first, max: Math.max(last, first + step),
             afterBuildTicks: (axis) => {  // one tick every `step` whole days from the first day
               axis.ticks = [];
               for (let v = first; v <= axis.max; v += step) axis.ticks.push({ value: v });
             },
             ticks: { maxRotation: 0, autoSkipPadding: 16,
                      callback: (v) => CM.shortDay(new Date(v + DAY / 2).toISOString()) } },
        y: { min: 0, max: yMax, title: { display: !narrow, text: yTitle },
             afterFit: shareYWidth,
             ticks: { callback: (v) => (yMax === 100 ? v + "%" : v) } },
      },
      plugins: {
        legend: { position: "top", labels: { boxWidth: 12 } },
        tooltip: { callbacks: {
          title: (items) => (items.length ? `${items[0].raw.p.label} · ${CM.dateTime(items[0].raw.p.started_at)}` : ""),
          label: (c) => `${c.dataset.label}: ${c.raw.y === null ? (c.raw.p.note || "–") : c.raw.y + (yMax === 100 ? "%" : "")}`,
          footer: (items) => (items.length && items[0].raw.p.markers.length
            ? CM.t("Markers:") + " " + items[0].raw.p.markers.map((m) => `${CM.clock(m.at)} ${m.text}`).join("; ") : ""),
        } },
      },
      onClick: (_e, els, chart) => {
        if (els.length) window.location = sessionUrl(chart.data.datasets[els[0].datasetIndex].data[els[0].index].p.session_id);
      },
    };
  }

  function style(color, dash) {
    return { borderColor: color, backgroundColor: color, borderWidth: 2, borderDash: dash || [], spanGaps: false,
             pointRadius: (c) => (c.raw && c.raw.p.markers.length ? 6 : 3),
             pointStyle: (c) => (c.raw && c.raw.p.markers.length ? "triangle" : "circle") };
  }

  // one colour per compared class (distinguishable with the common colour-vision deficiencies)
  const CLASS_COLORS = ["#2f6fb3", "#c2571a", "#2e8b57", "#8e44ad"];

  function drawCompare(data) {
    const all = { points: data.series.flatMap((s) => s.points) };
    const byClass = (key, scale, hidden) => data.series.map((s, i) => ({
      label: s.label, data: points(s, key, scale), hidden: !!hidden,
      ...style(CLASS_COLORS[i % CLASS_COLORS.length], key === "engagement" ? [6, 4] : []),
    }));
    document.getElementById("trend-chart-box").hidden = false;
    const engagement = byClass("engagement", pctOf, true);
    engagement.forEach((d) => { d.label = d.label + " · " + CM.t("Engagement index"); });
    window.trendCharts.main = new Chart(document.getElementById("trend-chart"), {
      type: "line",
      data: { datasets: [...byClass("attention", pctOf), ...engagement] },
      options: options(all, 100, CM.t("Attention (heads up)") + ", " + CM.t("% of the class")),
    });
    const peak = Math.max(1, ...all.points.map((p) => p.people_peak || 0));
    document.getElementById("people-chart-box").hidden = false;
    window.trendCharts.people = new Chart(document.getElementById("people-chart"), {
      type: "line",
      data: { datasets: byClass("people_typical", (v) => v) },
      options: options(all, Math.ceil(peak * 1.1), CM.t("people")),
    });
    const counts = data.series.map((s) => `${s.label}: ${s.points.length === 1 ? CM.t("1 lesson") : CM.t("{n} lessons", { n: s.points.length })}`);
    let text = counts.join("; ");
    if (data.series.some((s) => s.truncated)) text += CM.t("; only the newest lessons are shown, narrow the dates to see older ones");
    note.textContent = text + (CM.zh ? "。" : ".");
  }

  function drawCharts(data) {
    const withFigures = data.points.filter((p) => p.attention !== null || p.engagement !== null);
    document.getElementById("trend-chart-box").hidden = false;
    window.trendCharts.main = new Chart(document.getElementById("trend-chart"), {
      type: "line",
      data: { datasets: [
        { label: CM.t("Attention (heads up)"), data: points(data, "attention", pctOf), ...style(colors.attention) },
        { label: CM.t("Engagement index"), data: points(data, "engagement", pctOf), ...style(colors.engagement, [6, 4]) },
      ] },
      options: options(data, 100, CM.t("% of the class")),
    });
    const peak = Math.max(1, ...data.points.map((p) => p.people_peak || 0));
    document.getElementById("people-chart-box").hidden = false;
    window.trendCharts.people = new Chart(document.getElementById("people-chart"), {
      type: "line",
      data: { datasets: [
        { label: CM.t("People in view, typical"), data: points(data, "people_typical", (v) => v), ...style(colors.people) },
        { label: CM.t("peak"), data: points(data, "people_peak", (v) => v), ...style("#b9a5d0", [3, 3]) },
      ] },
      options: options(data, Math.ceil(peak * 1.1), CM.t("people")),
    });
    const missing = data.points.length - withFigures.length;
    let text = data.points.length === 1 ? CM.t("1 lesson") : CM.t("{n} lessons", { n: data.points.length });
    if (missing) text += CM.t("; {n} without figures (no faces detected or no video stored) are left as gaps", { n: missing });
    if (data.truncated) text += CM.t("; only the newest lessons are shown, narrow the dates to see older ones");
    note.textContent = text + (CM.zh ? "。" : ".");
  }

  function change(v) {
    const td = document.createElement("td");
    if (v === null || v === undefined) { td.textContent = "–"; td.className = "none"; return td; }
    const pts = Math.round(v * 1000) / 10;
    td.textContent = pts === 0 ? CM.t("no change") : `${pts > 0 ? "▲ +" : "▼ "}` + CM.t("{n} pts", { n: pts });
    td.className = pts > 0 ? "up" : pts < 0 ? "down" : "";
    return td;
  }

  function drawWeeks(data) {
    const body = document.querySelector("#weekly tbody");
    body.replaceChildren();
    const series = data.series || [{ label: null, weekly: data.weekly }];
    const head = document.querySelector("#weekly thead tr");
    if (data.series && head.cells[0].id !== "weekly-class") {
      const th = document.createElement("th");
      th.id = "weekly-class"; th.textContent = CM.t("Class");
      head.prepend(th);
    }
    for (const s of series) for (const w of s.weekly) {
      const tr = document.createElement("tr");
      if (data.series) tr.append(CM.cell(s.label));
      // a lesson still running is left out of the week's figures and change until it ends
      const running = w.in_progress ? " " + CM.t("(+{n} in progress)", { n: w.in_progress }) : "";
      tr.append(CM.cell(CM.day(w.week + "T12:00:00Z")), CM.cell(String(w.lessons) + running),
                CM.cell(w.attention === null ? CM.t("no figures") : CM.pct(w.attention)), change(w.change_attention),
                CM.cell(w.engagement === null ? CM.t("no figures") : CM.pct(w.engagement)), change(w.change_engagement));
      body.append(tr);
    }
    document.getElementById("weekly-card").hidden = series.every((s) => s.weekly.length === 0);
  }

  CM.getJSON(card.dataset.api).then((data) => {
    if (!data) return;
    const lessons = data.series ? data.series.flatMap((s) => s.points) : data.points;
    if (!lessons.length) { note.textContent = CM.t("No lessons in this range yet."); return; }
    if (data.series) drawCompare(data); else drawCharts(data);
    lineUpYAxes();
    drawWeeks(data);
  }).catch((err) => { note.textContent = CM.t("Could not load the trend:") + " " + err.message; note.classList.add("error"); });
})();
