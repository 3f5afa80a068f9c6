// wsloop/client on the runtime that runs this file, with that runtime's own global WebSocket
// (Node 20 needs --experimental-websocket): three messages sent before the socket opens go to
// the echo endpoint at $URL; prints `ECHOED [...]` with what came back, then closes.
import { connect } from "../../src/client.ts";

const url = process.env.URL;
if (!url) throw new Error("set URL");
const client = connect(url, {
  dependencies: null,
  onInit: () => [] as string[],
  onMessage: (echoes, message, client) => {
    const next = message.type === "text" ? [...echoes, message.text] : echoes;
    if (next.length === 3) client.close();
    return next;
  },
  onClose: (echoes, close) => {
    if (close.final) console.log(`ECHOED ${JSON.stringify(echoes)} ${close.code}`);
    return echoes;
  },
});
for (const text of ["one", "two", "three"]) client.sendText(text);
await client.closed;
process.exit(0);
