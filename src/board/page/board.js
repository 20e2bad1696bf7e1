// callcoach supervisors' board: live calls sorted by risk, alerts, a call's
// transcript and chart, notes to the agent, history, card adoption.
// Plain JS: the server sends rows (one CallView per live call) and events.
"use strict";

const $ = (s, root = document) => root.querySelector(s);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const REASON = { network: "网络", price: "资费", competitor: "竞争对手", service: "服务", billing: "扣费", plan: "套餐", relocation: "搬迁" };
const LEVEL = { calm: "平静", annoyed: "不满", angry: "愤怒" };
const TREND = { rising: "↑", steady: "→", falling: "↓" };
const STAGE = { listen: "倾听", empathize: "共情", propose: "方案", confirm: "确认" };
const ALERT = { churn_intent: "流失意向", angry: "客户愤怒", anger_rising: "情绪上升", inflaming: "激化用语", complaint_limit: "投诉超时", speaking_rate: "语速过快" };
const OUTCOME = { retained: "挽留成功", left: "客户离网", unknown: "未定" };
const PART = { empathy_before_offer: "先共情后方案", root_cause: "问清原因", choice_offered: "给出选择", confirmed: "确认办理内容", no_inflaming: "没有激化用语", speaking_rate: "语速" };
const STEP_NAMES = [["listen", "倾听"], ["empathize", "共情"], ["propose", "方案"], ["confirm", "确认"]];

const state = { rows: new Map(), alerts: [], call: null };

function clock(s) {
  s = Math.max(0, Math.floor(s));
  const m = Math.floor(s / 60), r = s % 60;
  return `${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
}

function timeOf(ms) {
  return ms ? new Date(ms).toLocaleString("zh-CN", { hour12: false }) : "";
}

async function api(path, opts) {
  const r = await fetch(path, Object.assign({ credentials: "same-origin" }, opts));
  if (r.status === 401) { location.href = "/login"; throw new Error("signed out"); }
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// ---- live table -----------------------------------------------------------

function levelClass(level) { return level === "angry" ? "red" : level === "annoyed" ? "amber" : "green"; }

function stepsCell(row) {
  return STEP_NAMES.map(([k, n]) => {
    const m = row.steps[k].state;
    const cur = row.stage === k && m !== "done";
    return `<span class="step ${m}${cur ? " current" : ""}">${n}${m === "done" ? "✓" : m === "missed" ? "×" : ""}</span>`;
  }).join("");
}

function rowHtml(row) {
  const riskPct = Math.round(row.risk * 100);
  const riskClass = row.risk >= 0.6 ? "red" : row.risk >= 0.3 ? "amber" : "green";
  const elapsed = row.started_at_unix_ms ? (Date.now() - row.started_at_unix_ms) / 1000 : row.t;
  const reason = row.reason ? `<span class="chip">${esc(REASON[row.reason] || row.reason)}</span>` : "—";
  const emotion = row.level ? `<span class="${levelClass(row.level)}">${LEVEL[row.level]} ${TREND[row.trend] || ""}</span>` : "—";
  const flags = [];
  if (row.churn_intent) flags.push(`<span class="flag red">要走</span>`);
  if (row.inflaming) flags.push(`<span class="flag red">激化×${row.inflaming}</span>`);
  if (row.complaint_over_limit) flags.push(`<span class="flag amber">超时</span>`);
  const alert = row.alert_card ? `<div class="red">⚠ ${esc(row.alert_card)}</div>` : "";
  return `<tr data-call="${row.call_id}" class="${riskClass}-row">
    <td class="risk" data-risk="${row.risk}"><div class="bar ${riskClass}" style="width:${Math.max(4, riskPct)}%"></div><span>${riskPct}</span></td>
    <td>${esc(row.agent)} ${flags.join(" ")}</td>
    <td class="elapsed" data-start="${row.started_at_unix_ms}">${clock(elapsed)}</td>
    <td>${reason}</td>
    <td>${emotion}</td>
    <td class="steps-cell">${stepsCell(row)}</td>
    <td>${esc(row.card || "—")}${alert}</td>
  </tr>`;
}

function renderLive() {
  const rows = [...state.rows.values()].sort((a, b) => b.risk - a.risk || a.started_at_unix_ms - b.started_at_unix_ms);
  $("#live-table tbody").innerHTML = rows.map(rowHtml).join("");
  $("#live-empty").hidden = rows.length > 0;
  $("#live-count").textContent = rows.length;
}

function renderAlerts() {
  $("#alerts").innerHTML = state.alerts.slice(0, 30).map((a) => `<li class="${a.fresh ? "fresh" : ""}" data-call="${a.call_id}">
    <span class="time">${new Date(a.at).toLocaleTimeString("zh-CN", { hour12: false })}</span>
    <b class="${a.kind === "churn_intent" || a.kind === "inflaming" || a.kind === "angry" ? "red" : "amber"}">${ALERT[a.kind] || a.kind}</b>
    ${esc(a.agent)}：${esc(a.text)}</li>`).join("");
  state.alerts.forEach((a) => (a.fresh = false));
}

setInterval(() => {
  document.querySelectorAll("td.elapsed").forEach((td) => {
    const start = Number(td.dataset.start);
    if (start) td.textContent = clock((Date.now() - start) / 1000);
  });
}, 1000);

// ---- one call -------------------------------------------------------------

function transcriptHtml(events) {
  // In call-time order: what was said (by its start), notes and alerts (when they came).
  const lines = [];
  // A second-pass revision replaces the finals of the turn it covers.
  const revised = events.filter((e) => e.type === "segment" && e.revision > 0);
  const covered = (e) => !e.revision && revised.some((r) => r.speaker === e.speaker && e.start >= r.start - 0.001 && e.end <= r.end + 0.001);
  for (const e of events) {
    if (e.type === "segment") {
      if (!e.final || covered(e)) continue;
      lines.push([e.start, `<li class="${e.speaker}"><span class="who">${e.speaker === "customer" ? "客" : "坐"}</span><span class="t">${clock(e.start)}</span> ${esc(e.text)}</li>`]);
    } else if (e.type === "note") {
      lines.push([e.t, `<li class="note"><span class="who">主管</span><span class="t">${clock(e.t)}</span> ${esc(e.from)}：${esc(e.text)}</li>`]);
    } else if (e.type === "alert") {
      lines.push([e.t, `<li class="alert-line"><span class="who">⚠</span><span class="t">${clock(e.t)}</span> ${ALERT[e.kind] || e.kind}：${esc(e.text)}</li>`]);
    }
  }
  return lines.sort((a, b) => a[0] - b[0]).map((l) => l[1]).join("");
}

function chartSvg(events) {
  const W = 560, H = 210, L = 30, R = 10, T = 22, B = 22;
  const end = Math.max(30, ...events.map((e) => e.t || 0), ...events.filter((e) => e.type === "segment").map((e) => e.end));
  const x = (t) => L + (t / end) * (W - L - R);
  const y = (v) => T + (1 - v) * (H - T - B);
  const parts = [`<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="情绪与流失风险">`];
  for (const v of [0, 0.3, 0.6, 1]) parts.push(`<line class="grid" x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}"/><text class="axis" x="2" y="${y(v) + 4}">${v}</text>`);
  for (let s = 0; s <= end; s += Math.max(30, Math.ceil(end / 6 / 30) * 30)) parts.push(`<text class="axis" x="${x(s) - 10}" y="${H - 6}">${clock(s)}</text>`);
  for (const e of events) {
    if (e.type === "segment" && e.final && e.speaker === "agent") parts.push(`<rect class="agent-turn" x="${x(e.start)}" y="${T}" width="${Math.max(1, x(e.end) - x(e.start))}" height="${H - T - B}"/>`);
  }
  const pts = events.filter((e) => e.type === "analysis" && e.final && e.speaker === "customer");
  const line = (f, cls) => pts.length ? `<polyline class="${cls}" points="${pts.map((e) => `${x(e.end)},${y(f(e))}`).join(" ")}"/>` + pts.map((e) => `<circle class="${cls}" cx="${x(e.end)}" cy="${y(f(e))}" r="2.5"/>`).join("") : "";
  parts.push(line((e) => (e.emotion ? e.emotion.anger : 0), "anger"));
  parts.push(line((e) => (e.churn ? e.churn.score : 0), "churn"));
  for (const e of events) {
    if (e.type === "card" && e.action === "shown") parts.push(`<path class="card-mark" d="M${x(e.t) - 5},${T - 14} l10,0 l-5,8 z"><title>${clock(e.t)} ${esc(e.title)}</title></path>`);
    if (e.type === "alert") parts.push(`<circle class="alert-mark" cx="${x(e.t)}" cy="${T - 4}" r="4"><title>${clock(e.t)} ${ALERT[e.kind] || e.kind}: ${esc(e.text)}</title></circle>`);
  }
  parts.push("</svg>");
  return parts.join("");
}

function stepsHtml(steps) {
  if (!steps) return "";
  return STEP_NAMES.map(([k, n]) => {
    const m = steps[k] || { state: "pending" };
    const label = m.state === "done" ? "做到了" : m.state === "missed" ? "漏了" : "未到";
    return `<li class="${m.state}">${n}：${label}${m.at_s != null ? ` (${clock(m.at_s)})` : ""}</li>`;
  }).join("");
}

function summaryHtml(s) {
  if (!s) return "";
  const parts = (s.compliance.parts || []).map((p) => `<li class="${p.points < p.max ? "amber" : ""}">${esc(PART[p.name] || p.name)} ${p.points}/${p.max}：${esc(p.detail)}</li>`).join("");
  return `<h3>通话小结</h3>
    <p><b>${OUTCOME[s.outcome] || s.outcome}</b> · 原因 ${REASON[s.reason] || "未提"} · 合规 <b>${s.compliance.score}</b> 分 · 时长 ${clock(s.duration_s)} · 情绪峰值 ${LEVEL[s.anger_peak_level]}</p>
    <ul>${parts}</ul>
    <p class="muted">坐席说话 ${Math.round(s.agent_talk_s)} 秒，客户 ${Math.round(s.customer_talk_s)} 秒，抢话 ${s.talk_over_s} 秒；卡片 ${s.cards.length} 张</p>`;
}

function renderCall() {
  const c = state.call;
  if (!c) return;
  const row = state.rows.get(c.id);
  const ended = c.events.find((e) => e.type === "call_ended");
  const lastProgress = [...c.events].reverse().find((e) => e.type === "analysis" && e.final);
  $("#call-title").textContent = `${c.agent} 的通话`;
  $("#call-meta").textContent = `${timeOf(c.started)} · ${ended ? "已结束" : "进行中"} · ${c.events.length} 条事件`;
  $("#transcript").innerHTML = transcriptHtml(c.events);
  $("#chart").innerHTML = chartSvg(c.events);
  $("#steps").innerHTML = stepsHtml(row ? row.steps : lastProgress && lastProgress.call.steps);
  $("#note-box").hidden = !!ended;
  $("#summary").innerHTML = ended ? summaryHtml(ended.summary) : "";
  $("#notes").innerHTML = (c.notes || []).map((n) => `<li>${esc(n.supervisor)}：${esc(n.text)}</li>`).join("");
}

async function openCall(id) {
  const body = await api(`/api/calls/${id}`);
  state.call = { id, agent: body.call.agent, started: body.call.started_at_unix_ms, events: body.events, notes: body.notes };
  renderCall();
}

$("#note-send").addEventListener("click", async () => {
  const c = state.call;
  const text = $("#note-text").value.trim();
  if (!c || !text) return;
  try {
    const r = await api(`/api/calls/${c.id}/notes`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }) });
    $("#note-text").value = "";
    $("#note-status").textContent = r.delivered ? "已送达坐席" : "坐席暂时离线，连上后送达";
    c.notes.push(r.note);
    renderCall();
  } catch (e) {
    $("#note-status").textContent = `没发出去：${e.message}`;
  }
});

// ---- history and adoption -------------------------------------------------

function filterQuery() {
  const f = new FormData($("#filters"));
  const q = new URLSearchParams();
  for (const [k, v] of f) if (v) q.set(k, v);
  return q.toString();
}

async function loadHistory() {
  const q = filterQuery();
  $("#csv").href = `/api/calls.csv${q ? "?" + q : ""}`;
  const body = await api(`/api/calls${q ? "?" + q : ""}`);
  $("#history-table tbody").innerHTML = body.calls.filter((c) => !c.live).map((c) => {
    const cards = (c.summary && c.summary.cards) || [];
    const used = cards.filter((x) => x.verdict === "used").length, dis = cards.filter((x) => x.verdict === "dismissed").length;
    return `<tr data-call="${c.call_id}"><td>${timeOf(c.started_at_unix_ms)}</td><td>${esc(c.agent)}</td><td>${c.duration_s != null ? clock(c.duration_s) : ""}</td>
      <td>${OUTCOME[c.outcome] || ""}</td><td>${REASON[c.reason] || ""}</td><td>${c.compliance ?? ""}</td><td>${cards.length} (${used}/${dis})</td></tr>`;
  }).join("");
}

$("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); loadHistory(); });

async function loadAdoption() {
  const body = await api("/api/adoption");
  const rows = (obj) => Object.entries(obj).map(([k, a]) => `<tr><td>${esc(k)}</td><td>${a.shown}</td><td>${a.used}</td><td>${a.dismissed}</td><td>${a.used + a.dismissed ? Math.round((100 * a.used) / (a.used + a.dismissed)) + "%" : "—"}</td></tr>`).join("");
  $("#adoption-cards tbody").innerHTML = rows(body.per_card);
  $("#adoption-agents tbody").innerHTML = rows(body.per_agent);
}

// ---- routing and live updates ----------------------------------------------

function route() {
  const h = location.hash || "#/live";
  for (const v of ["live", "call", "history", "adoption"]) $(`#view-${v}`).hidden = true;
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", h.startsWith(a.getAttribute("href"))));
  const m = h.match(/^#\/call\/([0-9a-f-]{36})$/);
  if (m) { $("#view-call").hidden = false; openCall(m[1]); return; }
  state.call = null;
  if (h.startsWith("#/history")) { $("#view-history").hidden = false; loadHistory(); }
  else if (h.startsWith("#/adoption")) { $("#view-adoption").hidden = false; loadAdoption(); }
  else $("#view-live").hidden = false;
}

document.addEventListener("click", (ev) => {
  const tr = ev.target.closest("tr[data-call], li[data-call]");
  if (tr) location.hash = `#/call/${tr.dataset.call}`;
});

function onUpdate(u) {
  if (u.type === "row") {
    state.rows.set(u.row.call_id, u.row);
    renderLive();
  } else if (u.type === "ended") {
    state.rows.delete(u.call.call_id);
    renderLive();
  } else if (u.type === "event") {
    const e = u.event;
    if (e.type === "alert") {
      state.alerts.unshift({ call_id: e.call_id, agent: u.agent, kind: e.kind, text: e.text, at: Date.now(), fresh: true });
      renderAlerts();
    }
    if (state.call && state.call.id === e.call_id && !state.call.events.some((x) => x.seq === e.seq)) {
      state.call.events.push(e);
      state.call.events.sort((a, b) => a.seq - b.seq);
      renderCall();
    }
  }
}

async function start() {
  const body = await api("/api/calls?limit=200");
  $("#agents-count").textContent = body.agents_connected.length;
  for (const c of body.calls) if (c.live && c.state) state.rows.set(c.call_id, c.state);
  renderLive();
  const es = new EventSource("/api/live");
  es.onopen = () => $("#connection").className = "dot on";
  es.onerror = () => $("#connection").className = "dot off";
  es.onmessage = (m) => onUpdate(JSON.parse(m.data));
  setInterval(async () => {
    try { $("#agents-count").textContent = (await api("/api/calls?limit=1")).agents_connected.length; } catch (_) { /* shown by the dot */ }
  }, 10000);
  window.addEventListener("hashchange", route);
  route();
}

start();
