/* Helpers shared by the pages: API calls, formatting in the school's time zone, and the emotion colours.
   Times follow monitor/timefmt.py: "Tue 24 Nov 2026 10:52", "10:52", "2 min 22 s", "5 s ago", and in Chinese
   monitor/locales.py: "2026年11月24日 周二 10:52", "2分22秒", "5秒前". Words come from the page's catalogue
   (CM.t, the #i18n-data block: dashboard/js_messages.py, translated by the server). */
"use strict";
const CM = {
  emotions: ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
  colors: { angry: "#d1495b", disgust: "#8f7a3b", fear: "#8e6bbf", happy: "#f2b134",
            sad: "#4f7cac", surprise: "#4fb0a5", neutral: "#b8bec6" },
  line: { attention: "#2f6fb3", engagement: "#1f3550", headsUp: "#2e8b57", people: "#7a5195", marker: "#b3403a" },
  emotionsOn: document.body.dataset.emotions === "on",
  tracksOn: document.body.dataset.tracks === "on",
  zone: document.body.dataset.zone || "UTC",
  zh: (document.documentElement.lang || "").toLowerCase().startsWith("zh"),
  _catalogue: (() => {
    const el = document.getElementById("i18n-data");
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  })(),
  /* The page's language for ``msg`` (its English text), with "{name}" filled from ``vars``. */
  t(msg, vars = {}) {
    const s = CM._catalogue[msg] || msg;
    return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  },

  csrf() { const m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; },
  async getJSON(url) {
    const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (resp.status === 401) { window.location = "/login?next=" + encodeURIComponent(location.pathname); return null; }
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.message || resp.statusText);
    return body;
  },
  /* POST JSON with the CSRF header; resolves to {ok, status, body}. */
  async sendJSON(url, data, method = "POST") {
    const resp = await fetch(url, {
      method, credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": CM.csrf() },
      body: data === undefined ? undefined : JSON.stringify(data),
    });
    let body = null;
    try { body = resp.status === 204 ? null : await resp.json(); } catch (e) { body = null; }
    return { ok: resp.ok, status: resp.status, body };
  },
  pct(v) { return v === null || v === undefined ? "–" : Math.round(v * 100) + "%"; },
  /* The base of a heads-up share in the page's language, from head counts per frame ({up, readable, unknown},
     as a live frame's ``heads`` has them): "3 of 18 readable heads up; 5 not readable" (monitor.heads) */
  headsBase(h) {
    if (!h) return "";
    const unknown = Math.round(h.unknown || 0);
    if (!h.readable) return CM.t("no head readable; {n} not readable", { n: unknown });
    const words = CM.t("{up} of {readable} readable heads up", { up: Math.round(h.up), readable: Math.round(h.readable) });
    return words + (unknown ? CM.t("; {n} not readable", { n: unknown }) : "");
  },

  _fmt: {},
  _parts(date, opts) {
    const key = JSON.stringify(opts);
    if (!CM._fmt[key]) {
      try { CM._fmt[key] = new Intl.DateTimeFormat("en-GB", { timeZone: CM.zone, hourCycle: "h23", ...opts }); }
      catch (e) { CM._fmt[key] = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", hourCycle: "h23", ...opts }); }
    }
    const out = {};
    for (const p of CM._fmt[key].formatToParts(date)) out[p.type] = p.value;
    return out;
  },
  /* "10:52" (with seconds: "10:52:07") in the school's zone */
  clock(iso, seconds = false) {
    if (!iso) return "–";
    const p = CM._parts(new Date(iso), seconds ? { hour: "2-digit", minute: "2-digit", second: "2-digit" }
                                               : { hour: "2-digit", minute: "2-digit" });
    return seconds ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`;
  },
  time(iso) { return CM.clock(iso, true); },
  shortTime(iso) { return CM.clock(iso, false); },
  /* "Tue 24 Nov 2026" (zh: "2026年11月24日 周二") */
  day(iso) {
    const p = CM._parts(new Date(iso), { weekday: "short", day: "2-digit", month: "short", year: "numeric" });
    if (CM.zh) {
      const n = CM._parts(new Date(iso), { day: "numeric", month: "numeric", year: "numeric" });
      const week = { Mon: "一", Tue: "二", Wed: "三", Thu: "四", Fri: "五", Sat: "六", Sun: "日" }[p.weekday];
      return `${n.year}年${+n.month}月${+n.day}日 周${week}`;
    }
    return `${p.weekday} ${p.day} ${p.month} ${p.year}`;
  },
  /* "24 Nov" (zh: "11月24日"), for chart ticks */
  shortDay(iso) {
    if (CM.zh) {
      const n = CM._parts(new Date(iso), { day: "numeric", month: "numeric" });
      return `${+n.month}月${+n.day}日`;
    }
    const p = CM._parts(new Date(iso), { day: "2-digit", month: "short" });
    return `${p.day} ${p.month}`;
  },
  /* "Tue 24 Nov 2026 10:52" */
  dateTime(iso) { return iso ? `${CM.day(iso)} ${CM.clock(iso)}` : "–"; },
  /* today: the time; other days: date and time */
  when(iso) {
    if (!iso) return CM.t("never");
    return CM.day(iso) === CM.day(new Date().toISOString()) ? CM.clock(iso) : CM.dateTime(iso);
  },
  /* "5 s ago", "3 min ago", "2 h ago", then the date and time */
  ago(iso, now = Date.now()) {
    if (!iso) return CM.t("never");
    const age = (now - new Date(iso).getTime()) / 1000;
    if (age < -5 || age >= 86400) return CM.dateTime(iso);
    if (age < 60) return CM.t("{n} s ago", { n: Math.max(0, Math.floor(age)) });
    if (age < 3600) return CM.t("{n} min ago", { n: Math.floor(age / 60) });
    return CM.t("{n} h ago", { n: Math.floor(age / 3600) });
  },
  /* "45 s", "2 min 22 s", "12 min", "1 h 05 min" (as monitor.timefmt.duration) */
  duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.max(0, Math.round(seconds));
    if (CM.zh) {
      if (s < 60) return `${s}秒`;
      const m = Math.floor(s / 60), rest = s % 60;
      if (m < 60) return m >= 10 || !rest ? `${m}分钟` : `${m}分${rest}秒`;
      return `${Math.floor(m / 60)}小时${String(m % 60).padStart(2, "0")}分`;
    }
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60), rest = s % 60;
    if (m < 60) return m >= 10 || !rest ? `${m} min` : `${m} min ${rest} s`;
    return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
  },
  /* The UTC instant (ms) of a wall-clock time in the school's zone. */
  zonedToUtc(y, mo, d, h, mi, s) {
    const wall = Date.UTC(y, mo - 1, d, h, mi, s);
    let guess = wall;
    for (let i = 0; i < 2; i++) {
      const p = CM._parts(new Date(guess), { year: "numeric", month: "2-digit", day: "2-digit",
                                             hour: "2-digit", minute: "2-digit", second: "2-digit" });
      const shown = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
      guess += wall - shown;
    }
    return guess;
  },
  /* {year, month, day} of an instant in the school's zone */
  ymd(iso) {
    const p = CM._parts(new Date(iso), { year: "numeric", month: "2-digit", day: "2-digit" });
    return { y: +p.year, m: +p.month, d: +p.day };
  },
  /* Chart.js afterBuildTicks: time ticks on whole multiples of ``stepMs`` (10:52:00, 10:52:10...) */
  timeTicks(stepMs) {
    return (scale) => {
      const step = typeof stepMs === "function" ? stepMs(scale) : stepMs, out = [];
      for (let v = Math.ceil(scale.min / step) * step; v <= scale.max && out.length < 50; v += step) out.push({ value: v });
      scale.ticks = out;
    };
  },
  cell(text) { const td = document.createElement("td"); td.textContent = text; return td; },

  /* A Chart.js plugin: shaded periods (options.plugins.bands: [{from, to}] in x-scale values) and vertical
     marker lines with labels (options.plugins.markers: [{x, text}]). */
  overlays: {
    id: "cmOverlays",
    beforeDatasetsDraw(chart, _args, opts) {
      const x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = "rgba(179, 64, 58, 0.12)";
      for (const b of opts.bands || []) {
        const a = Math.max(x.getPixelForValue(b.from), area.left), z = Math.min(x.getPixelForValue(b.to), area.right);
        if (z > a) ctx.fillRect(a, area.top, z - a, area.bottom - area.top);
      }
      ctx.restore();
    },
    afterDatasetsDraw(chart, _args, opts) {
      const x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = CM.line.marker; ctx.fillStyle = CM.line.marker; ctx.lineWidth = 1.5;
      ctx.font = "12px system-ui, sans-serif"; ctx.textBaseline = "top";
      let row = 0;
      for (const m of opts.markers || []) {
        const px = x.getPixelForValue(m.x);
        if (!(px >= area.left - 1 && px <= area.right + 1)) continue;
        ctx.setLineDash([4, 3]);
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
        ctx.setLineDash([]);
        const text = m.text.length > 24 ? m.text.slice(0, 23) + "…" : m.text;
        const w = ctx.measureText(text).width;
        const tx = px + 4 + w > area.right ? px - 4 - w : px + 4;
        ctx.fillText(text, tx, area.top + 2 + (row % 3) * 14);
        row += 1;
      }
      ctx.restore();
    },
  },
};

/* Show every <time datetime> in the school's zone, one format everywhere. */
document.querySelectorAll("time[datetime]").forEach((t) => { if (t.dateTime) t.textContent = CM.dateTime(t.dateTime); });
document.querySelectorAll("[data-duration-from]").forEach((td) => {
  if (td.dataset.durationTo) td.textContent = CM.duration((new Date(td.dataset.durationTo) - new Date(td.dataset.durationFrom)) / 1000);
});
document.querySelectorAll("[data-ago]").forEach((el) => { el.textContent = CM.ago(el.dataset.ago); });
