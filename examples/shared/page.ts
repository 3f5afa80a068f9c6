// The chat page: plain HTML and a few lines of script, no build step. It speaks the room protocol
// of room.ts: it joins /chat (or /chat/ROOM) and renders the JSON frames the room broadcasts.
export const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsloop chat</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  #log { border: 1px solid #ccc; border-radius: 4px; height: 20rem; overflow-y: auto; padding: .5rem; margin: 1rem 0; }
  #log p { margin: .2rem 0; }
  #log .event { color: #666; font-style: italic; }
  form { display: flex; gap: .5rem; }
  input[name=text] { flex: 1; }
  #status { color: #666; }
</style>
</head>
<body>
<h1>wsloop chat</h1>
<form id="join">
  <input name="user" placeholder="Your name" aria-label="Your name">
  <input name="room" placeholder="Room (lobby)" aria-label="Room">
  <button>Join</button>
</form>
<p id="status">Not connected.</p>
<div id="log" aria-live="polite"></div>
<form id="send"><input name="text" placeholder="Message" aria-label="Message" autocomplete="off" disabled> <button disabled>Send</button></form>
<script type="module">
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const join = document.getElementById("join");
  const send = document.getElementById("send");
  let socket;
  function line(text, className) {
    const p = document.createElement("p");
    p.textContent = text;
    if (className) p.className = className;
    log.append(p);
    log.scrollTop = log.scrollHeight;
  }
  function enable(on) {
    for (const el of send.elements) el.disabled = !on;
  }
  join.addEventListener("submit", (event) => {
    event.preventDefault();
    socket?.close();
    const user = join.elements.user.value.trim();
    const room = join.elements.room.value.trim();
    const url = new URL(room ? "/chat/" + encodeURIComponent(room) : "/chat", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (user) url.searchParams.set("user", user);
    const current = new WebSocket(url);
    socket = current;
    current.addEventListener("open", () => {
      status.textContent = "In " + (room || "lobby") + " as " + (user || "Anonymous") + ".";
      enable(true);
      send.elements.text.focus();
    });
    current.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "message") line(frame.user + ": " + frame.text);
      else if (frame.type === "notice") line(frame.text, "event");
      else line(frame.user + (frame.type === "joined" ? " joined" : " left"), "event");
    });
    current.addEventListener("close", (event) => {
      if (socket !== current) return;
      status.textContent = "Disconnected (" + event.code + ").";
      enable(false);
    });
  });
  send.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = send.elements.text;
    if (input.value && socket?.readyState === WebSocket.OPEN) socket.send(input.value);
    input.value = "";
  });
</script>
</body>
</html>
`;
