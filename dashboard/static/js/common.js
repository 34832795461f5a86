/* Helpers shared by the pages: API calls, formatting, and the emotion colours. */
"use strict";
const CM = {
  emotions: ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
  colors: { angry: "#d1495b", disgust: "#8f7a3b", fear: "#8e6bbf", happy: "#f2b134",
            sad: "#4f7cac", surprise: "#4fb0a5", neutral: "#b8bec6" },
  emotionsOn: document.body.dataset.emotions === "on",
  tracksOn: document.body.dataset.tracks === "on",

  async getJSON(url) {
    const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (resp.status === 401) { window.location = "/login?next=" + encodeURIComponent(location.pathname); return null; }
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.message || resp.statusText);
    return body;
  },
  pct(v) { return v === null || v === undefined ? "–" : Math.round(v * 100) + "%"; },
  time(iso) { return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "–"; },
  shortTime(iso) { return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); },
  when(iso) { // today: the time to the second; other days: date and time
    if (!iso) return "never";
    const d = new Date(iso);
    return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : CM.dateTime(iso);
  },
  dateTime(iso) { return iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "–"; },
  duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
  },
  cell(text) { const td = document.createElement("td"); td.textContent = text; return td; },
};

/* Show every <time datetime> in the browser's local time. */
document.querySelectorAll("time[datetime]").forEach((t) => { if (t.dateTime) t.textContent = CM.dateTime(t.dateTime); });
document.querySelectorAll("[data-duration-from]").forEach((td) => {
  if (td.dataset.durationTo) td.textContent = CM.duration((new Date(td.dataset.durationTo) - new Date(td.dataset.durationFrom)) / 1000);
});
