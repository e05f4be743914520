// The playground page: a small Slack client for the local workspace.
// It renders the bot's Block Kit and sends what the user does to the
// playground's endpoints, which sign it and pass it to the bot.
"use strict";

const state = { users: [], channels: [], user: "", channel: "", messages: [], views: [], homes: {}, bot: "", tab: "channel" };

// Commands the start page offers to click.
const TRY = ["/whm help", "/ops run", "/example greet name=alice", "/example counter add 5", "/ops approvals"];

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(path, body) {
  const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const r = await fetch(path, opts);
  const text = await r.text();
  try { return JSON.parse(text); } catch { return {}; }
}

function userName(id) {
  const u = state.users.find((u) => u.id === id);
  if (u) return u.name;
  if (id === state.bot) return "deskbot";
  return id;
}

function channelID(name) { return "C" + name.toUpperCase(); }

// mrkdwn: escape, then *bold*, _italic_, `code`, ```pre```, <@U…>, <!date…|x>, <url|label>.
// The bot escapes &, < and > as Slack asks (&amp;, &lt;, &gt;); Slack
// shows them as the characters, so once the markup is read they are
// turned back (unescape), not shown as "&amp;".
function mrkdwn(text) {
  const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const unescape = (s) => s.replace(/&amp;(amp|lt|gt);/g, "&$1;");
  const parts = String(text || "").split("```");
  let html = "";
  parts.forEach((part, i) => {
    if (i % 2 === 1) { html += "<pre>" + unescape(esc(part.replace(/^\n/, ""))) + "</pre>"; return; }
    let s = esc(part);
    s = s.replace(/&lt;@([A-Z0-9]+)&gt;/g, (_, id) => "@" + esc(userName(id)));
    s = s.replace(/&lt;!date\^[^|]*\|([^&]*)&gt;/g, "$1");
    s = s.replace(/&lt;(https?:[^|&]*)\|([^&]*)&gt;/g, '<a href="$1">$2</a>');
    s = s.replace(/`([^`]+)`/g, "<code>$1</code>");
    s = s.replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<b>$2</b>");
    s = s.replace(/(^|[\s(])_([^_\n]+)_/g, "$1<i>$2</i>");
    s = s.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
    s = s.replace(/\n/g, "<br>");
    html += unescape(s);
  });
  return html;
}

const EMOJI = {
  white_check_mark: "✅", x: "❌", warning: "⚠️", eyes: "👀", hourglass: "⏳", hourglass_flowing_sand: "⏳",
  large_green_circle: "🟢", large_blue_circle: "🔵", large_orange_circle: "🟠", red_circle: "🔴", lock: "🔒",
  paperclip: "📎", no_entry: "⛔", heavy_check_mark: "✔️", gear: "⚙️",
};

function textObject(t) {
  const span = el("span");
  if (!t) return span;
  if (t.type === "mrkdwn") span.innerHTML = mrkdwn(t.text);
  else span.textContent = t.text;
  return span;
}

function richText(rt) {
  const out = el("span");
  for (const e of rt.elements || []) {
    if (e.type === "rich_text_preformatted") {
      out.append(el("pre", {}, (e.elements || []).map((x) => x.text || "").join("")));
    } else {
      for (const x of e.elements || []) {
        const t = el(x.style && x.style.code ? "code" : "span", {}, x.text || "");
        if (x.style && x.style.bold) t.style.fontWeight = "700";
        out.append(t);
      }
    }
  }
  return out;
}

// renderBlocks renders Block Kit; view is the open modal the blocks
// belong to (its selects then work), or undefined for a message.
function renderBlocks(blocks, msg, view) {
  const out = [];
  for (const b of blocks || []) {
    switch (b.type) {
      case "header":
        out.push(el("div", { class: "block-header" }, textObject(b.text)));
        break;
      case "section": {
        const d = el("div", { class: "block-section" });
        if (b.text) d.append(textObject(b.text));
        if (b.fields) d.append(el("div", { class: "fields" }, b.fields.map((f) => el("div", {}, textObject(f)))));
        if (b.accessory && b.accessory.type === "button") d.append(el("div", { class: "accessory" }, button(b.accessory, b, msg)));
        out.push(d);
        break;
      }
      case "context":
        out.push(el("div", { class: "block-context" }, (b.elements || []).map((e) => textObject(e))));
        break;
      case "divider":
        out.push(el("hr"));
        break;
      case "rich_text":
        out.push(el("div", { class: "block-section" }, richText(b)));
        break;
      case "table": {
        const t = el("table", { class: "block-table" });
        for (const row of b.rows || []) {
          t.append(el("tr", {}, row.map((c) => el("td", {}, c.type === "rich_text" ? richText(c) : (c.text || "")))));
        }
        out.push(t);
        break;
      }
      case "actions":
        out.push(el("div", { class: "block-actions" }, (b.elements || []).map((e) => {
          if (e.type === "button") return button(e, b, msg);
          if (view) return widget(e, b.block_id, view, (value) => api("/playground/action", {
            user: state.user, viewID: view.id, actionID: e.action_id, blockID: b.block_id, type: e.type, selected: value,
          }));
          return null;
        })));
        break;
      case "input": {
        out.push(inputBlock(b, view));
        break;
      }
    }
  }
  return out;
}

function button(e, block, msg) {
  return el("button", {
    class: e.style || "", "data-action-id": e.action_id, "data-value": e.value || "",
    onclick: () => click(e, block, msg),
  }, e.text ? e.text.text : e.action_id);
}

async function click(e, block, msg) {
  if (e.confirm) {
    const ok = await confirmDialog(e.confirm);
    if (!ok) return;
  }
  await api("/playground/action", {
    user: state.user, channel: msg.channel, messageTS: msg.ts, actionID: e.action_id, blockID: block.block_id || "", value: e.value || "",
  });
  // The home tab shows the desk as it was: opening it again refreshes it.
  if (state.tab === "home") openHome();
}

// confirmDialog shows a Block Kit confirm object; it resolves true on confirm.
function confirmDialog(c) {
  return new Promise((resolve) => {
    const close = (v) => { $("#overlay").hidden = true; resolve(v); };
    const d = $("#dialog");
    d.replaceChildren(
      el("h2", {}, c.title ? c.title.text : "Are you sure?"),
      el("div", {}, textObject(c.text)),
      el("div", { class: "buttons" },
        el("button", { id: "confirm-deny", onclick: () => close(false) }, c.deny ? c.deny.text : "Cancel"),
        el("button", { id: "confirm-ok", class: c.style === "danger" ? "danger" : "primary", onclick: () => close(true) }, c.confirm ? c.confirm.text : "Confirm")),
    );
    $("#overlay").hidden = false;
  });
}

function inputBlock(b, view) {
  const e = b.element || {};
  return el("div", { class: "input", "data-block": b.block_id, "data-action": e.action_id, "data-type": e.type || "plain_text_input" },
    el("label", { for: "in-" + b.block_id }, b.label ? b.label.text : b.block_id, b.optional ? el("span", { class: "optional" }, " (optional)") : null),
    widget(e, b.block_id, view),
    b.hint ? el("div", { class: "hint" }, b.hint.text) : null,
    el("div", { class: "error", "data-error-for": b.block_id }));
}

function optionList(e) {
  const opts = [...(e.options || [])];
  for (const g of e.option_groups || []) opts.push(...(g.options || []));
  return opts;
}

// widget renders one input element of a modal. onPick, for a select in an
// actions block, is told each choice.
function widget(e, block, view, onPick) {
  const id = "in-" + block;
  const placeholder = e.placeholder ? e.placeholder.text : "";
  switch (e.type) {
    case "static_select":
    case "multi_static_select": {
      const sel = el("select", { id, ...(e.type === "multi_static_select" ? { multiple: "" } : {}) },
        e.type === "static_select" ? el("option", { value: "" }, placeholder || "Choose") : null,
        optionList(e).map((o) => el("option", { value: o.value }, o.text ? o.text.text : o.value)));
      const initial = [e.initial_option, ...(e.initial_options || [])].filter(Boolean).map((o) => o.value);
      for (const o of sel.options) o.selected = initial.includes(o.value);
      if (onPick) sel.addEventListener("change", () => onPick(sel.value));
      return sel;
    }
    case "checkboxes": {
      const initial = (e.initial_options || []).map((o) => o.value);
      return el("div", { id, class: "checkboxes" }, (e.options || []).map((o) => el("label", { class: "checkbox" },
        el("input", { type: "checkbox", value: o.value, ...(initial.includes(o.value) ? { checked: "" } : {}) }), " ", o.text ? o.text.text : o.value)));
    }
    case "conversations_select": {
      const sel = el("select", { id }, state.channels.map((c) => el("option", { value: channelID(c) }, "# " + c)));
      sel.value = channelID(state.channel);
      return sel;
    }
    case "external_select":
    case "multi_external_select":
      return combo(e, block, view, onPick);
    default: {
      const attrs = { id, placeholder, value: e.initial_value || "" };
      if (e.multiline) { const t = el("textarea", { id, placeholder, rows: 3 }); t.value = e.initial_value || ""; return t; }
      return el("input", attrs);
    }
  }
}

// combo is an external select: what is typed is sent to the bot's options
// URL (through the playground), and its answer is offered below.
function combo(e, block, view, onPick) {
  const multi = e.type === "multi_external_select";
  const initial = [e.initial_option, ...(e.initial_options || [])].filter(Boolean);
  const input = el("input", { id: "in-" + block, class: "combo", autocomplete: "off", placeholder: e.placeholder ? e.placeholder.text : "Type to search" });
  const chosen = el("div", { class: "chosen" });
  const list = el("div", { class: "options", hidden: "" });
  const box = el("div", { class: "combo-box", "data-selected": JSON.stringify(initial.map((o) => o.value)) }, input, chosen, list);
  const labels = new Map(initial.map((o) => [o.value, o.text ? o.text.text : o.value]));
  const showChosen = () => {
    const sel = JSON.parse(box.dataset.selected);
    if (multi) chosen.replaceChildren(...sel.map((v) => el("span", { class: "chip" }, labels.get(v) || v)));
    else input.value = sel.length ? labels.get(sel[0]) || sel[0] : input.value;
  };
  showChosen();
  let timer = null;
  const ask = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const res = await api("/playground/options", { user: state.user, viewID: view.id, blockID: block, actionID: e.action_id, value: input.value, values: modalValues() });
      const groups = res.option_groups || [{ options: res.options || [] }];
      list.replaceChildren(...groups.map((g) => el("div", { class: "group" },
        g.label ? el("div", { class: "group-label" }, g.label.text) : null,
        (g.options || []).map((o) => el("button", { type: "button", class: "option", "data-value": o.value, onclick: () => pick(o) },
          o.text ? o.text.text : o.value, o.description ? el("span", { class: "desc" }, " " + o.description.text) : null)))));
      list.hidden = false;
    }, 120);
  };
  const pick = (o) => {
    labels.set(o.value, o.text ? o.text.text : o.value);
    const sel = multi ? [...new Set([...JSON.parse(box.dataset.selected), o.value])] : [o.value];
    box.dataset.selected = JSON.stringify(sel);
    list.hidden = true;
    if (multi) input.value = "";
    showChosen();
    if (onPick) onPick(o.value);
  };
  input.addEventListener("input", () => { if (!multi) box.dataset.selected = "[]"; ask(); });
  input.addEventListener("focus", ask);
  return box;
}

// modalValues reads the open modal's inputs as the playground sends them:
// a string for a text field, else the element's type and what is chosen.
function modalValues() {
  const values = {};
  for (const w of document.querySelectorAll("#dialog .input[data-block]")) {
    const type = w.dataset.type;
    const node = w.querySelector("#in-" + CSS.escape(w.dataset.block)) || w;
    let v;
    switch (type) {
      case "static_select":
        v = { type, selected: node.value ? [node.value] : [] };
        break;
      case "multi_static_select":
        v = { type, selected: [...node.selectedOptions].map((o) => o.value) };
        break;
      case "checkboxes":
        v = { type, selected: [...w.querySelectorAll("input[type=checkbox]:checked")].map((c) => c.value) };
        break;
      case "conversations_select":
        v = { type, conversation: node.value };
        break;
      case "external_select":
      case "multi_external_select":
        v = { type, selected: JSON.parse(w.querySelector(".combo-box").dataset.selected) };
        break;
      default:
        v = node.value;
    }
    values[w.dataset.block] = { [w.dataset.action]: v };
  }
  return values;
}

// showModal renders an open modal for the current user.
let shownView = "";
function showModal(v) {
  // The bot may replace an open modal's content (views.update): its hash
  // changes, and it is drawn again.
  const key = v.id + ":" + (v.hash || "");
  if (shownView === key) return;
  shownView = key;
  const spec = v.view;
  const d = $("#dialog");
  const body = renderBlocks(spec.blocks, {}, v);
  d.replaceChildren(
    el("h2", {}, spec.title ? spec.title.text : "Modal"),
    ...body,
    el("div", { class: "buttons" },
      el("button", { id: "modal-cancel", onclick: async () => { await api("/playground/dismiss", { viewID: v.id }); closeModal(); } }, spec.close ? spec.close.text : "Cancel"),
      spec.submit ? el("button", { id: "modal-submit", class: "primary", onclick: () => submitModal(v) }, spec.submit.text) : null),
  );
  $("#overlay").hidden = false;
}

function closeModal() { $("#overlay").hidden = true; shownView = ""; }

async function submitModal(v) {
  for (const e of document.querySelectorAll("#dialog .error")) e.textContent = "";
  const res = await api("/playground/submit", { user: state.user, viewID: v.id, values: modalValues() });
  if (res.updated) return; // the modal shows its next step
  if (res.errors) {
    for (const [block, msg] of Object.entries(res.errors)) {
      const e = document.querySelector(`[data-error-for="${block}"]`);
      if (e) e.textContent = msg;
    }
    return;
  }
  closeModal();
}

function visible(m) { return !m.ephemeral || m.to === state.user; }

function renderMessage(m) {
  const who = m.bot ? "deskbot" : userName(m.to || "");
  const body = m.blocks && m.blocks.length ? renderBlocks(m.blocks, m) : [el("div", {}, textObject({ type: "mrkdwn", text: m.text }))];
  const node = el("div", { class: "msg" + (m.ephemeral ? " ephemeral" : ""), "data-ts": m.ts },
    el("div", { class: "who" }, who, el("span", { class: "meta" }, (m.ephemeral ? "only visible to you · " : "") + (m.edits ? "edited" : ""))),
    ...body);
  if (m.files && m.files.length) node.append(el("div", { class: "files" }, m.files.map((f) => "📎 " + f.name).join("  ")));
  if (m.reactions && m.reactions.length) node.append(el("div", { class: "reactions" }, m.reactions.map((r) => el("span", { "data-reaction": r }, EMOJI[r] || ":" + r + ":"))));
  return node;
}

// startPage greets a channel with nothing in it yet: commands to click.
function startPage() {
  return el("div", { id: "start" },
    el("div", { class: "block-header" }, "Try a command"),
    el("div", { class: "block-context" }, "Click one to send it, or type your own below. Pick who you are at the top right."),
    el("div", { class: "block-actions" }, TRY.map((c) => el("button", { class: "try", "data-command": c, onclick: () => send(c) }, c))));
}

// renderHome shows the user's App Home tab as the bot last published it.
function renderHome(list) {
  const h = state.homes[state.user];
  if (!h) { list.replaceChildren(el("div", { id: "home", class: "block-context" }, "Opening your App Home…")); return; }
  const spec = typeof h.view === "string" ? JSON.parse(h.view) : h.view;
  list.replaceChildren(el("div", { id: "home" }, renderBlocks(spec.blocks, { channel: "", ts: "" })));
}

function render() {
  const list = $("#messages");
  const home = state.tab === "home";
  $("#composer").hidden = home;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", home ? a.id === "home-tab" : a.dataset.channel === state.channel);
  if (home) renderHome(list);
  const ch = channelID(state.channel);
  const msgs = home ? [] : state.messages.filter((m) => m.channel === ch && visible(m));
  const roots = msgs.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
  if (!home && roots.length === 0) list.replaceChildren(startPage());
  else if (!home) list.replaceChildren(...roots.map((r) => {
    const replies = msgs.filter((m) => m.thread_ts === r.ts && m.ts !== r.ts);
    const node = renderMessage(r);
    if (replies.length) node.append(el("div", { class: "thread", "data-thread": r.ts }, replies.map(renderMessage)));
    return node;
  }));
  if (atBottom) list.scrollTop = list.scrollHeight;
  const open = state.views.find((v) => v.kind === "modal" && !v.closed && v.user === state.user);
  if (open) showModal(open);
  else if (shownView) closeModal();
}

async function refresh() {
  const s = await api("/playground/state");
  state.messages = s.messages || [];
  state.homes = s.homes || {};
  state.views = (s.views || []).map((v) => ({ ...v, view: typeof v.view === "string" ? JSON.parse(v.view) : v.view }));
  render();
}

// send sends what was typed as Slack would; whatever goes wrong is said
// in the conversation, as the bot's answers are.
async function send(text) {
  const res = await api("/playground/command", { user: state.user, channel: state.channel, text });
  if (res.error) $("#messages").append(el("div", { class: "msg ephemeral" }, el("div", { class: "who" }, "playground"), res.error));
}

// openHome shows the App Home tab: Slack tells the bot it was opened,
// and the bot publishes it afresh.
async function openHome() {
  state.tab = "home";
  render();
  await api("/playground/home", { user: state.user });
}

let pending = null;
function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; refresh(); }, 50);
}

async function start() {
  const cfg = await api("/playground/config");
  state.users = cfg.users || [];
  state.channels = cfg.channels || ["support"];
  state.bot = cfg.bot;
  const params = new URLSearchParams(location.search);
  state.user = params.get("as") ? (state.users.find((u) => u.name === params.get("as")) || state.users[0]).id : (state.users[0] || {}).id;
  state.channel = params.get("channel") || state.channels[0];
  const sel = $("#user");
  sel.replaceChildren(...state.users.map((u) => el("option", { value: u.id }, u.name)));
  sel.value = state.user;
  sel.addEventListener("change", () => { state.user = sel.value; shownView = ""; if (state.tab === "home") openHome(); render(); });
  $("#channels").replaceChildren(
    el("a", { href: "#", id: "home-tab", onclick: (e) => { e.preventDefault(); openHome(); } }, "🏠 App Home"),
    ...state.channels.map((c) => el("a", { href: "#", "data-channel": c, onclick: (e) => { e.preventDefault(); state.tab = "channel"; state.channel = c; render(); } }, "# " + c)));
  $("#composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("#text").value.trim();
    if (!text) return;
    $("#text").value = "";
    await send(text);
  });
  const es = new EventSource("/playground/events");
  es.onmessage = scheduleRefresh;
  await refresh();
  document.body.dataset.ready = "1";
}

start();
