// The chat page: HTML and CSS, no build step. Its script is examples/shared/chat.js (served at
// /chat.js), which talks to the room of room.ts through wsloop/client (served at /client.js).
export const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>wsloop chat</title>
<link rel="icon" href="data:,">
<style>
  :root {
    --bg: #f4f5f8; --panel: #fff; --text: #1c1f26; --muted: #6b7280; --line: #e3e5ea;
    --accent: #4f46e5; --accent-text: #fff; --bubble: #eef0f4; --ok: #16a34a; --warn: #d97706; --bad: #dc2626;
  }
  @media (prefers-color-scheme: dark) {
    :root { --bg: #111318; --panel: #1a1d24; --text: #e8eaf0; --muted: #9aa1ad; --line: #2a2e37; --bubble: #252933; }
  }
  * { box-sizing: border-box; }
  html, body { height: 100%; margin: 0; }
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
  button, input { font: inherit; color: inherit; }
  button { cursor: pointer; }
  [hidden] { display: none !important; }
  .app { height: 100%; display: flex; flex-direction: column; max-width: 64rem; margin: 0 auto; background: var(--panel); }
  @media (min-width: 64rem) { .app { border-inline: 1px solid var(--line); } }

  header { display: flex; align-items: center; gap: .75rem; padding: .6rem 1rem; border-bottom: 1px solid var(--line); min-width: 0; }
  .brand { font-weight: 700; letter-spacing: -.01em; white-space: nowrap; }
  .brand b { color: var(--accent); }
  .room-name { color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; flex: 1; }
  .status { display: inline-flex; align-items: center; gap: .4rem; font-size: 13px; color: var(--muted); white-space: nowrap; }
  .status i { width: .55rem; height: .55rem; border-radius: 50%; background: var(--muted); flex: none; }
  .status[data-state=open] i { background: var(--ok); }
  .status[data-state=connecting] i, .status[data-state=waiting] i { background: var(--warn); animation: pulse 1s ease-in-out infinite alternate; }
  .status[data-state=closed] i { background: var(--bad); }
  @keyframes pulse { to { opacity: .3; } }
  .link { background: none; border: 0; padding: 0; color: var(--accent); font-size: 13px; text-decoration: underline; }
  .ghost { background: none; border: 1px solid var(--line); border-radius: 999px; padding: .2rem .7rem; font-size: 13px; white-space: nowrap; }

  .join { margin: auto; width: min(24rem, 100% - 2rem); padding: 1.5rem; border: 1px solid var(--line); border-radius: 12px; }
  .join h1 { margin: 0 0 .25rem; font-size: 1.3rem; }
  .join p { margin: 0 0 1rem; color: var(--muted); }
  .join label { display: block; font-size: 13px; color: var(--muted); margin: .75rem 0 .25rem; }
  input { width: 100%; padding: .6rem .75rem; border: 1px solid var(--line); border-radius: 8px; background: var(--bg); min-width: 0; }
  input:focus { outline: 2px solid var(--accent); outline-offset: -1px; }
  .primary:disabled { opacity: .5; cursor: default; }
  .primary { background: var(--accent); color: var(--accent-text); border: 0; border-radius: 8px; padding: .6rem 1.1rem; font-weight: 600; }
  .join .primary { width: 100%; margin-top: 1.25rem; }
  .fatal { margin: 1rem; padding: .75rem 1rem; border-radius: 8px; background: #fde8e8; color: #7f1d1d; }

  .chat { flex: 1; display: grid; grid-template-columns: minmax(0, 1fr) 14rem; grid-template-rows: minmax(0, 1fr) auto; min-height: 0; }
  .log { list-style: none; margin: 0; padding: 1rem; overflow-y: auto; display: flex; flex-direction: column; gap: .5rem; }
  .people { grid-row: 1 / 3; grid-column: 2; border-left: 1px solid var(--line); padding: 1rem; overflow-y: auto; }
  .people h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 .75rem; }
  .people ul { list-style: none; margin: 0; padding: 0; display: grid; gap: .5rem; }
  .people li { display: flex; align-items: center; gap: .5rem; min-width: 0; }
  .people li span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .people small, .hint { color: var(--muted); font-size: 12px; }
  .hint { margin: 1rem 0 0; }
  .avatar { flex: none; width: 1.9rem; height: 1.9rem; border-radius: 50%; display: grid; place-items: center; color: #fff; font-size: 12px; font-weight: 700; }

  .msg { display: flex; gap: .5rem; align-items: flex-end; max-width: 85%; }
  .msg .bubble { background: var(--bubble); border-radius: 14px 14px 14px 4px; padding: .4rem .75rem; min-width: 0; }
  .msg .meta { display: flex; gap: .5rem; align-items: baseline; font-size: 12px; color: var(--muted); }
  .msg .meta time { white-space: nowrap; flex: none; }
  .msg .who { font-weight: 600; color: var(--text); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .msg .body { white-space: pre-wrap; overflow-wrap: anywhere; }
  .msg.mine { align-self: flex-end; flex-direction: row-reverse; }
  .msg.mine .bubble { background: var(--accent); color: var(--accent-text); border-radius: 14px 14px 4px 14px; }
  .msg.mine .meta, .msg.mine .who { color: inherit; opacity: .85; }
  .msg.pending .bubble { opacity: .6; }
  .msg.failed .bubble { background: transparent; color: var(--bad); border: 1px dashed var(--bad); }
  .msg .state { font-size: 12px; }
  .event { align-self: center; font-size: 12px; color: var(--muted); text-align: center; overflow-wrap: anywhere; }
  .event.notice { color: var(--bad); }

  .composer { grid-column: 1; display: flex; gap: .5rem; padding: .75rem 1rem; border-top: 1px solid var(--line); }

  @media (max-width: 40rem) {
    header { padding: .5rem .75rem; gap: .5rem; flex-wrap: wrap; }
    .app.chatting .brand { display: none; }
    .room-name { font-weight: 600; color: var(--text); }
    .chat { grid-template-columns: minmax(0, 1fr); position: relative; }
    .people { grid-area: auto; position: absolute; inset: 0 0 auto auto; width: min(16rem, 85%); max-height: 70%; background: var(--panel);
      border: 1px solid var(--line); border-radius: 0 0 0 12px; box-shadow: 0 8px 24px rgb(0 0 0 / .15); z-index: 1; }
    .people:not(.open) { display: none; }
    .composer { padding: .6rem .75rem; }
    .log { padding: .75rem; }
  }
  @media (min-width: 40.01rem) { #people-toggle { display: none; } }
</style>
</head>
<body>
<div class="app" id="app">
  <header>
    <div class="brand"><b>ws</b>loop chat</div>
    <div class="room-name" id="room-name"></div>
    <button class="ghost" id="people-toggle" type="button" aria-controls="people" aria-expanded="false" hidden>
      <span id="people-count">0</span> here
    </button>
    <span class="status" id="status" data-state="idle" role="status"><i></i><span id="status-text">Not connected</span></span>
    <button class="link" id="retry" type="button" hidden>Retry now</button>
    <button class="ghost" id="leave" type="button" hidden>Leave</button>
  </header>

  <form class="join" id="join">
    <h1>Join a room</h1>
    <p>Messages reach everyone in the room. Reconnects by itself if the server restarts.</p>
    <label for="user">Your name</label>
    <input id="user" name="user" maxlength="40" placeholder="Ann" autocomplete="nickname">
    <label for="room">Room</label>
    <input id="room" name="room" maxlength="64" placeholder="lobby">
    <button class="primary" disabled>Join</button>
  </form>

  <main class="chat" id="chat" hidden>
    <ol class="log" id="log" aria-live="polite" aria-label="Messages"></ol>
    <aside class="people" id="people" aria-label="People in the room">
      <h2>In the room</h2>
      <ul id="people-list"></ul>
      <p class="hint">Listed from who joined since you did, and who writes.</p>
    </aside>
    <form class="composer" id="send">
      <input name="text" placeholder="Message" aria-label="Message" autocomplete="off" maxlength="4000">
      <button class="primary">Send</button>
    </form>
  </main>
</div>
<script type="module" src="/chat.js"></script>
</body>
</html>
`;
