// anprd's live page: cameras and events by Server-Sent Events, search by /events.
"use strict";

const TOKEN_KEY = "anprd-token";
const RECENT_ROWS = 50;
let token = sessionStorage.getItem(TOKEN_KEY) || "";
let stream = null;
let nextOffset = null;
const shown = {};  // camera name -> frame number on screen

const $ = (id) => document.getElementById(id);

function withToken(path) {
  if (!token) return path;
  return path + (path.includes("?") ? "&" : "?") + "access_token=" + encodeURIComponent(token);
}

function api(path) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  return fetch(path, { headers, cache: "no-store" });
}

function showLogin(why) {
  if (stream) { stream.close(); stream = null; }
  $("main").hidden = true;
  $("login").hidden = false;
  $("login-why").textContent = why;
  $("link").textContent = "locked";
  $("link").className = "state down";
  $("token").focus();
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function eventRow(e) {
  const row = document.createElement("tr");
  row.dataset.plate = e.plate;
  cell(row, new Date(e.first_seen).toLocaleString());
  cell(row, e.camera);
  cell(row, e.plate, "plate");
  cell(row, e.list ? e.list + (e.label ? " (" + e.label + ")" : "") : "");
  cell(row, Math.round(100 * e.confidence) + "%");
  const pic = cell(row, "");
  if (e.snapshot_url) {
    const a = document.createElement("a");
    a.href = withToken(e.snapshot_url);
    a.target = "_blank";
    const img = document.createElement("img");
    img.src = withToken(e.snapshot_crop_url || e.snapshot_url);
    img.alt = "snapshot of " + e.plate;
    img.loading = "lazy";
    a.appendChild(img);
    pic.appendChild(a);
  }
  return row;
}

function addRecent(e) {
  const body = $("recent");
  body.insertBefore(eventRow(e), body.firstChild);
  while (body.rows.length > RECENT_ROWS) body.deleteRow(-1);
}

function cameraCard(cam) {
  let card = document.querySelector(`.camera[data-name="${CSS.escape(cam.name)}"]`);
  if (card) return card;
  card = document.createElement("article");
  card.className = "camera";
  card.dataset.name = cam.name;
  const h = document.createElement("h3");
  const name = document.createElement("span");
  name.textContent = cam.name;
  const state = document.createElement("span");
  state.className = "state";
  h.append(name, state);
  const img = document.createElement("img");
  img.alt = "latest frame of " + cam.name;
  img.addEventListener("load", () => { img.dataset.loading = ""; });
  img.addEventListener("error", () => { img.dataset.loading = ""; });
  const facts = document.createElement("div");
  facts.className = "facts";
  card.append(h, img, facts);
  $("cameras").appendChild(card);
  const option = document.createElement("option");
  option.value = option.textContent = cam.name;
  $("q-camera").appendChild(option);
  return card;
}

function showCameras(cameras) {
  for (const cam of cameras) {
    const card = cameraCard(cam);
    const state = card.querySelector(".state");
    state.textContent = cam.state;
    state.className = "state " + cam.state;
    const since = new Date(cam.since).toLocaleTimeString();
    const rate = cam.sampled_fps === null ? "" :
      ` · ${cam.sampled_fps} fps sampled, ${cam.dropped_fps} dropped`;
    card.querySelector(".facts").textContent =
      `${cam.state} since ${since}${rate}` + (cam.last_error ? ` · ${cam.last_error}` : "");
    const img = card.querySelector("img");
    if (cam.frame && cam.frame !== shown[cam.name] && !img.dataset.loading) {
      shown[cam.name] = cam.frame;
      img.dataset.loading = "1";
      img.dataset.frame = cam.frame;
      img.src = withToken(`/camera/${encodeURIComponent(cam.name)}/frame.jpg?f=${cam.frame}`);
    }
  }
}

function openStream() {
  stream = new EventSource(withToken("/events/stream"));
  stream.addEventListener("open", () => {
    $("link").textContent = "live";
    $("link").className = "state live";
  });
  stream.addEventListener("recent", (m) => {
    $("recent").replaceChildren();
    for (const e of JSON.parse(m.data)) addRecent(e);
  });
  stream.addEventListener("plate", (m) => addRecent(JSON.parse(m.data)));
  stream.addEventListener("cameras", (m) => showCameras(JSON.parse(m.data)));
  stream.addEventListener("error", async () => {
    $("link").textContent = "reconnecting";
    $("link").className = "state retrying";
    try {
      const r = await api("/cameras");
      if (r.status === 401) showLogin("The token was refused. Enter it again.");
    } catch (_) { /* the daemon is away: EventSource retries by itself */ }
  });
}

function isoOf(local) {
  return local ? new Date(local).toISOString() : "";
}

async function search(offset) {
  const q = new URLSearchParams();
  const plate = $("q-plate").value.trim();
  if (plate) q.set("plate", plate);
  if ($("q-camera").value) q.set("camera", $("q-camera").value);
  if ($("q-since").value) q.set("since", isoOf($("q-since").value));
  if ($("q-until").value) q.set("until", isoOf($("q-until").value));
  q.set("limit", "50");
  if (offset) q.set("offset", String(offset));
  const r = await api("/events?" + q);
  if (r.status === 401) { showLogin("The token was refused. Enter it again."); return; }
  const body = await r.json();
  if (!r.ok) { $("found").textContent = body.error; return; }
  if (!offset) $("results").replaceChildren();
  for (const e of body.events) $("results").appendChild(eventRow(e));
  $("found").textContent = `${body.total} event${body.total === 1 ? "" : "s"} found`;
  nextOffset = body.next_offset;
  $("more").hidden = nextOffset === null;
}

async function start() {
  let r;
  try {
    r = await api("/cameras");
  } catch (_) {
    $("link").textContent = "unreachable";
    setTimeout(start, 2000);
    return;
  }
  if (r.status === 401) {
    showLogin(token ? "The token was refused. Enter it again." :
      "This daemon asks for its access token.");
    return;
  }
  $("login").hidden = true;
  $("main").hidden = false;
  showCameras((await r.json()).cameras);
  openStream();
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  start();
});
$("search").addEventListener("submit", (ev) => { ev.preventDefault(); search(0); });
$("more").addEventListener("click", () => search(nextOffset));
start();
