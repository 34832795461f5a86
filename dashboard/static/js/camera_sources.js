/* "Test connection" on the admin page's cameras (dashboard/camera_sources.py): ask, then poll the answer
   twice a second. The serve host of the camera tests the source (the dashboard's host when none answers);
   the line shown says which host tested. Without this script the form posts and the answer is flashed. */
"use strict";
(() => {
  const POLL_MS = 500, GIVE_UP_MS = 15000;
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

  async function test(form) {
    const out = form.querySelector(".test-result");
    const button = form.querySelector("button");
    out.textContent = form.dataset.testing;
    out.className = "test-result small";
    button.disabled = true;
    try {
      const resp = await fetch(form.action, {
        method: "POST", credentials: "same-origin", body: new FormData(form),
        headers: { Accept: "application/json" },
      });
      const asked = await resp.json();
      if (!resp.ok) throw new Error(asked.error || asked.message || resp.statusText);
      const until = Date.now() + GIVE_UP_MS;
      while (Date.now() < until) {
        await sleep(POLL_MS);
        const state = await CM.getJSON(asked.poll);
        if (state && state.done) {
          out.textContent = state.line;
          out.className = "test-result small " + (state.ok ? "ok" : "error");
          out.dataset.host = state.host;
          return;
        }
      }
      throw new Error(form.dataset.noAnswer);
    } catch (err) {
      out.textContent = err.message;
      out.className = "test-result small error";
    } finally {
      button.disabled = false;
    }
  }

  for (const form of document.querySelectorAll("form.test-form")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      test(form);
    });
  }
})();
