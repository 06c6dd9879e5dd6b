// The therapist's console page. It talks only to the server that sent it (the CSP allows
// nothing else): GET /api/events as a stream (fetch, so the token goes in a header, which
// EventSource cannot do) and POST /api/control. The token is read from the address once.
"use strict";
(function () {
  const token = new URLSearchParams(window.location.search).get("token") || "";
  const auth = { Authorization: "Bearer " + token };
  const $ = (id) => document.getElementById(id);
  const SHOWN = new Set(["intent", "rating", "noinput", "nomatch", "branch", "interrupted",
    "control", "paused", "resumed", "confirm", "fault", "session_start", "session_end",
    "hot_spot", "setting"]);
  let view = { ratings: [], started_at: null, phase_started_at: null, ended: null };

  // ------------------------------------------------------------ helpers

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
  }

  function describe(e) {
    // One line a therapist can read with eyes half open: what, where, what was heard.
    const parts = [];
    switch (e.event) {
      case "intent":
        parts.push("heard " + e.intent + (e.value !== null && e.value !== undefined ? " " + e.value : ""));
        if (e.text === "console") parts.push("from the console");
        else if (e.text) parts.push("“" + e.text + "”");
        if (e.confidence !== null && e.confidence !== undefined && e.text !== "console")
          parts.push("confidence " + Math.round(e.confidence * 100) + " %");
        break;
      case "rating": parts.push("rating " + e.value + (e.source ? " (entered on the console)" : "")); break;
      case "noinput": parts.push("no answer (" + e.count + ")"); break;
      case "nomatch": parts.push("not understood (" + e.count + ")" + (e.text ? ": “" + e.text + "”" : "")); break;
      case "branch": parts.push("went to " + e.to + " (" + e.reason + ")"); break;
      case "interrupted": parts.push("voice cut off by " + e.by); break;
      case "control":
        parts.push("control " + e.action + (e.to ? " → " + e.to : "") +
          (e.value !== undefined && e.value !== null ? " " + e.value : "") +
          (e.text ? ": “" + e.text + "”" : "") + (e.refused ? " — refused: " + e.refused : ""));
        break;
      case "setting": parts.push(e.name + " → " + e.value); break;
      case "session_end": parts.push("session ended (" + e.reason + ")"); break;
      case "step": parts.push("grounding step"); break;
      case "fault": parts.push("fault: " + e.error); break;
      default: parts.push(e.event.replace("_", " "));
    }
    return parts.join(", ");
  }

  // ------------------------------------------------------------ rendering

  function applyLive(live) {
    Object.assign(view, live);
    $("phase").textContent = live.phase || "–";
    $("step").textContent = live.step || "–";
    $("text").textContent = live.text || "–";
    const next = $("next");
    next.replaceChildren(...(live.next || []).map((t) => el("li", t)));
    if (!next.children.length) next.append(el("li", "(none)"));
    const voice = [live.muted ? "muted" : "on",
      live.rate_wpm ? live.rate_wpm + " words/min" : null,
      live.volume !== null && live.volume !== undefined ? "volume " + Math.round(live.volume * 100) + " %" : null,
      live.perspective ? live.perspective + " person" : null,
      live.eyes ? "eyes " + live.eyes : null].filter(Boolean);
    $("voice").textContent = voice.join(", ");
    $("engine-phase").textContent = live.ended ? "ended (" + live.ended + ")" : (live.engine_phase || "–");
    for (const item of $("outline-list").children) {
      if (item.dataset.step === live.step) {
        item.setAttribute("aria-current", "step");
        item.firstChild.textContent = "▶ now: ";
      } else {
        item.removeAttribute("aria-current");
        item.firstChild.textContent = "";
      }
    }
    tick();
  }

  function addEvent(e) {
    const grounding = e.event === "step" && String(e.step || "").startsWith("grounding");
    if (!SHOWN.has(e.event) && !grounding) return;
    if (e.event === "setting" && !["muted", "eyes", "perspective"].includes(e.name)) return;
    const item = el("li", null, { "data-event": e.event });
    item.append(el("span", e.clock + " ", { class: "clock" }),
      el("span", e.event === "interrupted" || (e.event === "intent" && e.intent === "stop") ? "STOP " : "", { class: "kind" }),
      el("span", describe(e)),
      el("span", e.step ? " · " + e.step : "", { class: "where" }));
    $("event-list").prepend(item);
  }

  function addRating(r) {
    view.ratings.push(r);
    $("rating-list").append(el("li", r.clock + ": " + r.value + (r.phase ? " · " + r.phase : "") +
      (r.step ? " · " + r.step : ""), { "data-value": r.value }));
    drawChart();
  }

  function drawChart() {
    const ns = "http://www.w3.org/2000/svg";
    const W = 320, H = 140, L = 28, B = 20, T = 14, R = 18;  // room for the value labels
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("role", "img");
    const ratings = view.ratings;
    svg.setAttribute("aria-label", ratings.length
      ? "Ratings over time: " + ratings.map((r) => r.value + " at " + r.clock).join(", ")
      : "No ratings yet");
    const y = (v) => T + (H - T - B) * (1 - v / 10);
    const span = Math.max(1, ratings.length ? ratings[ratings.length - 1].t - ratings[0].t : 1);
    const x = (r) => ratings.length < 2 ? L + (W - L - R) / 2 : L + (W - L - R) * (r.t - ratings[0].t) / span;
    for (const v of [0, 5, 10]) {
      const line = document.createElementNS(ns, "line");
      for (const [k, val] of [["x1", L], ["x2", W - R], ["y1", y(v)], ["y2", y(v)]]) line.setAttribute(k, val);
      line.setAttribute("stroke", "currentColor"); line.setAttribute("stroke-opacity", "0.3");
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", 4); label.setAttribute("y", y(v) + 4); label.setAttribute("font-size", "11");
      label.setAttribute("fill", "currentColor"); label.textContent = v;
      svg.append(line, label);
    }
    if (ratings.length) {
      const path = document.createElementNS(ns, "polyline");
      path.setAttribute("points", ratings.map((r) => x(r) + "," + y(r.value)).join(" "));
      path.setAttribute("fill", "none"); path.setAttribute("stroke", "currentColor"); path.setAttribute("stroke-width", "2");
      svg.append(path);
      for (const r of ratings) {
        const dot = document.createElementNS(ns, "circle");
        dot.setAttribute("cx", x(r)); dot.setAttribute("cy", y(r.value)); dot.setAttribute("r", "3.5");
        dot.setAttribute("fill", "currentColor");
        const value = document.createElementNS(ns, "text");
        value.setAttribute("x", x(r) + 5); value.setAttribute("y", y(r.value) - 5);
        value.setAttribute("font-size", "12"); value.setAttribute("fill", "currentColor");
        value.textContent = r.value;
        svg.append(dot, value);
      }
    }
    $("chart").replaceChildren(svg);
  }

  function render(state) {
    view = { ...state, ratings: [] };
    $("rating-list").replaceChildren();
    $("event-list").replaceChildren();
    const outline = $("outline-list"), select = $("jump-step");
    outline.replaceChildren(); select.replaceChildren();
    for (const s of state.outline || []) {
      const item = el("li", null, { "data-step": s.id });
      item.append(el("span", ""), el("span", s.id + " (" + s.kind + (s.phase ? ", " + s.phase : "") + ")"));
      outline.append(item);
      select.append(el("option", s.id + (s.phase ? " — " + s.phase : ""), { value: s.id }));
    }
    for (const e of state.events || []) addEvent(e);
    for (const r of state.ratings || []) addRating(r);
    drawChart();
    const devices = Object.entries(state.devices || {}).map(([role, name]) => role + ": " + name);
    $("devices").textContent = devices.length ? devices.join("; ") : "simulated (no sound device)";
    $("notes").hidden = !state.notes_enabled;
    if (state.teleprompter) {  // the therapist reads aloud: say so where they look
      $("text-heading").textContent = "Read aloud now (teleprompter: the voice is muted)";
      $("next-heading").textContent = "Read next";
    }
    if (state.notes_enabled && state.notes !== null) $("note-text").value = state.notes;
    applyLive(state);
  }

  function tick() {
    const now = Date.now() / 1000;
    if (view.started_at) $("session-timer").textContent = duration((view.ended_at || now) - view.started_at);
    if (view.phase_started_at) $("phase-timer").textContent = duration((view.ended_at || now) - view.phase_started_at);
  }

  function onMessage(message) {
    if (message.type === "state") render(message.state);
    else if (message.type === "event") {
      addEvent(message.event);
      if (message.event.event === "rating") {
        addRating({ t: message.event.t, value: message.event.value, clock: message.event.clock,
          step: message.event.step, phase: message.live.phase });
      }
      if (message.event.event === "session_end") view.ended_at = message.event.at;
      applyLive(message.live);
    } else if (message.type === "note") {
      $("control-status").textContent = "Note saved.";
    }
  }

  // ------------------------------------------------------------ the stream

  async function stream() {
    for (;;) {
      try {
        const response = await fetch("/api/events", { headers: auth, cache: "no-store" });
        if (!response.ok) { $("connection").textContent = "Refused by the session (" + response.status + ")."; return; }
        $("connection").textContent = "Live.";
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const chunk = buffer.slice(0, end); buffer = buffer.slice(end + 2);
            const data = chunk.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
            if (data) onMessage(JSON.parse(data));
          }
        }
      } catch (error) { /* the session may be ending; try again below */ }
      if (view.ended) { $("connection").textContent = "The session has ended."; return; }
      $("connection").textContent = "Reconnecting…";
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  // ------------------------------------------------------------ controls

  async function send(body) {
    try {
      const response = await fetch("/api/control", {
        method: "POST", headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify(body), cache: "no-store" });
      const answer = await response.json();
      $("control-status").textContent = answer.ok ? "Sent: " + body.action + "." : "Not done: " + answer.error;
    } catch (error) {
      $("control-status").textContent = "Not sent: the session is not reachable.";
    }
  }

  const keys = {};
  for (const button of document.querySelectorAll("button[data-action]")) {
    keys[button.dataset.key] = button;
    button.setAttribute("aria-keyshortcuts", button.dataset.key === "Q" ? "Shift+Q" : button.dataset.key);
    button.addEventListener("click", () => send({ action: button.dataset.action }));
  }
  $("rating-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send({ action: "rating", value: parseInt($("rating-value").value, 10) });
    $("rating-value").value = "";
  });
  $("say-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send({ action: "say", text: $("say-text").value });
    $("say-text").value = "";
  });
  $("jump-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send({ action: "jump", step: $("jump-step").value });
  });
  $("note-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send({ action: "note", text: $("note-text").value });
  });
  const focusKeys = { k: "rating-value", y: "say-text", j: "jump-step" };
  document.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (event.key === "Escape" && typing) { document.activeElement.blur(); return; }
    if (typing || event.ctrlKey || event.altKey || event.metaKey) return;
    if (focusKeys[event.key]) { event.preventDefault(); $(focusKeys[event.key]).focus(); return; }
    const button = keys[event.key];
    if (button) { event.preventDefault(); button.focus(); button.click(); }
  });

  setInterval(tick, 1000);
  stream();
})();
