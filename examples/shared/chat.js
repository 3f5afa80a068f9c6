// The chat page's script (served at /chat.js). It joins a room of room.ts through wsloop/client,
// served at /client.js (in your project: `import { connect } from "wsloop/client"` and bundle it,
// or serve node_modules/wsloop/dist/client.js, which is one self-contained file).
// The room's protocol: the page sends plain text; every frame the room sends is JSON
// {"type": "joined" | "message" | "left" | "notice", "user", "text"}.

const $ = (selector) => document.querySelector(selector);
const ui = {
  app: $("#app"),
  join: $("#join"),
  chat: $("#chat"),
  log: $("#log"),
  people: $("#people"),
  peopleList: $("#people-list"),
  peopleCount: $("#people-count"),
  peopleToggle: $("#people-toggle"),
  status: $("#status"),
  statusText: $("#status-text"),
  retry: $("#retry"),
  leave: $("#leave"),
  roomName: $("#room-name"),
  send: $("#send"),
};

let connect;
try {
  ({ connect } = await import("/client.js"));
} catch {
  const fatal = document.createElement("p");
  fatal.className = "fatal";
  fatal.textContent = "The chat client (/client.js) did not load. Run `npm run build` and restart the server.";
  ui.join.replaceWith(fatal);
}

/** The room's frames, as a Standard Schema: wsloop/client checks every text frame with it. */
const RoomFrame = {
  "~standard": {
    version: 1,
    vendor: "wsloop-chat",
    validate: (value) =>
      value !== null &&
      typeof value === "object" &&
      ["joined", "message", "left", "notice"].includes(value.type) &&
      typeof value.user === "string" &&
      typeof value.text === "string"
        ? { value }
        : { issues: [{ message: "not a room frame" }] },
  },
};

const time = () => new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function avatar(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)) | 0;
  const node = element("span", "avatar", [...name][0]?.toUpperCase() ?? "?");
  node.style.background = `hsl(${Math.abs(hash) % 360} 55% 45%)`;
  node.setAttribute("aria-hidden", "true");
  return node;
}

/** Appends to the log, keeping it scrolled to the bottom if it was. */
function append(node) {
  const atBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
  ui.log.append(node);
  if (atBottom) ui.log.scrollTop = ui.log.scrollHeight;
  return node;
}

const view = {
  event(text, className = "") {
    const node = element("li", `event ${className}`);
    node.append(element("span", "what", text), " · ", element("time", "", time()));
    append(node);
  },
  message(user, text, mine) {
    const node = element("li", `msg${mine ? " mine" : ""}`);
    const bubble = element("div", "bubble");
    const meta = element("div", "meta");
    meta.append(element("span", "who", mine ? "You" : user), element("time", "", time()));
    bubble.append(meta, element("div", "body", text));
    node.append(avatar(user), bubble);
    return append(node);
  },
  people(roster, me) {
    ui.peopleList.replaceChildren(
      ...[...roster.keys()]
        .sort((a, b) => (a === me ? -1 : b === me ? 1 : a.localeCompare(b)))
        .map((name) => {
          const item = element("li");
          item.append(avatar(name), element("span", "", name));
          if (name === me) item.append(element("small", "", "you"));
          return item;
        }),
    );
    ui.peopleCount.textContent = String(roster.size);
  },
};

/** Own messages waiting for the room's echo: shown greyed until it comes back. */
function pendingMessage(me, text, status) {
  const node = view.message(me, text, true);
  node.classList.add("pending");
  const label = element("div", "state");
  node.querySelector(".bubble").append(label);
  const entry = { text, node, label, status };
  setPendingStatus(entry, status);
  return entry;
}

function setPendingStatus(entry, status) {
  entry.status = status;
  if (status === "failed") {
    entry.node.classList.replace("pending", "failed");
    entry.label.textContent = "Not delivered · ";
    const retry = element("button", "link", "Send again");
    retry.type = "button";
    retry.addEventListener("click", () => {
      entry.node.remove();
      submit(entry.text);
    });
    entry.label.append(retry);
  } else entry.label.textContent = status === "queued" ? "Waiting for connection…" : "Sending…";
}

// The client's loop. Its state is who is in the room (name → open connections) and whether a
// connection has opened before; its dependencies are the view and the own messages waiting for
// the room's echo (which the send form adds to).
function handleOpen(state, _client, deps) {
  deps.onStatus();
  if (state.everOpened) deps.view.event("Reconnected");
  // The queue went out before onOpen runs: those messages are on their way now.
  for (const entry of deps.pending) if (entry.status === "queued") setPendingStatus(entry, "sent");
  // What the room says from now on rebuilds the list; our own "joined" comes first.
  deps.view.people(new Map(), deps.me);
  return { everOpened: true, roster: new Map() };
}

function handleMessage(state, message, _client, deps) {
  if (message.type === "invalid") {
    console.warn("not a room frame:", message.text, message.error);
    return state;
  }
  if (message.type !== "json") return state;
  const frame = message.value;
  const roster = new Map(state.roster);
  const count = roster.get(frame.user) ?? 0;
  switch (frame.type) {
    case "joined":
      roster.set(frame.user, count + 1);
      deps.view.event(frame.user === deps.me ? "You joined" : `${frame.user} joined`);
      break;
    case "left":
      if (count > 1) roster.set(frame.user, count - 1);
      else roster.delete(frame.user);
      deps.view.event(`${frame.user} left`);
      break;
    case "notice": {
      // The room could not take a message of ours: the oldest one still sending is the one.
      deps.view.event(frame.text, "notice");
      const entry = deps.pending.find((candidate) => candidate.status === "sent");
      if (entry) setPendingStatus(entry, "failed");
      return state;
    }
    case "message": {
      if (!count) roster.set(frame.user, 1);
      const mine = frame.user === deps.me;
      const index = mine ? deps.pending.findIndex((entry) => entry.status !== "failed" && entry.text === frame.text) : -1;
      if (index >= 0) deps.pending.splice(index, 1)[0].node.remove();
      deps.view.message(frame.user, frame.text, mine);
      break;
    }
  }
  deps.view.people(roster, deps.me);
  return { ...state, roster };
}

function handleClose(state, close, deps) {
  // What went out on the socket that ended may not have reached the room: let the user resend it.
  for (const entry of deps.pending) if (entry.status === "sent" || close.final) setPendingStatus(entry, "failed");
  deps.onStatus(close);
  if (close.final) deps.onLeft(close);
  else if (close.opened) deps.view.event("Connection lost");
  return state;
}

// Wiring the page to the client.
let client;
let deps;
let retryAt = 0;
let ticker;

function renderStatus() {
  if (!client) return;
  const status = client.status;
  const text = {
    connecting: "Connecting…",
    open: "Connected",
    waiting: `Reconnecting in ${Math.max(1, Math.ceil((retryAt - Date.now()) / 1000))} s`,
    closed: "Disconnected",
  }[status];
  ui.status.dataset.state = status;
  if (ui.statusText.textContent !== text) ui.statusText.textContent = text;
  ui.retry.hidden = status !== "waiting";
  ui.send.elements.text.placeholder = status === "open" ? "Message" : "Offline: messages are sent on reconnect";
}

function join(user, room) {
  const url = new URL(room === "lobby" ? "/chat" : `/chat/${encodeURIComponent(room)}`, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("user", user);
  ui.roomName.textContent = `# ${room}`;
  ui.log.replaceChildren();
  view.people(new Map(), user);
  deps = {
    me: user,
    view,
    pending: [],
    onStatus(close) {
      if (close?.reconnectIn !== undefined) retryAt = Date.now() + close.reconnectIn;
      renderStatus();
    },
    onLeft(close) {
      clearInterval(ticker);
      if (close.reason !== "left") view.event(`Disconnected (${close.code}${close.reason ? `: ${close.reason}` : ""})`, "notice");
    },
  };
  client = connect(url, {
    dependencies: deps,
    receive: RoomFrame,
    // The room's maxMessageSize: a larger message is refused here rather than closing the socket.
    maxMessageSize: 64 * 1024,
    backoff: { base: 500, cap: 10_000 },
    queue: { maxMessages: 50 },
    onInit: () => ({ everOpened: false, roster: new Map() }),
    onOpen: handleOpen,
    onMessage: handleMessage,
    onClose: handleClose,
  });
  ticker = setInterval(renderStatus, 250);
  renderStatus();
  ui.join.hidden = true;
  ui.chat.hidden = ui.leave.hidden = ui.peopleToggle.hidden = false;
  ui.app.classList.add("chatting");
  ui.send.elements.text.focus();
}

function submit(text) {
  const result = client.sendText(text);
  if (result.ok) {
    deps.pending.push(pendingMessage(deps.me, text, result.value));
    return;
  }
  const why = {
    queue_full: "You are offline and too many messages are waiting. Try again once reconnected.",
    too_large: "That message is too long.",
    closed: "You left the room.",
  }[result.error.type];
  view.event(why ?? `Not sent (${result.error.type})`, "notice");
}

ui.join.addEventListener("submit", (event) => {
  event.preventDefault();
  const user = ui.join.elements.user.value.trim() || "Anonymous";
  const room = ui.join.elements.room.value.trim() || "lobby";
  localStorage.setItem("wsloop-chat-user", user);
  history.replaceState(null, "", room === "lobby" ? location.pathname : `#${encodeURIComponent(room)}`);
  join(user, room);
});
// Prefilled unless the user typed already (this script may run after the page shows).
ui.join.elements.user.value ||= localStorage.getItem("wsloop-chat-user") ?? "";
ui.join.elements.room.value ||= decodeURIComponent(location.hash.slice(1));

ui.send.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = ui.send.elements.text;
  if (input.value.trim()) submit(input.value);
  input.value = "";
});
ui.retry.addEventListener("click", () => client?.reconnectNow());
ui.leave.addEventListener("click", () => {
  client?.close(1000, "left");
  ui.chat.hidden = ui.leave.hidden = ui.peopleToggle.hidden = ui.retry.hidden = true;
  ui.join.hidden = false;
  ui.app.classList.remove("chatting");
  ui.roomName.textContent = "";
  ui.status.dataset.state = "idle";
  ui.statusText.textContent = "Not connected";
});
ui.peopleToggle.addEventListener("click", () => {
  const open = ui.people.classList.toggle("open");
  ui.peopleToggle.setAttribute("aria-expanded", String(open));
});
// Ready: the form had no handler until now, so its button was off.
ui.join.querySelector("button").disabled = false;
