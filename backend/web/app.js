// The web page's script: reads the backend's public, read-only /v1 routes and renders
// them. Plain browser JavaScript (no build step, no dependency); every value from the
// API is inserted as text, never as HTML.
//
// Each <section> carries data-state: "loading", "ready", "empty" or "error" (and "idle"
// before it has anything to show), so that tests and scripts can tell when it rendered.
(function () {
  "use strict";

  const params = new URLSearchParams(window.location.search);
  const config = window.GLS_CONFIG || {};

  function intParam(name, fallback, min, max) {
    const n = Number.parseInt(params.get(name) ?? "", 10);
    const value = Number.isFinite(n) ? n : fallback;
    return Math.min(max, Math.max(min, value));
  }

  const api = String(params.get("api") ?? config.apiBase ?? "").replace(/\/+$/, "");
  const settings = {
    player: params.get("player") ?? config.player ?? "",
    mode: params.get("mode") ?? config.mode ?? "",
    limit: intParam("limit", config.limit ?? 10, 1, 100),
    radius: intParam("radius", 3, 1, 25),
    matches: intParam("matches", 10, 1, 50),
    refreshMs: intParam("refresh", config.refreshSecs ?? 5, 1, 3600) * 1000,
  };

  // --- fetching ------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function get(path, query) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== "" && value !== undefined && value !== null) {
        search.set(key, String(value));
      }
    }
    const qs = search.toString();
    const url = api + path + (qs ? "?" + qs : "");
    let response;
    try {
      response = await fetch(url, { headers: { Accept: "application/json" } });
    } catch (e) {
      throw new ApiError(0, "network", "cannot reach the API at " + (api || "this origin"));
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (!response.ok) {
      const err = body && body.error ? body.error : {};
      throw new ApiError(response.status, err.code || "http_" + response.status,
        err.message || "HTTP " + response.status);
    }
    return body;
  }

  const pid = (id) => encodeURIComponent(id);

  // --- rendering helpers ---------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") {
        node.className = value;
      } else {
        node.setAttribute(key, String(value));
      }
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function section(id) {
    const root = document.getElementById(id);
    return {
      root,
      body: root.querySelector("tbody"),
      note: root.querySelector(".note"),
      error: root.querySelector(".error"),
      setState(state) {
        root.dataset.state = state;
      },
      fail(e) {
        this.error.textContent = e.message;
        this.error.hidden = false;
        this.setState("error");
      },
      clearError() {
        this.error.textContent = "";
        this.error.hidden = true;
      },
    };
  }

  const rating = (r) => (typeof r === "number" ? r.toFixed(0) : "—");
  const signed = (d) => (d > 0 ? "+" : d < 0 ? "−" : "±") + Math.abs(d).toFixed(1);

  function waitText(ms) {
    if (ms === null || ms === undefined) {
      return "—";
    }
    if (ms < 60000) {
      return (ms / 1000).toFixed(1) + " s";
    }
    return Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
  }

  function dateText(epochMs) {
    if (!epochMs) {
      return "—";
    }
    return new Date(epochMs).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  function boardText(board) {
    const parts = [];
    if (board && board.mode) {
      parts.push(board.mode);
    }
    if (board && board.season) {
      parts.push("season " + board.season);
    }
    return parts.length ? parts.join(", ") : "all modes";
  }

  function boardQuery() {
    return settings.mode ? { mode: settings.mode } : {};
  }

  function leaderboardRows(body, entries) {
    body.replaceChildren(...entries.map((e) => el("tr", {
      "data-player": e.player_id,
      "data-rank": e.rank,
      class: e.player_id === settings.player ? "me" : "",
    },
    el("td", { class: "rank" }, e.rank),
    el("td", { class: "player" },
      e.display_name ? el("span", { class: "name" }, e.display_name) : "",
      e.display_name ? " " : "",
      el("span", { class: "id" }, e.player_id)),
    el("td", { class: "rating" }, rating(e.rating)),
    el("td", { class: "record" }, e.wins + "–" + e.losses),
    el("td", { class: "games" }, e.games))));
  }

  // --- sections ------------------------------------------------------------------------

  // Bumped on every "Show": an answer to an older request is dropped, so a slow reply
  // never overwrites a newer player's data.
  let generation = 0;
  const stale = (gen) => gen !== generation;

  async function loadTop(gen) {
    const s = section("top");
    s.setState("loading");
    s.root.querySelector(".board").textContent = "(" + boardText({ mode: settings.mode }) + ")";
    try {
      const page = await get("/v1/leaderboards/top", { ...boardQuery(), limit: settings.limit });
      if (stale(gen)) {
        return;
      }
      s.clearError();
      leaderboardRows(s.body, page.entries);
      s.note.textContent = page.total_players + " ranked players";
      s.setState(page.entries.length ? "ready" : "empty");
    } catch (e) {
      if (!stale(gen)) {
        s.body.replaceChildren();
        s.fail(e);
      }
    }
  }

  async function loadAround(gen) {
    const s = section("around");
    s.root.querySelector(".who").textContent = settings.player || "a player";
    if (!settings.player) {
      s.body.replaceChildren();
      s.note.textContent = "Enter a player id to see the players around them.";
      s.setState("idle");
      return;
    }
    s.setState("loading");
    try {
      const page = await get("/v1/leaderboards/around/" + pid(settings.player),
        { ...boardQuery(), radius: settings.radius });
      if (stale(gen)) {
        return;
      }
      s.clearError();
      leaderboardRows(s.body, page.entries);
      const me = page.entries.find((e) => e.player_id === settings.player);
      s.note.textContent = me
        ? "Rank " + me.rank + " of " + page.total_players + " (" + boardText(page.board) + ")"
        : "Not ranked on this board yet.";
      s.setState(page.entries.length ? "ready" : "empty");
    } catch (e) {
      if (!stale(gen)) {
        s.body.replaceChildren();
        s.note.textContent = "";
        s.fail(e);
      }
    }
  }

  async function loadProfile(gen) {
    const s = section("profile");
    const name = s.root.querySelector(".name");
    const dl = s.root.querySelector("dl");
    if (!settings.player) {
      name.textContent = "No player selected.";
      dl.replaceChildren();
      s.setState("idle");
      return;
    }
    s.setState("loading");
    try {
      const p = await get("/v1/players/" + pid(settings.player) + "/profile");
      if (stale(gen)) {
        return;
      }
      s.clearError();
      name.replaceChildren(
        el("span", { class: "display-name" }, p.display_name || p.player_id),
        " ",
        el("span", { class: "id" }, p.player_id));
      const board = settings.mode
        ? p.boards.find((b) => b.board.mode === settings.mode && !b.board.season)
        : null;
      const stats = board ? board.stats : p.overall;
      const rows = [
        ["Board", board ? boardText(board.board) : "all modes"],
        ["Rating", rating(stats.rating) + " ± " + rating(stats.rating_deviation)],
        ["Games", stats.games],
        ["Won", stats.wins],
        ["Lost", stats.losses],
        ["Drawn", stats.draws],
        ["Streak", stats.streak],
        ["Last match", dateText(p.last_match_at)],
      ];
      dl.replaceChildren(...rows.flatMap(([k, v]) => [
        el("dt", {}, k),
        el("dd", { "data-field": k.toLowerCase().replace(/\s+/g, "-") }, v),
      ]));
      s.setState("ready");
    } catch (e) {
      if (!stale(gen)) {
        name.textContent = "";
        dl.replaceChildren();
        s.fail(e.status === 404 ? new Error("No player " + settings.player + ".") : e);
      }
    }
  }

  async function loadMatches(gen) {
    const s = section("matches");
    if (!settings.player) {
      s.body.replaceChildren();
      s.note.textContent = "";
      s.setState("idle");
      return;
    }
    s.setState("loading");
    try {
      const r = await get("/v1/players/" + pid(settings.player) + "/matches",
        { limit: settings.matches });
      if (stale(gen)) {
        return;
      }
      s.clearError();
      s.body.replaceChildren(...r.matches.map((m) => el("tr", {
        "data-match": m.match_id,
        class: "outcome-" + String(m.outcome).toLowerCase(),
      },
      el("td", { class: "ended" }, dateText(m.ended_at)),
      el("td", { class: "mode" }, m.mode + (m.season ? " (" + m.season + ")" : "")),
      el("td", { class: "outcome" }, String(m.outcome).toLowerCase() + (m.left_early ? " (left early)" : "")),
      el("td", { class: "placement" }, m.placement),
      el("td", { class: "change" }, signed(m.rating_change)),
      el("td", { class: "rating" }, rating(m.rating_after)))));
      s.note.textContent = r.matches.length ? "" : "No matches yet.";
      s.setState(r.matches.length ? "ready" : "empty");
    } catch (e) {
      if (!stale(gen)) {
        s.body.replaceChildren();
        s.fail(e.status === 404 ? new Error("No player " + settings.player + ".") : e);
      }
    }
  }

  let statsRefreshes = 0;
  let statsTimer = null;

  async function loadStats() {
    const s = section("stats");
    if (!s.root.dataset.refreshes) {
      s.setState("loading");
    }
    try {
      const st = await get("/v1/matchmaking/stats");
      s.clearError();
      s.body.replaceChildren(...st.modes.map((m) => el("tr", { "data-mode": m.mode },
        el("td", { class: "mode" }, m.mode),
        el("td", { class: "players" }, m.players_searching),
        el("td", { class: "tickets" }, m.tickets_searching),
        el("td", { class: "median-wait", "data-ms": m.median_wait_ms ?? "" }, waitText(m.median_wait_ms)),
        el("td", { class: "matches" }, m.matches_started))));
      s.note.textContent = "Waits and matches over the last " + st.window_secs +
        " s; updated " + dateText(st.at) + ", every " + settings.refreshMs / 1000 + " s.";
      fillModes(st.modes.map((m) => m.mode));
      s.setState("ready");
    } catch (e) {
      s.fail(e);
    } finally {
      statsRefreshes += 1;
      s.root.dataset.refreshes = String(statsRefreshes);
      statsTimer = window.setTimeout(loadStats, settings.refreshMs);
    }
  }

  // --- controls ------------------------------------------------------------------------

  function fillModes(modes) {
    const select = document.getElementById("mode-select");
    const have = new Set(Array.from(select.options, (o) => o.value));
    for (const mode of modes) {
      if (!have.has(mode)) {
        select.append(el("option", { value: mode }, mode));
      }
    }
  }

  function loadPlayer() {
    generation += 1;
    const gen = generation;
    return Promise.all([loadTop(gen), loadAround(gen), loadProfile(gen), loadMatches(gen)]);
  }

  function start() {
    const input = document.getElementById("player-input");
    input.value = settings.player;
    fillModes(settings.mode ? [settings.mode] : []);
    document.getElementById("mode-select").value = settings.mode;
    document.getElementById("api-note").textContent = "API: " + (api || window.location.origin);
    document.getElementById("controls").addEventListener("submit", (event) => {
      event.preventDefault();
      settings.player = input.value.trim();
      settings.mode = document.getElementById("mode-select").value;
      const url = new URL(window.location.href);
      for (const [key, value] of [["player", settings.player], ["mode", settings.mode]]) {
        if (value) {
          url.searchParams.set(key, value);
        } else {
          url.searchParams.delete(key);
        }
      }
      window.history.replaceState(null, "", url);
      loadPlayer();
    });
    document.addEventListener("visibilitychange", () => {
      // Refresh at once when the tab comes back rather than at the next tick.
      if (!document.hidden && statsTimer !== null) {
        window.clearTimeout(statsTimer);
        statsTimer = null;
        loadStats();
      }
    });
    loadPlayer();
    loadStats();
  }

  start();
})();
