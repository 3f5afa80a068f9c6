// An echo server on a built wsloop (the dist/ directory given as the first argument), for
// bench/observe.ts: GET /cpu answers the process's CPU time so far in microseconds. Plain
// JavaScript, so that it runs any build, of any commit.
const dist = process.argv[2];
const { continueConnection, sendText, upgradeWebSocket } = await import(`${dist}/index.js`);
const { serve } = await import(`${dist}/node.js`);

const onMessage = (state, message, connection) => {
  if (message.type === "text") sendText(connection, message.text);
  return continueConnection(state);
};

const server = await serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(request) {
    if (new URL(request.url).pathname === "/cpu") {
      const { user, system } = process.cpuUsage();
      return new Response(String(user + system));
    }
    return upgradeWebSocket(request, { dependencies: null, idleTimeout: 0, onInit: () => [null], onMessage, onClose: () => {} });
  },
});
console.log(`READY ${server.port}`);
