/* Camera set-up with a picture (camera_picture.html): take one snapshot when asked (it lives in this page's
   memory only), draw the people found coloured by posture, and let the admin drag areas to ignore, areas to
   count only in, and the front of the room. The text fields stay the truth: drawing writes them, typing in
   them redraws, and the form saves them like the camera setup form. */
"use strict";
(function () {
  const root = document.getElementById("picture-setup");
  if (!root) return;
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.getElementById("picture-overlay");
  const img = document.getElementById("snapshot-image");
  const frame = document.getElementById("picture");
  const status = document.getElementById("snapshot-status");
  const tools = document.getElementById("draw-tools");
  const button = document.getElementById("take-snapshot");
  const fields = {
    ignore: document.getElementById("field-ignore"),
    include: document.getElementById("field-include"),
    board: document.getElementById("field-board"),
  };
  const words = root.dataset;
  let shot = null;  // the snapshot's JSON: {width, height, people: [{x, y, w, h, posture}], front, heads_up}
  let dragging = null;  // {x, y} where the pointer went down, in fractions of the frame

  const round3 = (v) => Math.round(v * 1000) / 1000;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  /* "x,y,w,h;x,y,w,h" → [[x, y, w, h], …]; parts that are not 4 numbers are skipped (the server says why) */
  function parseRects(text) {
    return text.split(";").map((p) => p.trim()).filter(Boolean)
      .map((p) => p.split(",").map((v) => Number(v.trim())))
      .filter((r) => r.length === 4 && r.every(Number.isFinite));
  }
  const rectText = (r) => r.map((v) => String(round3(v))).join(",");
  const contains = (r, cx, cy) => cx >= r[0] && cx <= r[0] + r[2] && cy >= r[1] && cy <= r[1] + r[3];

  function node(name, attrs, parent, text) {
    const el = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text) { const t = document.createElementNS(NS, "title"); t.textContent = text; el.appendChild(t); }
    parent.appendChild(el);
    return el;
  }

  /* Counted with the areas in the fields now (the worker's rule: the box centre, monitor.cameras.roi_mask). */
  function counted(p, ignore, include) {
    const cx = (p.x + p.w / 2) / shot.width, cy = (p.y + p.h / 2) / shot.height;
    if (ignore.some((r) => contains(r, cx, cy))) return false;
    return !include.length || include.some((r) => contains(r, cx, cy));
  }

  /* The front as the calibrate drawing shows it: a head at the top-left corner pointing at (yaw, pitch). */
  function front() {
    const m = /^\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*$/.exec(fields.board.value);
    return m ? [Number(m[1]), Number(m[2])] : shot.front;
  }

  function draw(preview) {
    if (!shot) return;
    const W = shot.width, H = shot.height;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    const ignore = parseRects(fields.ignore.value), include = parseRects(fields.include.value);
    for (const r of ignore) node("rect", { class: "area-ignore", x: r[0] * W, y: r[1] * H, width: r[2] * W, height: r[3] * H }, svg);
    for (const r of include) node("rect", { class: "area-include", x: r[0] * W, y: r[1] * H, width: r[2] * W, height: r[3] * H }, svg);
    let kept = 0;
    for (const p of shot.people) {
      const inside = p.posture !== null && counted(p, ignore, include);
      kept += inside ? 1 : 0;
      const cls = inside ? p.posture : "dropped";
      const word = inside ? words["word" + p.posture[0].toUpperCase() + p.posture.slice(1)] : words.wordDropped;
      node("rect", { class: `person ${cls}`, x: p.x, y: p.y, width: p.w, height: p.h, "data-counted": inside ? "1" : "0" }, svg, word);
    }
    svg.dataset.counted = String(kept);
    const [yaw, pitch] = front(), L = 50, c = [70, 70];
    node("circle", { class: "front", cx: c[0], cy: c[1], r: L }, svg);
    const dx = -Math.sin(yaw * Math.PI / 180) * L, dy = -Math.sin(pitch * Math.PI / 180) * L;
    node("line", { class: "front", x1: c[0], y1: c[1], x2: c[0] + dx, y2: c[1] + dy, id: "front-arrow" }, svg);
    if (preview) node("rect", { class: "area-drawing", ...preview }, svg);
  }

  function fraction(evt) {
    const box = svg.getBoundingClientRect();
    return { x: clamp((evt.clientX - box.left) / box.width, 0, 1), y: clamp((evt.clientY - box.top) / box.height, 0, 1) };
  }
  const tool = () => (tools.querySelector("input[name=tool]:checked") || {}).value || "ignore";

  svg.addEventListener("pointerdown", (evt) => {
    if (!shot) return;
    dragging = fraction(evt);
    svg.setPointerCapture(evt.pointerId);
    evt.preventDefault();
  });
  svg.addEventListener("pointermove", (evt) => {
    if (!dragging) return;
    const at = fraction(evt), W = shot.width, H = shot.height;
    if (tool() === "front") {
      draw();
      node("line", { class: "front", x1: dragging.x * W, y1: dragging.y * H, x2: at.x * W, y2: at.y * H }, svg);
      return;
    }
    draw({ x: Math.min(dragging.x, at.x) * W, y: Math.min(dragging.y, at.y) * H,
           width: Math.abs(at.x - dragging.x) * W, height: Math.abs(at.y - dragging.y) * H });
  });
  svg.addEventListener("pointerup", (evt) => {
    if (!dragging) return;
    const start = dragging, at = fraction(evt);
    dragging = null;
    if (tool() === "front") {
      // The drag is the way the students look at the board; a fifth of the frame's width is straight sideways.
      const R = 0.2 * shot.width;
      const dx = clamp(((at.x - start.x) * shot.width) / R, -1, 1), dy = clamp(((at.y - start.y) * shot.height) / R, -1, 1);
      if (Math.abs(dx) + Math.abs(dy) > 0.02) {
        const yaw = -Math.asin(dx) * 180 / Math.PI, pitch = -Math.asin(dy) * 180 / Math.PI;
        fields.board.value = `${Math.round(yaw * 10) / 10},${Math.round(pitch * 10) / 10}`;
      }
    } else {
      const r = [Math.min(start.x, at.x), Math.min(start.y, at.y), Math.abs(at.x - start.x), Math.abs(at.y - start.y)];
      if (r[2] > 0.005 && r[3] > 0.005) {
        const field = fields[tool()];
        const rects = parseRects(field.value);
        rects.push(r.map(round3));
        field.value = rects.map(rectText).join(";");
      }
    }
    draw();
  });
  svg.addEventListener("pointercancel", () => { dragging = null; draw(); });

  for (const f of Object.values(fields)) f.addEventListener("input", () => draw());
  for (const b of document.querySelectorAll("[data-clear]")) {
    b.addEventListener("click", () => { document.getElementById(b.dataset.clear).value = ""; draw(); });
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = words.taking;
    try {
      const { ok, status: code, body } = await CM.sendJSON(root.dataset.snapshotUrl, {});
      if (!ok) {
        status.textContent = `${words.failed} ${(body && body.message) || CM.t("error {status}", { status: code })}`;
        return;
      }
      shot = body;
      img.src = body.image;  // a data URL: the picture is never fetched from, nor kept at, an address
      await img.decode().catch(() => {});
      frame.hidden = false;
      tools.disabled = false;
      const h = body.heads_up;
      const counts = { n: body.people.length, kept: h.present, up: h.up, down: h.down, away: h.away, unknown: h.unknown };
      status.textContent = words.taken.replace(/\{(\w+)\}/g, (m, k) => (k in counts ? String(counts[k]) : m));
      draw();
    } finally {
      button.disabled = false;
    }
  });
})();
